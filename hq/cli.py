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
import sys
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
from hq import operators as hq_operators
from hq.card_balances import verify_cards
from hq.chain_catalogue import MAX_PROBLEMS_SHOWN, import_products, set_store_price
from hq.chain_coupons import (
    add_coupon_template,
    deactivate_coupon_template,
    list_coupon_templates,
)
from hq.chain_rules import publish_rules
from hq.chain_verify import verify_tills
from hq.clearing import parse_month
from hq.engine import default_url, open_engine
from hq.errors import INVALID_INPUT, REFUSED, HqError, HqInvalidInput
from hq.operators import ROLES, SCOPES
from hq.reports import CHAIN_TIMEZONE, liabilities_report, sales_report
from pos_app.domain.coupons import CouponKind, TemplateSpec, parse_date
from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import format_fen, parse_yuan

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
@click.argument("code_arg", metavar="CODE", required=False)
@click.option("--code", help="门店代码 Store code, e.g. SH01 (or give it as CODE)")
@click.option("--name", required=True, help="门店名称 Store name")
@click.option("--region", "region_code", help="所属大区 The store's region, e.g. EAST")
@click.pass_obj
def store_add(
    run: Run, code_arg: str | None, code: str | None, name: str, region_code: str | None
) -> None:
    """登记门店 Register a store (in a region)."""
    if (code_arg is None and code is None) or (code_arg and code and code_arg != code):
        raise HqInvalidInput(
            "请给出门店代码（CODE 或 --code，二选一）",
            "Give the store code once (as CODE or --code)",
        )
    store_code = code_arg or code
    assert store_code is not None
    with _session(run) as session:
        added = admin.add_store(session, store_code, name, run.clock(), region_code)
        data = {"store": added.code, "name": added.name}
        if region_code is not None:
            data["region"] = region_code
    run.emit(data, f"已登记门店 Store added: {data['store']} {data['name']}")


@main.group()
def region() -> None:
    """大区 Regions."""


@region.command("add")
@click.argument("code")
@click.option("--name", required=True, help="大区名称 Region name, e.g. 华东")
@click.pass_obj
def region_add(run: Run, code: str, name: str) -> None:
    """登记大区 Register a region (a group of stores)."""
    with _session(run) as session:
        added = admin.add_region(session, code, name, run.clock())
        data = {"region": added.code, "name": added.name}
    run.emit(data, f"已登记大区 Region added: {data['region']} {data['name']}")


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


# --- Master data from HQ (issue 14): operators, chain rules, catalogue, coupon templates ------

COUPON_KINDS = [k.value for k in CouponKind]


def _password_from_stdin(given: bool) -> str:
    """The password as one line on stdin: never on the command line, where `ps` and the
    shell's history would keep it."""
    if not given:
        raise HqInvalidInput(
            "请用 --password-stdin 从标准输入提供密码",
            "Give the password on stdin with --password-stdin",
        )
    return sys.stdin.readline().rstrip("\r\n")


@main.group()
def operator() -> None:
    """连锁操作员（总部、大区、门店） People of the chain, scoped to HQ, a region or a store."""


def _operator_line(o: dict[str, Any]) -> str:
    where = o["region"] or o["store"] or "-"
    state = "启用 active" if o["active"] else "停用 inactive"
    return f"{o['login']}  {o['name']}  {o['role']}  {o['scope']} {where}  {state}"


