"""`pos-hq`: the HQ's admin command line (issue 13's CLI contract).

Exit codes, as `pos-app`'s: 0 done, 1 refused (already exists, not found, database
unreachable), 2 invalid input or usage, 3 `verify` found problems. With --json the result is
one JSON object on stdout; a refusal prints {"error": CODE, "message": TEXT} there and its
message on stderr, in Chinese and English.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hq import admin, clearing_export, migrate
from hq import clearing as clearing_svc
from hq import conflicts as conflict_svc
from hq.card_balances import verify_cards
from hq.chain_verify import verify_tills
from hq.clearing import parse_month
from hq.engine import default_url, open_engine
from hq.errors import INVALID_INPUT, REFUSED, HqError, HqInvalidInput
from hq.reports import CHAIN_TIMEZONE, liabilities_report, sales_report
from pos_app.domain.money import format_fen

VERIFY_FAILED = 3


@dataclass
class Run:
    db_url: str
    as_json: bool
    clock: Callable[[], datetime]

    def engine(self) -> Engine:
        return open_engine(self.db_url)

    def emit(self, data: dict[str, Any], text: str) -> None:
        click.echo(json.dumps(data, ensure_ascii=False) if self.as_json else text)

    def fail(self, code: str, zh: str, en: str, exit_code: int) -> NoReturn:
        click.echo(f"错误：{zh} / Error: {en}", err=True)
        if self.as_json:
            click.echo(json.dumps({"error": code, "message": f"{zh} / {en}"}, ensure_ascii=False))
        raise click.exceptions.Exit(exit_code)


class HqGroup(click.Group):
    """Turns refusals and an unreachable database into a message, JSON error and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HqError as exc:
            _run(ctx).fail(exc.code, exc.zh, exc.en, exc.exit_code)
        except OperationalError as exc:
            _run(ctx).fail(
                "database_error",
                f"数据库无法使用：{exc.orig}",
                f"The database cannot be used: {exc.orig}",
                REFUSED,
            )
        except click.UsageError as exc:
            run = _run(ctx)
            if not run.as_json:
                raise
            exc.show()
            click.echo(json.dumps({"error": "usage", "message": exc.format_message()}))
            raise click.exceptions.Exit(INVALID_INPUT) from None


def _run(ctx: click.Context) -> Run:
    root = ctx.find_root()
    if isinstance(root.obj, Run):
        return root.obj
    return Run(root.params.get("db_url") or default_url(), bool(root.params.get("as_json")), _now)


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _session(run: Run) -> Iterator[Session]:
    """A session in one transaction on a database that is at the newest schema."""
    engine = run.engine()
    try:
        if migrate.current_revision(engine) != migrate.head_revision(engine):
            raise HqError(
                "not_initialised",
                "HQ 数据库尚未初始化或版本过旧，请先运行 pos-hq init",
                "The HQ database is not set up or is out of date; run pos-hq init first",
            )
        with Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


@click.group(cls=HqGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="POS_HQ_DB",
    help="HQ 数据库 URL The HQ database URL, e.g. postgresql+psycopg://user@host/hq "
    "[env POS_HQ_DB; default: a SQLite file under the user data folder]",
)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON Print one JSON object")
@click.pass_context
def main(ctx: click.Context, db_url: str | None, as_json: bool) -> None:
    """总部服务器管理 The chain HQ's administration."""
    ctx.obj = Run(db_url or default_url(), as_json, _now)


