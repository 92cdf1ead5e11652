"""Checking and reading the records: `verify` (the ledger) and `audit` (the audit trail)."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from pos_app.cli import exit_codes
from pos_app.cli.invocation import Invocation
from pos_app.cli.number_params import WholeNumber
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.output import Row
from pos_app.cli.progress_display import StderrProgress
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.services.audit import list_audit
from pos_app.services.integrity_alarm import Alarm
from pos_app.services.store_check import acknowledge_problems, check_store
from pos_app.services.verify import VerifyReport, unreadable

_LONG_NUMBER = re.compile(r"\d{8,}")


def report_fields(report: VerifyReport) -> dict[str, Any]:
    first = report.first_bad_entry
    return {
        "ok": report.ok,
        "entries": report.entries,
        "cards": report.cards,
        "members": report.members,
        "integrity_ok": report.integrity_ok,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "till": report.till_id,
        "hq_acked_seq": report.hq_acked_seq,
        "seconds": round(report.seconds, 3),
        "first_bad_entry": asdict(first) if first else None,
        "problem_count": report.problem_count,
        "problems": [asdict(p) for p in report.problems],
        "notes": report.notes,
    }


def report_rows(report: VerifyReport) -> list[Row]:
    rows: list[Row] = [
        ("结果 Result", "通过 OK" if report.ok else f"发现 {len(report.problems)} 个问题 problems"),
    ]
    if report.till_id:
        rows.append(("收银机 Till", report.till_id))
    rows += [
        ("账本记录 Entries", report.entries),
        ("会员卡 Cards", report.cards),
        ("会员 Members", report.members),
    ]
    first = report.first_bad_entry
    if first is not None:
        rows.append(
            ("首个错误记录 First bad entry", f"#{first.store_seq} {first.entry_id or ''}".strip())
        )
    if report.head_seq:
        rows.append(("账本末条 Head", f"#{report.head_seq} {report.head_hash[:16]}"))
    if report.hq_acked_seq:
        rows.append(("总部已确认 HQ acknowledged", f"#{report.hq_acked_seq}"))
    rows.append(("用时 Took", f"{report.seconds:.1f} s"))
    return rows


def _alarm_rows(alarm: Alarm | None, cleared: bool) -> list[Row]:
    if cleared:
        return [("告警 Alarm", "已解除 lowered: value moves are allowed again")]
    if alarm is None:
        return []
    if alarm.is_open:
        return [("告警 Alarm", "收款等操作已暂停 value moves paused (restore or acknowledge)")]
    return [
        (
            "告警 Alarm",
            f"已确认 acknowledged by {alarm.acknowledged_by} {alarm.acknowledged_at or ''}"[:80],
        )
    ]


@click.command()
@click.option(
    "--acknowledge",
    "reason",
    metavar="REASON",
    help="店长确认发现的问题，恢复收款（需要 --operator） A manager acknowledges the problems "
    "found, so the store records again (needs --operator)",
)
@operator_options()
@click.pass_obj
def verify(inv: Invocation, reason: str | None, creds: Credentials) -> None:
    """校验账本 Check the database, the sealed hash chain and every balance.

    Exits 0 when everything checks out, 3 when there are problems (no operator needed).
    Problems pause payments, top-ups, points and refunds until a manager restores a
    backup (`pos-app backup restore`) or acknowledges them (`--acknowledge REASON`).
    """
    try:
        ctx = inv.store()
    except (sqlite3.DatabaseError, DBAPIError) as exc:
        # Not even a database any more: that is verify's finding, not a crash.
        _show(inv, unreadable(exc), None, cleared=False)
        raise click.exceptions.Exit(exit_codes.VERIFY_FAILED) from None
    actor = signed_in(inv, creds) if reason is not None else None
    with StderrProgress("校验 Verifying, entries:") as progress:
        check = check_store(ctx, progress=progress)
    report, alarm = check.report, check.alarm
    if actor is not None and reason is not None and not report.ok:
        alarm = acknowledge_problems(ctx, actor, reason)
    _show(inv, report, alarm, check.cleared)
    if not report.ok:
        raise click.exceptions.Exit(exit_codes.VERIFY_FAILED)


def _show(inv: Invocation, report: VerifyReport, alarm: Alarm | None, cleared: bool) -> None:
    fields = report_fields(report)
    fields["alarm"] = asdict(alarm) if alarm else None
    inv.out.result(
        fields,
        report_rows(report) + _alarm_rows(alarm, cleared),
        title="账本校验 Ledger verify",
        tables=[]
        if report.ok
        else [
            (
                "问题 Problems",
                ["位置 Where", "问题 Problem"],
                [[p.where, f"{p.zh} {p.message}" if p.zh else p.message] for p in report.problems],
            )
        ],
    )


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