@operator.command("add")
@click.argument("login")
@click.option("--name", required=True, help="姓名 Name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="收银机上的角色 Till role")
@click.option("--scope", required=True, type=click.Choice(SCOPES), help="范围 Scope")
@click.option("--region", "region_code", help="大区（--scope region） Region")
@click.option("--store", "store_code", help="门店（--scope store） Store")
@click.option(
    "--password-stdin", is_flag=True, help="从标准输入读取密码 Read the password on stdin"
)
@click.pass_obj
def operator_add(
    run: Run,
    login: str,
    name: str,
    role: str,
    scope: str,
    region_code: str | None,
    store_code: str | None,
    password_stdin: bool,
) -> None:
    """新增连锁操作员 Add a person of the chain (signs in at HQ and at the tills of the
    scope)."""
    password = _password_from_stdin(password_stdin)
    with _session(run) as session:
        hq_operators.add_operator(
            session, login, name, role, scope, password, run.clock(), region_code, store_code
        )
        data = next(o for o in hq_operators.list_operators(session) if o["login"] == login.strip())
    run.emit(data, f"已新增操作员 Operator added: {_operator_line(data)}")


@operator.command("list")
@click.pass_obj
def operator_list(run: Run) -> None:
    """连锁操作员列表 Every person of the chain."""
    with _session(run) as session:
        rows = hq_operators.list_operators(session)
    run.emit({"operators": rows}, "\n".join(map(_operator_line, rows)) or "尚无 None yet")


@operator.command("passwd")
@click.argument("login")
@click.option(
    "--password-stdin", is_flag=True, help="从标准输入读取密码 Read the password on stdin"
)
@click.pass_obj
def operator_passwd(run: Run, login: str, password_stdin: bool) -> None:
    """设置密码（各收银机下次同步后生效） Set a password (the tills take it at their next
    pull)."""
    password = _password_from_stdin(password_stdin)
    with _session(run) as session:
        op = hq_operators.set_password(session, login, password, run.clock())
        data = {"login": op.login, "password_set": True}
    run.emit(data, f"已设置密码 Password set: {data['login']}")


@operator.command("deactivate")
@click.argument("login")
@click.pass_obj
def operator_deactivate(run: Run, login: str) -> None:
    """停用操作员（总部及各收银机） Deactivate a person at HQ and at their tills."""
    with _session(run) as session:
        op = hq_operators.deactivate_operator(session, login, run.clock())
        data = {"login": op.login, "active": op.active}
    run.emit(data, f"已停用 Deactivated: {data['login']}")


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise HqInvalidInput(f"无法读取文件 {path}：{exc}", f"Cannot read {path}: {exc}") from None


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise HqInvalidInput(f"无法读取文件 {path}：{exc}", f"Cannot read {path}: {exc}") from None


@main.group()
def rules() -> None:
    """连锁规则 The chain's rules."""


@rules.command("publish")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--no-local-promotions",
    is_flag=True,
    help="不允许门店自行添加促销 Stores may not add promotions of their own",
)
@click.pass_obj
def rules_publish(run: Run, file: str, no_local_promotions: bool) -> None:
    """发布连锁规则（与收银机规则文件格式相同） Publish the chain's rules (a till's rules
    file); every till loads them at its next pull."""
    text = _read_text(file)
    with _session(run) as session:
        row = publish_rules(
            session, text, run.clock(), allow_local_promotions=not no_local_promotions
        )
        data = {
            "version": row.version,
            "label": row.label,
            "sha256": row.sha256,
            "allow_local_promotions": row.allow_local_promotions,
        }
    run.emit(data, f"已发布规则 Rules published: v{data['version']} {data['label']}")


@main.group()
def product() -> None:
    """连锁商品目录 The chain catalogue."""


@product.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def product_import(run: Run, file: str) -> None:
    """导入连锁商品（与收银机商品 CSV 格式相同；有错误则不导入） Import the chain catalogue
    (the till's product CSV format; a file with any problem imports nothing)."""
    data = _read_bytes(file)
    with _session(run) as session:
        report = import_products(session, data, run.clock())
    if report.problems:
        shown = report.problems[:MAX_PROBLEMS_SHOWN]
        for problem in shown:
            click.echo(f"{problem.message('zh')} / {problem.message('en')}", err=True)
        message = (
            f"文件有 {len(report.problems)} 处问题，未导入",
            f"The file has {len(report.problems)} problems; nothing was imported",
        )
        click.echo(f"错误：{message[0]} / Error: {message[1]}", err=True)
        if run.as_json:
            body = {
                "error": "invalid_input",
                "message": " / ".join(message),
                "problems": [
                    {"row": p.row, "column": p.column, "zh": p.reason_zh, "en": p.reason}
                    for p in shown
                ],
            }
            click.echo(json.dumps(body, ensure_ascii=False))
        raise click.exceptions.Exit(INVALID_INPUT)
    out = {
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    }
    run.emit(
        out,
        f"已导入 Imported: {out['rows']} 行 rows, 新增 created {out['created']}, "
        f"更新 updated {out['updated']}, 未变 unchanged {out['unchanged']}",
    )


def _yuan(value: str, what_zh: str, what_en: str) -> int:
    try:
        return parse_yuan(value)
    except InvalidInput as exc:
        raise HqInvalidInput(f"{what_zh}：{exc.zh}", f"{what_en}: {exc.en}") from None


@product.command("price")
@click.argument("sku")
@click.option("--store", "store_code", required=True, help="门店代码 Store code")
@click.option(
    "--price", required=True, metavar="YUAN", help="门店价格 The store's price, e.g. 12.50"
)
@click.option("--member-price", metavar="YUAN", help="门店会员价 The store's member price")
@click.pass_obj
def product_price(
    run: Run, sku: str, store_code: str, price: str, member_price: str | None
) -> None:
    """设置门店价格 Set a store's own price for a chain product."""
    price_fen = _yuan(price, "价格", "--price")
    member_fen = _yuan(member_price, "会员价", "--member-price") if member_price else None
    with _session(run) as session:
        set_store_price(session, sku, store_code, price_fen, member_fen, run.clock())
    data = {
        "sku": sku.strip().upper(),
        "store": store_code,
        "price_fen": price_fen,
        "member_price_fen": member_fen,
    }
    run.emit(
        data,
        f"{data['sku']} @ {store_code}: {format_fen(price_fen)}"
        + (f"（会员 member {format_fen(member_fen)}）" if member_fen is not None else ""),
    )


@main.group("coupon-template")
def coupon_template() -> None:
    """连锁券模板 The chain's coupon templates."""