@main.command()
@click.pass_obj
def init(run: Run) -> None:
    """创建或升级 HQ 数据库 Create or upgrade the HQ database."""
    engine = run.engine()
    try:
        changed = migrate.upgrade(engine)
        revision = migrate.current_revision(engine)
    finally:
        engine.dispose()
    run.emit(
        {"initialised": True, "upgraded": changed, "revision": revision},
        f"HQ 数据库已就绪 The HQ database is ready (revision {revision})",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="监听地址 Address to listen on"
)
@click.option("--port", default=8443, show_default=True, type=click.IntRange(1, 65535))
@click.option("--cert", type=click.Path(exists=True, dir_okay=False), help="TLS 证书 certificate")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="TLS 私钥 private key")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="工作进程数 Worker processes (e.g. one per core)",
)
@click.pass_obj
def serve(run: Run, host: str, port: int, cert: str | None, key: str | None, workers: int) -> None:
    """运行总部服务器 Run the HQ server (HTTPS; plain HTTP only on a loopback address)."""
    if (cert is None) != (key is None):
        raise HqInvalidInput("--cert 与 --key 须同时给出", "--cert and --key go together")
    if cert is None and not _is_loopback(host):
        raise HqInvalidInput(
            f"在 {host} 上提供服务须用 HTTPS（--cert、--key）；明文 HTTP 仅限本机地址",
            f"Serving on {host} needs HTTPS (--cert, --key); plain HTTP is for loopback only",
        )
    import uvicorn  # only this command needs the server stack

    from hq.server import DB_ENVIRONMENT, TLS_ENVIRONMENT, create_app

    # The console's session cookie is marked Secure when served over TLS.
    os.environ[TLS_ENVIRONMENT] = "1" if cert is not None else "0"
    engine = run.engine()
    try:
        with _session(run):  # refuse to serve a database that is not set up
            pass
        if workers == 1:
            uvicorn.run(
                create_app(engine),
                host=host,
                port=port,
                ssl_certfile=cert,
                ssl_keyfile=key,
                log_level="warning",
            )
            return
        # Worker processes import the app by name and open the database themselves.
        os.environ[DB_ENVIRONMENT] = run.db_url
        uvicorn.run(
            "hq.server:app_from_environment",
            factory=True,
            workers=workers,
            # A worker busy ingesting can answer the supervisor's ping late (its ping
            # thread waits for the GIL); uvicorn's 5 s default would kill it mid-request.
            timeout_worker_healthcheck=60,
            host=host,
            port=port,
            ssl_certfile=cert,
            ssl_keyfile=key,
            log_level="warning",
        )
    finally:
        engine.dispose()


@main.group()
def store() -> None:
    """门店 Stores."""


@store.command("add")
@click.option("--code", required=True, help="门店代码 Store code, e.g. SH01")
@click.option("--name", required=True, help="门店名称 Store name")
@click.pass_obj
def store_add(run: Run, code: str, name: str) -> None:
    """登记门店 Register a store."""
    with _session(run) as session:
        added = admin.add_store(session, code, name, run.clock())
        data = {"store": added.code, "name": added.name}
    run.emit(data, f"已登记门店 Store added: {data['store']} {data['name']}")


@main.group()
def till() -> None:
    """收银机 Tills."""


@till.command("enroll")
@click.option("--store", "store_code", required=True, help="门店代码 Store code")
@click.option(
    "--till",
    "till_code",
    help="为已有的收银机重发令牌（如硬盘损坏后重装） Re-issue a token for an existing till "
    "(e.g. after its disk died); redeeming it replaces the till's key",
)
@click.pass_obj
def till_enroll(run: Run, store_code: str, till_code: str | None) -> None:
    """新增收银机并发放一次性登记令牌（24 小时有效） Add a till and issue its one-time
    enrollment token (valid 24 h)."""
    with _session(run) as session:
        enrollment = admin.enroll_till(session, store_code, run.clock(), till_code)
    run.emit(
        {"till": enrollment.till, "token": enrollment.token},
        f"收银机 Till {enrollment.till}\n"
        f"登记令牌（只显示这一次）Enrollment token (shown only now): {enrollment.token}\n"
        f"有效期至 Expires at (UTC): {enrollment.expires_at}",
    )


@main.command()
@click.pass_obj
def status(run: Run) -> None:
    """各收银机同步状态 What HQ holds of each till's ledger."""
    with _session(run) as session:
        tills = admin.till_status(session)
    lines = [
        f"{t['till']}  acked_seq={t['acked_seq']}  entries={t['entries']}  "
        f"forks={t['forks']}  last_seen={t['last_seen'] or '-'}"
        for t in tills
    ]
    run.emit({"tills": tills}, "\n".join(lines) or "尚无收银机 No tills yet")


@main.command()
@click.pass_obj
def verify(run: Run) -> None:
    """核对每台收银机的哈希链与每张卡在全部收银机的余额（有问题时退出码 3） Re-check every
    till's hash chain and every card's balance over all tills (exit code 3 when anything is
    wrong)."""
    with _session(run) as session:
        chains = verify_tills(session)
        cards = verify_cards(session)
    problems: list[dict[str, object]] = [
        {"till": p.till, "seq": p.seq, "problem": p.code, "message": f"{p.zh} / {p.en}"}
        for chain in chains
        for p in chain.problems
    ]
    problems += [
        {"card": p.card, "problem": p.code, "message": f"{p.zh} / {p.en}"} for p in cards.problems
    ]
    data = {
        "ok": not problems,
        "tills": len(chains),
        "entries": sum(chain.entries for chain in chains),
        "cards": cards.cards,
        "problems": problems,
    }
    lines = [
        f"{p.get('till', '')} #{p['seq']}: {p['message']}"
        if "till" in p
        else f"卡 card {p['card']}: {p['message']}"
        for p in problems
    ]
    summary = (
        f"{data['tills']} 台收银机，{data['entries']} 条记录，{data['cards']} 张卡 "
        f"{data['tills']} tills, {data['entries']} entries, {data['cards']} cards: "
        + ("全部正确 all correct" if not problems else f"{len(problems)} 处问题 problems")
    )
    run.emit(data, "\n".join([*lines, summary]))
    if problems:
        raise click.exceptions.Exit(VERIFY_FAILED)


