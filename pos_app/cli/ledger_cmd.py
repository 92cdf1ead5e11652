"""Checking and reading the records: `verify` (the ledger) and `audit` (the audit trail)."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

import click

from pos_app.cli import exit_codes
from pos_app.cli.invocation import Invocation
from pos_app.cli.number_params import WholeNumber
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.output import Row
from pos_app.cli.progress_display import StderrProgress
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.services.audit import list_audit
from pos_app.services.verify import VerifyReport, verify_ledger

_LONG_NUMBER = re.compile(r"\d{8,}")


def report_fields(report: VerifyReport) -> dict[str, Any]:
    first = report.first_bad_entry
    return {
        "ok": report.ok,
        "entries": report.entries,
        "cards": report.cards,
        "members": report.members,
        "first_bad_entry": asdict(first) if first else None,
        "problems": [asdict(p) for p in report.problems],
    }


def report_rows(report: VerifyReport) -> list[Row]:
    rows: list[Row] = [
        ("结果 Result", "通过 OK" if report.ok else f"发现 {len(report.problems)} 个问题 problems"),
        ("账本记录 Entries", report.entries),
        ("会员卡 Cards", report.cards),
        ("会员 Members", report.members),
    ]
    first = report.first_bad_entry
    if first is not None:
        rows.append(("首个错误记录 First bad entry", f"#{first.store_seq} {first.entry_id}"))
    return rows


@click.command()
@click.pass_obj
def verify(inv: Invocation) -> None:
    """校验账本 Check the hash chain and recompute every balance from the ledger.

    Exits 0 when everything checks out, 3 when there are problems (no operator needed).
    """
    ctx = inv.store()
    with StderrProgress("校验 Verifying, entries:") as progress:
        report = verify_ledger(ctx, progress=progress)
    inv.out.result(
        report_fields(report),
        report_rows(report),
        title="账本校验 Ledger verify",
        tables=[]
        if report.ok
        else [
            (
                "问题 Problems",
                ["位置 Where", "问题 Problem"],
                [[p.where, p.message] for p in report.problems],
            )
        ],
    )
    if not report.ok:
        raise click.exceptions.Exit(exit_codes.VERIFY_FAILED)


def _masked(text: str | None) -> str | None:
    """Audit targets hold card numbers other people typed: show them masked."""
    if text is None:
        return None
    return _LONG_NUMBER.sub(lambda m: mask_card_no(m.group(0)), text)


@click.command()
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=WholeNumber(1, 10_000, "条数", "limit"),
    help="最多显示条数 How many events, newest first",
)
@operator_options()
@click.pass_obj
def audit(inv: Invocation, limit: int, creds: Credentials) -> None:
    """审计日志 The audit trail of sensitive operations, newest first (managers)."""
    actor = signed_in(inv, creds)
    rows = list_audit(inv.store(), actor, limit=limit)
    events = [{**asdict(r), "target": _masked(r.target), "detail": _masked(r.detail)} for r in rows]
    inv.out.result(
        {"count": len(events), "events": events},
        title=f"审计日志 Audit trail ({len(events)})",
        tables=[
            (
                "",
                ["时间 At (UTC)", "操作 Action", "结果 Outcome", "对象 Target", "详情 Detail"],
                [
                    [
                        e["at"][:19].replace("T", " "),
                        e["action"],
                        e["outcome"],
                        e["target"],
                        e["detail"],
                    ]
                    for e in events
                ],
            )
        ],
    )
