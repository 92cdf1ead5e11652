"""Sync with HQ: `pos-app sync setup | push | pull | status | restore`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from pos_app.cli import exit_codes
from pos_app.cli.invocation import Invocation
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.output import Row
from pos_app.cli.progress_display import StderrProgress
from pos_app.domain.errors import AlreadyExists


@click.group()
def sync() -> None:
    """同步总部 Sync with HQ: connect the till, push its records, status, restore."""


@sync.command("setup")
@click.option("--hq", "hq_url", required=True, metavar="URL", help="总部地址 HQ's address")
@click.option(
    "--token", required=True, metavar="T", help="总部发的一次性登记令牌 HQ's one-time token"
)
@click.option(
    "--ca",
    "ca_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="总部的 CA 证书文件（默认用系统证书） HQ's CA certificate file (system CAs if none)",
)
@click.option(
    "--reenroll", is_flag=True, help="已连接时重新登记（换新密钥） Enroll again with a new key"
)
@operator_options()
@click.pass_obj
def sync_setup(
    inv: Invocation,
    hq_url: str,
    token: str,
    ca_file: Path | None,
    reenroll: bool,
    creds: Credentials,
) -> None:
    """连接总部 Enroll this till with HQ (a manager; the token comes from pos-hq till enroll)."""
    from pos_app.services.sync_setup import setup

    actor = signed_in(inv, creds)
    result = setup(inv.store(), actor, hq_url, token, ca_file, reenroll=reenroll)
    rows: list[Row] = [
        ("收银机 Till", result.till_id),
        ("门店 Store", result.store_code),
        ("总部 HQ", result.hq_url),
        ("总部已确认 HQ holds up to", f"#{result.acked_seq}"),
    ]
    inv.out.result(asdict(result), rows, title="已连接总部 Connected to HQ")


@sync.command("push")
@click.pass_obj
def sync_push(inv: Invocation) -> None:
    """推送 Send HQ every record it does not hold yet.

    Exits 0 when HQ holds everything, 4 when HQ cannot be reached (the records wait on the
    till), 3 when HQ holds a different history of this till (a fork: pushing stops), 1 when
    HQ refuses for another reason.
    """
    from pos_app.sync.pusher import PushResult, push

    ctx = inv.store()
    with StderrProgress("推送 Pushing:") as bar:
        outcome = push(ctx, progress=bar)
    data: dict[str, Any] = {**asdict(outcome), "ok": outcome.ok}
    message = outcome.error_en if inv.lang.startswith("en") else outcome.error_zh
    if outcome.result is PushResult.DONE:
        rows: list[Row] = [
            ("已发送记录 Entries sent", outcome.sent_entries),
            ("已发送数据行 Rows sent", outcome.sent_rows),
            ("批次 Batches", outcome.batches),
            ("总部已确认 HQ holds up to", f"#{outcome.acked_seq}"),
            ("待同步 Pending", outcome.pending),
        ]
        inv.out.result(data, rows, title="总部已收齐 HQ holds everything")
        return
    if outcome.result is PushResult.UNREACHABLE:
        inv.out.note(
            f"连不上总部，{outcome.pending} 条待同步，稍后再试 / HQ cannot be reached: "
            f"{outcome.pending} pending, try again later"
        )
        code = exit_codes.HQ_UNREACHABLE
    elif outcome.result is PushResult.FORK:
        inv.out.note(
            f"账本分叉：总部在 #{outcome.fork_seq} 持有不同的记录，同步已停止，请联系总部 / "
            f"Fork: HQ holds a different entry at #{outcome.fork_seq}; sync stopped, call HQ"
        )
        code = exit_codes.SYNC_FORK
    else:
        code = exit_codes.REFUSED
    if message:
        inv.out.complain(message)
    if inv.as_json:
        inv.out.result(data)
    raise click.exceptions.Exit(code)


@sync.command("pull")
@click.pass_obj
def sync_pull(inv: Invocation) -> None:
    """拉取 Take HQ's news: the chain's members, cards, balances and card states.

    Exits 0 when everything HQ had is applied, 4 when HQ cannot be reached (the till keeps
    what it knew), 1 when HQ refuses. With --json one object: items, cursor, pulled_at.
    """
    from pos_app.sync.puller import PullResult, pull

    ctx = inv.store()
    with StderrProgress("拉取 Pulling:") as bar:
        outcome = pull(ctx, progress=bar)
    data: dict[str, Any] = {
        "items": outcome.items,
        "applied": outcome.applied,
        "cursor": outcome.cursor,
        "pulled_at": outcome.pulled_at,
        "ok": outcome.ok,
        "result": outcome.result.value,
        "error_code": outcome.error_code,
    }
    if outcome.result is PullResult.DONE:
        rows: list[Row] = [
            ("收到 Items received", outcome.items),
            ("已应用 Applied", outcome.applied),
            ("下行位置 Feed cursor", f"#{outcome.cursor}"),
            ("拉取时间 Pulled at (UTC)", _time(outcome.pulled_at)),
        ]
        inv.out.result(data, rows, title="已取回总部数据 Up to date with HQ")
        return
    message = outcome.error_en if inv.lang.startswith("en") else outcome.error_zh
    if outcome.result is PullResult.UNREACHABLE:
        inv.out.note(
            f"连不上总部，上次取回：{_time(outcome.pulled_at)} / HQ cannot be reached; "
            f"last heard {_time(outcome.pulled_at)}"
        )
        code = exit_codes.HQ_UNREACHABLE
    else:
        code = exit_codes.REFUSED
    if message:
        inv.out.complain(message)
    if inv.as_json:
        inv.out.result(data)
    raise click.exceptions.Exit(code)


@sync.command("status")
@click.pass_obj
def sync_status(inv: Invocation) -> None:
    """同步状态 Where sync stands: pending records, HQ's acknowledged head, last success."""
    from pos_app.sync.status import sync_status as status_of

    status = status_of(inv.store())
    data = asdict(status)
    data["last_ok"] = status.last_ok
    error = status.last_error if inv.lang.startswith("en") else status.last_error_zh
    rows: list[Row] = [
        ("已连接 Configured", "是 yes" if status.configured else "否 no"),
        ("收银机 Till", status.till_id or "—"),
        ("总部 HQ", status.hq_url or "—"),
        ("待同步 Pending", status.pending),
        ("本机账本末条 Local head", f"#{status.head_seq}"),
        ("总部已确认 HQ holds up to", f"#{status.acked_seq}"),
        ("上次成功 Last success (UTC)", _time(status.last_ok)),
        ("总部不可达自 HQ unreachable since", _time(status.unreachable_since)),
        ("账本分叉 Fork at", "—" if status.fork_seq is None else f"#{status.fork_seq}"),
        ("最近错误 Last error", error or "—"),
        ("上次取回 Last pulled (UTC)", _time(status.pulled_at)),
        ("下行位置 Feed cursor", f"#{status.feed_cursor}"),
    ]
    inv.out.result(data, rows, title="同步状态 Sync status")