@coupon_template.command("add")
@click.option("--code", required=True, help="模板编码 Template code (e.g. NEW10)")
@click.option("--name", required=True, help="券名称 Name shown to members")
@click.option("--kind", required=True, type=click.Choice(COUPON_KINDS), help="类型 Kind")
@click.option("--threshold", metavar="YUAN", help="使用门槛（满 X） Spend needed, in yuan")
@click.option("--amount", metavar="YUAN", help="减免金额（减 Y） Amount off, in yuan")
@click.option(
    "--percent-off", type=click.IntRange(0, 100), default=0, help="折扣（15 = 8.5折） Percent off"
)
@click.option("--cap", metavar="YUAN", help="最高优惠 Largest discount, in yuan")
@click.option("--category", "categories", multiple=True, help="限用品类 Only these categories")
@click.option("--sku", "skus", multiple=True, help="限用商品 Only these SKUs")
@click.option("--gift-sku", help="赠品/兑换商品 The free or exchanged product's SKU")
@click.option("--from", "valid_from", metavar="YYYY-MM-DD", help="有效期开始 First valid day")
@click.option("--to", "valid_to", metavar="YYYY-MM-DD", help="有效期结束 Last valid day")
@click.option("--days", type=click.IntRange(1), help="领取后 N 天有效 Valid N days from issue")
@click.option(
    "--per-member", type=click.IntRange(0), default=0, help="每人限领 Per-member limit (0 = none)"
)
@click.option("--no-stack-tier", is_flag=True, help="不与等级折扣叠加 Not with tier discounts")
@click.option("--stack-coupons", is_flag=True, help="可与其他券叠加 Combines with other coupons")
@click.option("--no-restore", is_flag=True, help="退货不返还 Not given back on refund")
@click.option(
    "--points-cost", type=click.IntRange(0), default=0, help="积分兑换价 Points to exchange for one"
)
@click.pass_obj
def coupon_template_add(
    run: Run,
    code: str,
    name: str,
    kind: str,
    threshold: str | None,
    amount: str | None,
    percent_off: int,
    cap: str | None,
    categories: tuple[str, ...],
    skus: tuple[str, ...],
    gift_sku: str | None,
    valid_from: str | None,
    valid_to: str | None,
    days: int | None,
    per_member: int,
    no_stack_tier: bool,
    stack_coupons: bool,
    no_restore: bool,
    points_cost: int,
) -> None:
    """新建连锁券模板（选项同 pos-app coupon template add） Add a chain coupon template (the
    options of pos-app coupon template add)."""

    def yuan(value: str | None, zh: str, en: str, allow_zero: bool) -> int:
        if value is None:
            return 0
        try:
            return parse_yuan(value, allow_zero=allow_zero)
        except InvalidInput as exc:
            raise HqInvalidInput(f"{zh}：{exc.zh}", f"{en}: {exc.en}") from None

    def day(value: str | None, zh: str, en: str) -> date | None:
        if value is None:
            return None
        try:
            return parse_date(value, zh, en)
        except InvalidInput as exc:
            raise HqInvalidInput(exc.zh, exc.en) from None

    spec = TemplateSpec(
        code=code,
        name=name,
        kind=kind,
        threshold_fen=yuan(threshold, "使用门槛", "--threshold", True),
        amount_off_fen=yuan(amount, "减免金额", "--amount", False),
        percent_off=percent_off,
        cap_fen=yuan(cap, "最高优惠", "--cap", True),
        categories=categories,
        skus=skus,
        gift_sku=gift_sku,
        valid_from=day(valid_from, "开始", "--from"),
        valid_to=day(valid_to, "结束", "--to"),
        valid_days=days,
        per_member_limit=per_member,
        stacks_with_tier=not no_stack_tier,
        stacks_with_coupons=stack_coupons,
        restore_on_refund=not no_restore,
        points_cost=points_cost,
    )
    with _session(run) as session:
        row = add_coupon_template(session, spec, run.clock())
        data = {**row.data, "active": row.active}
    run.emit(data, f"已添加券模板 Coupon template added: {data['code']} {data['name']}")


@coupon_template.command("list")
@click.pass_obj
def coupon_template_list(run: Run) -> None:
    """连锁券模板列表 The chain's coupon templates."""
    with _session(run) as session:
        rows = list_coupon_templates(session)
    lines = [
        f"{t['code']}  {t['name']}  {t['kind']}  {'' if t['active'] else '停用 inactive'}"
        for t in rows
    ]
    run.emit({"templates": rows}, "\n".join(lines) or "尚无 None yet")


@coupon_template.command("deactivate")
@click.argument("code")
@click.pass_obj
def coupon_template_deactivate(run: Run, code: str) -> None:
    """停用连锁券模板（不再发券） Deactivate a chain coupon template (no more coupons from it)."""
    with _session(run) as session:
        row = deactivate_coupon_template(session, code, run.clock())
        data = {"code": row.code, "active": row.active}
    run.emit(data, f"已停用券模板 Template deactivated: {data['code']}")