@main.group()
def report() -> None:
    """全连锁报表 Chain-wide reports."""


def _business_day(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HqInvalidInput(
            f"日期应为 YYYY-MM-DD：{value!r}", f"A day is YYYY-MM-DD: {value!r}"
        ) from None


def _zone(_ctx: click.Context, _param: click.Parameter, value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise HqInvalidInput(f"未知时区：{value!r}", f"Unknown time zone: {value!r}") from None


@report.command("sales")
@click.option("--day", required=True, callback=_business_day, help="营业日 YYYY-MM-DD")
@click.option(
    "--tz",
    "zone",
    default=CHAIN_TIMEZONE,
    show_default=True,
    callback=_zone,
    help="营业日所在时区 Time zone of the business day",
)
@click.pass_obj
def report_sales(run: Run, day: date, zone: ZoneInfo) -> None:
    """各门店当日销售 Daily sales per store (from the sales the tills sent up)."""
    with _session(run) as session:
        data = sales_report(session, day, zone)
    lines = [
        f"{s['store']}  销售 sales {s['sales']}  退货 refunds {s['refunds']}  "
        f"应收 gross {format_fen(s['gross_fen'])}  优惠 discount {format_fen(s['discount_fen'])}  "
        f"实收 total {format_fen(s['total_fen'])}"
        for s in data["stores"]
    ]
    chain = data["chain"]
    lines.append(
        f"全连锁 chain  销售 sales {chain['sales']}  退货 refunds {chain['refunds']}  "
        f"实收 total {format_fen(chain['total_fen'])}  ({data['day']}, {data['timezone']})"
    )
    run.emit(data, "\n".join(lines))


@report.command("liabilities")
@click.pass_obj
def report_liabilities(run: Run) -> None:
    """会员储值与积分负债（按门店与全连锁） Member stored value and points owed, per store
    (where it was sold or spent) and for the whole chain."""
    with _session(run) as session:
        data = liabilities_report(session)
    lines = [
        f"{s['store']}  本金 principal {format_fen(s['principal_fen'])}  "
        f"赠送 bonus {format_fen(s['bonus_fen'])}  积分 points {s['points']}"
        for s in [*data["stores"], {"store": "全连锁 chain", **data["chain"]}]
    ]
    run.emit(data, "\n".join(lines))


def _month(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    return None if value is None else parse_month(value)


@main.group(invoke_without_command=True)
@click.option("--all", "include_resolved", is_flag=True, help="含已处理的 Include resolved ones")
@click.pass_context
def conflicts(ctx: click.Context, include_resolved: bool) -> None:
    """全连锁冲突（先检测） Conflicts across the chain (detected first): offline overspend,
    points overspend, a coupon used twice, a card used while lost or frozen, one mobile for
    two members."""
    if ctx.invoked_subcommand is not None:
        return
    run = _run(ctx)
    with _session(run) as session:
        new = conflict_svc.detect(session, run.clock())
        found = conflict_svc.list_conflicts(session, include_resolved=include_resolved)
        debts = conflict_svc.member_debts(session)
    data = {
        "new": new,
        "conflicts": [c.as_json() for c in found],
        "debts": [
            {
                "conflict": d.id,
                "kind": d.kind,
                "member_no": d.member_no,
                "card_no_masked": d.card_no_masked,
                "debt_fen": d.amount_fen,
                "points": d.points,
            }
            for d in debts
        ],
    }
    lines = [
        f"#{c.id}  {_KIND_TEXT.get(c.kind, c.kind)}  "
        f"卡 card {c.card_no_masked or '-'}  会员 member {c.member_no or '-'}  "
        f"金额 amount {format_fen(c.amount_fen)}  积分 points {c.points}  "
        f"收银机 tills {','.join(c.tills) or '-'}"
        + (f"  已处理 resolved {c.resolved_at}: {c.resolution}" if c.resolved else "")
        for c in found
    ]
    lines += [
        f"欠款 debt  会员 member {d.member_no or '-'}  卡 card {d.card_no_masked or '-'}  "
        f"{format_fen(d.amount_fen)}  积分 points {d.points}"
        for d in debts
    ]
    lines.append(
        f"{len(found)} 项冲突（新发现 {new}） {len(found)} conflicts ({new} new)"
        if found
        else "没有冲突 No conflicts"
    )
    run.emit(data, "\n".join(lines))


_KIND_TEXT = {
    "offline_overspend": "离线透支 offline overspend",
    "points_overspend": "积分透支 points overspend",
    "coupon_reused": "券重复使用 coupon reused",
    "card_used_while_blocked": "挂失/冻结后使用 used while lost/frozen",
    "mobile_duplicate": "手机号重复 mobile duplicate",
}


@conflicts.command("resolve")
@click.argument("conflict_id", type=int)
@click.option("--note", required=True, help="处理说明 How it was resolved")
@click.option("--by", "actor", default="pos-hq", show_default=True, help="处理人 Who resolved it")
@click.pass_obj
def conflicts_resolve(run: Run, conflict_id: int, note: str, actor: str) -> None:
    """处理一项冲突 Mark a conflict resolved, with a note."""
    with _session(run) as session:
        view = conflict_svc.resolve(session, conflict_id, actor, note, run.clock())
        data = view.as_json()
    run.emit(
        data,
        f"冲突 #{conflict_id} 已处理 Conflict #{conflict_id} resolved: {data['resolution']}",
    )


@main.group(invoke_without_command=True)
@click.option("--month", callback=_month, help="月份 Month, YYYY-MM")
@click.option("--xlsx", type=click.Path(dir_okay=False), help="导出 XLSX Export to an XLSX file")
@click.option("--pdf", type=click.Path(dir_okay=False), help="导出 PDF Export to a PDF file")
@click.pass_context
def clearing(ctx: click.Context, month: str | None, xlsx: str | None, pdf: str | None) -> None:
    """月结算：各门店对总部的储值、积分、次卡与净额 Monthly clearing: each store's stored
    value, points, count cards and net position against HQ, with the check
    Σ net + Δ liability = 0."""
    if ctx.invoked_subcommand is not None:
        return
    if month is None:
        raise HqInvalidInput("请用 --month YYYY-MM 指定月份", "Give the month: --month YYYY-MM")
    run = _run(ctx)
    with _session(run) as session:
        result = clearing_svc.statement(session, month)
    if xlsx:
        clearing_export.write_xlsx(result, xlsx)
    if pdf:
        clearing_export.write_pdf(result, pdf)
    run.emit(result.as_json(), _statement_text(result))


@clearing.command("close")
@click.option("--month", required=True, callback=_month, help="月份 Month, YYYY-MM")
@click.option("--by", "actor", default="pos-hq", show_default=True, help="操作人 Who closes it")
@click.pass_obj
def clearing_close(run: Run, month: str, actor: str) -> None:
    """月结：冻结该月数字，此后到达的记录计入下一个未结月份 Close the month: its figures are
    frozen; records of it that arrive later count in the next open month."""
    with _session(run) as session:
        result = clearing_svc.close_month(session, month, actor, run.clock())
    run.emit(result.as_json(), _statement_text(result))


def _statement_text(result: clearing_svc.Statement) -> str:
    lines = [
        f"月结算 Monthly clearing {result.month}  "
        + (f"已月结 closed {result.closed_at}" if result.closed else "未月结 open")
    ]
    for s in result.lines:
        lines.append(
            f"{s.store} {s.name}  储值售出 sold {format_fen(s.stored_value_sold_fen)}  "
            f"赠送 bonus {format_fen(s.bonus_granted_fen)}  "
            f"储值消费 redeemed {format_fen(s.stored_value_redeemed_fen)}  "
            f"其他 other {format_fen(s.stored_value_other_fen)}  "
            f"积分 points +{s.points_issued}/-{s.points_redeemed} "
            f"({format_fen(s.points_value_fen)})  "
            f"次卡 count cards {format_fen(s.count_card_sold_fen)}/"
            f"{format_fen(s.count_card_used_fen)}  "
            f"净额 net {format_fen(s.net_fen)}"
        )
    lines.append(
        f"负债 liability {format_fen(result.liability_start_fen)} → "
        f"{format_fen(result.liability_end_fen)}  "
        f"变动 change {format_fen(result.liability_change_fen)}  "
        f"Σ净额 Σ net {format_fen(result.net_total_fen)}  "
        + (
            "核对正确 invariant holds"
            if result.invariant_ok
            else "核对不平 INVARIANT FAILED: Σ net + Δ liability ≠ 0"
        )
    )
    return "\n".join(lines)