def _time(iso_utc: str | None) -> str:
    return iso_utc[:19].replace("T", " ") if iso_utc else "—"


@sync.command("restore")
@click.option("--hq", "hq_url", required=True, metavar="URL", help="总部地址 HQ's address")
@click.option(
    "--token",
    required=True,
    metavar="T",
    help="总部重发的登记令牌（pos-hq till enroll --till …） HQ's re-enrollment token",
)
@click.option(
    "--ca",
    "ca_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="总部的 CA 证书文件（默认用系统证书） HQ's CA certificate file (system CAs if none)",
)
@click.option(
    "--till",
    "till_id",
    metavar="ID",
    help="收银机编号（默认由令牌决定） The till's id (by default the token's)",
)
@click.pass_obj
def sync_restore(
    inv: Invocation, hq_url: str, token: str, ca_file: Path | None, till_id: str | None
) -> None:
    """从总部恢复 Rebuild this till from HQ's copy into an empty data folder.

    For a till whose disk died: HQ issues a token for the till again (pos-hq till enroll
    --store SH01 --till SH01-01); the database is rebuilt from HQ, verified, and continues
    the same chain. The store gets a new key file (the old one is lost). Exits 0 when the
    restored store verifies, 3 when it does not.
    """
    from pos_app.services.sync_restore import restore_from_hq

    if inv.has_store_file():
        raise AlreadyExists(
            f"数据目录 {inv.data_dir} 里已经有门店数据库；从总部恢复只能恢复到空的数据目录",
            f"The data folder {inv.data_dir} already holds a store database; a restore from "
            "HQ goes into an empty data folder only",
            code="sync_restore_not_empty",
        )
    inv.start_logging()
    with (
        StderrProgress("数据行 Rows:") as rows_bar,
        StderrProgress("账本记录 Entries fetched:") as entries_bar,
    ):

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "rows":
                rows_bar(done)
            else:
                entries_bar(done, total)

        result, ctx = restore_from_hq(
            inv.data_dir, hq_url, token, ca_file, till_id=till_id, progress=progress
        )
    inv.adopt(ctx)
    rows: list[Row] = [
        ("收银机 Till", result.till_id),
        ("门店 Store", result.store_code),
        ("总部 HQ", result.hq_url),
        ("账本记录 Entries", result.entries),
        ("数据行 Rows", result.rows),
        ("总部确认位置 HQ's head", f"#{result.head_seq}"),
        ("本机账本末条 Local head", f"#{result.new_head_seq}"),
        ("校验 Verified", "通过 OK" if result.verified else "未通过 FAILED"),
    ]
    inv.out.result(asdict(result), rows, title="已从总部恢复 Restored from HQ")
    if not result.verified:
        for problem in result.problems:
            inv.out.note(problem)
        raise click.exceptions.Exit(exit_codes.VERIFY_FAILED)
