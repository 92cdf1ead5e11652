"""Demonstration: `demo-data` fills a store; `demo` builds (once) and explains a demo store."""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import asdict, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import click

from pos_app.cli.app_launch import start_app
from pos_app.cli.invocation import Invocation, default_data_dir
from pos_app.cli.ledger_cmd import report_fields
from pos_app.cli.money_cmd import balance_fields
from pos_app.cli.number_params import WholeNumber
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.optional_services import load_service
from pos_app.cli.output import pad, yuan
from pos_app.cli.progress_display import StderrProgress
from pos_app.demo_store import (
    DEMO_EMPLOYEE_CARDS,
    DEMO_LOGINS,
    DEMO_STORE_CODE,
    DEMO_STORE_NAME,
)
from pos_app.device_settings import SETTINGS_FILE
from pos_app.domain.errors import AlreadyExists, NotFound, NotInitialized
from pos_app.domain.permissions import ROLE_NAMES, Permission
from pos_app.services.auth import Actor
from pos_app.services.context import StoreContext
from pos_app.services.employee_cards import assign_employee_card
from pos_app.services.members import show_member
from pos_app.services.rules import load_rules, show_rules
from pos_app.services.sign_in import approve, sign_in
from pos_app.services.store_setup import add_operator, init_store
from pos_app.services.stored_value import Balance, balance
from pos_app.services.verify import verify_ledger

DEMO_MEMBERS = 200
# A million members is what the benchmarks fill; more is a typing slip, not a demo.
DEMO_MEMBER_COUNT = WholeNumber(1, 2_000_000, "会员数", "number of members")
SAMPLE_CARDS = 4
# Demo members are numbered from 1; the walkthrough looks among the first ones for cards.
SAMPLE_SEARCH = 60


def _fill(ctx: StoreContext, actor: Actor, members: int) -> object:
    service = load_service("demo_data", "生成演示数据", "create demo data")
    with StderrProgress("生成演示数据 Creating demo data") as progress:
        return service.fill_demo_store(ctx, actor, members, progress=progress)


@click.command("demo-data")
@click.option(
    "--members",
    default=DEMO_MEMBERS,
    show_default=True,
    type=DEMO_MEMBER_COUNT,
    help="会员数 How many demo members",
)
@operator_options()
@click.pass_obj
def demo_data(inv: Invocation, members: int, creds: Credentials) -> None:
    """生成演示数据 Fill this store with demo members, cards and activity (admins)."""
    actor = signed_in(inv, creds)
    summary = _fill(inv.store(), actor, members)
    inv.out.fields(summary, "演示数据已生成 Demo data created")


@click.command()
@click.option(
    "--members",
    default=DEMO_MEMBERS,
    show_default=True,
    type=DEMO_MEMBER_COUNT,
    help="首次创建时的会员数 Demo members to create the first time",
)
@click.option(
    "--no-gui",
    is_flag=True,
    help="只准备门店并打印说明，不打开收银界面 Only prepare the store and print the walkthrough",
)
@click.pass_obj
def demo(inv: Invocation, members: int, no_gui: bool) -> None:
    """演示 Open the demo store (created on first run) in the cashier app.

    Prints the logins, demo cards and commands to try, then starts the app on the demo
    store with simulated devices (a panel to tap a virtual card or scan a barcode, and
    each printed receipt shown as a picture). --no-gui (or --json) stops after the
    walkthrough. The demo store lives in --data-dir / POS_DATA_DIR if given, else in the
    user data folder's "demo" subfolder. Running it again reuses the store.
    """
    if not inv.data_dir_given:
        inv.data_dir = default_data_dir() / "demo"
    ctx = inv.store(create=True)
    summary = None
    if not _is_initialised(ctx):
        _set_up(ctx)
    elif ctx.store.code != DEMO_STORE_CODE:
        raise AlreadyExists(
            f"{inv.data_dir} 是门店 {ctx.store.code} 的数据，不是演示门店；请用 --data-dir 指定"
            "其他目录",
            f"{inv.data_dir} holds store {ctx.store.code}, not the demo store; pick another "
            "folder with --data-dir",
        )
    _simulated_devices(inv.data_dir)
    admin = sign_in(ctx, DEMO_LOGINS[0].login, DEMO_LOGINS[0].password)
    if not _has_members(ctx, admin):  # first run, or a first run that was interrupted
        summary = _fill(ctx, admin, members)
        _run_the_day(ctx)
    _walkthrough(inv, ctx, admin, summary)
    if not (no_gui or inv.as_json):
        code = start_app(inv, demo=True)
        if code:
            raise click.exceptions.Exit(code)


def _run_the_day(ctx: StoreContext) -> None:
    """The demo's day at the till: its three cashiers in turn, every drawer counted right."""
    from pos_app.services.demo_day import run_demo_day

    logins = {x.login: x for x in DEMO_LOGINS}
    cashiers = tuple(
        sign_in(ctx, logins[name].login, logins[name].password)
        for name in ("cashier", "manager", "cashier2")
    )
    manager = logins["manager"]
    approval = approve(ctx, manager.login, manager.password, Permission.CARD_CANCEL)
    run_demo_day(ctx, (cashiers[0], cashiers[1], cashiers[2]), approval)


def _is_initialised(ctx: StoreContext) -> bool:
    try:
        ctx.store  # noqa: B018 -- reading it is the check
    except NotInitialized:
        return False
    return True


def _set_up(ctx: StoreContext) -> None:
    admin_login = DEMO_LOGINS[0]
    init_store(
        ctx,
        DEMO_STORE_CODE,
        DEMO_STORE_NAME,
        admin_login.login,
        admin_login.password,
        admin_name=admin_login.name,
    )
    admin = sign_in(ctx, admin_login.login, admin_login.password)
    for login in DEMO_LOGINS[1:]:
        add_operator(ctx, admin, login.login, login.name, login.role.value, login.password)
    for login_name, card_no in DEMO_EMPLOYEE_CARDS:
        assign_employee_card(ctx, admin, login_name, card_no)
    text = resources.files("pos_app").joinpath("resources/rules.example.toml")
    load_rules(ctx, admin, text.read_text(encoding="utf-8"), "rules.example.toml")


DEMO_DEVICES = """\
# The demo till's devices: simulators, so it runs with nothing plugged in (pos-app hw list).
# sim:printer writes each receipt it is sent as a PNG and a text file under sim-printer/.
[devices]
card_sources = ["sim:card"]
printer = "sim:printer"
paper_mm = 80
encoding = "gb18030"
drawer = true
display = "sim:display"
"""


def _simulated_devices(data_dir: Path) -> None:
    """Give the demo store simulated devices, unless someone already set devices there."""
    path = data_dir / SETTINGS_FILE
    if not path.exists():
        path.write_text(DEMO_DEVICES, encoding="utf-8")


def _has_members(ctx: StoreContext, admin: Actor) -> bool:
    try:
        show_member(ctx, admin, member_no=f"{DEMO_STORE_CODE}{1:07d}")
    except NotFound:
        return False
    return True


def _sample_balances(ctx: StoreContext, admin: Actor) -> list[tuple[Balance, str]]:
    """A few active cards holding stored value and no PIN, with their holder's mobile's last
    four digits (what a cashier types to find a member)."""
    found: list[tuple[Balance, str]] = []
    for n in range(1, SAMPLE_SEARCH + 1):
        try:
            view = show_member(ctx, admin, member_no=f"{DEMO_STORE_CODE}{n:07d}")
        except NotFound:
            break
        for c in view.cards:
            if c.state == "active" and c.stored_value_fen > 0 and not c.pin_set:
                found.append((balance(ctx, admin, c.card_no), view.mobile[-4:]))
                break
        if len(found) >= SAMPLE_CARDS:
            break
    return found


def _walkthrough(inv: Invocation, ctx: StoreContext, admin: Actor, summary: object) -> None:
    report = verify_ledger(ctx)
    rules = show_rules(ctx)
    samples = _sample_balances(ctx, admin)
    data: dict[str, Any] = {
        "data_dir": str(inv.data_dir),
        "created": summary is not None,
        "store_code": ctx.store.code,
        "store_name": ctx.store.name,
        "till": ctx.till_id,
        "rules": {"version": rules.version, "label": rules.label},
        "logins": [
            {"login": x.login, "password": x.password, "role": x.role.value} for x in DEMO_LOGINS
        ],
        "employee_cards": [
            {"login": login, "card_no": card_no} for login, card_no in DEMO_EMPLOYEE_CARDS
        ],
        "sample_cards": [balance_fields(b) for b, _ in samples],
        "verify": report_fields(report),
        "summary": asdict(summary) if is_dataclass(summary) else None,
    }
    if inv.as_json:
        inv.out.result(data)
        return
    out = inv.out
    click.echo("=" * 72)
    click.echo(f"{DEMO_STORE_NAME} — pos-app 演示 demo")
    click.echo("=" * 72)
    out.rows(
        [
            ("门店 Store", f"{ctx.store.code} {ctx.store.name}"),
            ("收银机 Till", ctx.till_id),
            ("数据目录 Data dir", inv.data_dir),
            ("规则 Rules", f"v{rules.version} {rules.label}"),
            ("会员 Members", report.members),
            ("会员卡 Cards", report.cards),
            ("账本记录 Ledger entries", report.entries),
            ("本次新建 Just created", "是 yes" if summary is not None else "否 no, reused"),
        ]
    )
    click.echo("")
    cards = dict(DEMO_EMPLOYEE_CARDS)
    out.table(
        "登录 Logins",
        ["登录名 Login", "密码 Password", "角色 Role", "员工卡 Employee card"],
        [
            [x.login, x.password, " ".join(ROLE_NAMES[x.role]), cards.get(x.login, "")]
            for x in DEMO_LOGINS
        ],
    )
    click.echo("")
    out.table(
        "演示卡 Demo cards (无密码 no PIN)",
        ["卡号 Card", "会员 Member", "等级 Tier", "余额 Balance", "积分 Points"],
        [
            [
                b.card_no,
                f"{b.member_no} {b.member_name}",
                b.tier_name,
                yuan(b.stored_value_fen),
                b.points,
            ]
            for b, _ in samples
        ],
    )
    click.echo("")
    verdict = "通过 OK" if report.ok else f"发现 {len(report.problems)} 个问题 problems found"
    click.echo(f"账本校验 Verify: {verdict}（{report.entries} 条记录 entries）")
    click.echo("")
    click.echo("试试这些命令 Try these commands:")
    for line in _example_commands(inv, samples):
        click.echo(f"  {line}")


def _example_commands(inv: Invocation, samples: list[tuple[Balance, str]]) -> list[str]:
    card = samples[0][0].card_no if samples else "CARD"
    other = samples[1][0].card_no if len(samples) > 1 else card
    last4 = samples[0][1] if samples else "1234"
    commands = []
    # scripts/run-demo installs into a virtualenv that is not on PATH: say how to reach it.
    bin_dir = Path(sys.executable).parent
    if shutil.which("pos-app") is None and (bin_dir / "pos-app").exists():
        commands.append((f"export PATH={shlex.quote(str(bin_dir))}:$PATH", "pos-app 命令 command"))
    commands += [
        (f"export POS_DATA_DIR={shlex.quote(str(inv.data_dir))}", ""),
        ("export POS_OPERATOR=cashier POS_PASSWORD=cashier123", ""),
        ("pos-app shift open --float 500", "开班 the cashier's own shift and drawer"),
        (f"pos-app balance {card}", ""),
        (f"pos-app topup {card} 500 --tender wechat", "充500送50"),
        (f"pos-app pay {card} 12.50", "储值支付 pay from the card"),
        (f"pos-app member find {last4}", "手机尾号 last 4 digits of the mobile"),
        (f"pos-app member show --card {card}", ""),
        ("pos-app product list --category 蔬菜", "商品 the catalogue"),
        (
            f"pos-app sale --card {card} --line V001:3 --line F001 --line 6921168509256:2 "
            "--pay stored_value:20 --pay cash:100 --print",
            "会员收银 member sale, split tender, printed",
        ),
        (
            "pos-app sale --line D002:2 --line S001 --pay wechat::WX0001 --print",
            "散客 walk-in sale, printed on sim:printer",
        ),
        ("pos-app hw list", "设备 devices: all simulated"),
        ("pos-app hw print-test --printer sim:printer", "打印测试 → sim-printer/*.png"),
        ("pos-app report x", "当班报表 X report of the open shift"),
        ("pos-app shift close --counted 500", "交班 the Z report: over/short of the count"),
        (f"pos-app --json balance {card}", "one JSON object, amounts in fen"),
        (f"pos-app card freeze {card}", "收银员无权 refused: managers only"),
        (f"pos-app card lost {other}", "挂失"),
        (f"POS_OPERATOR=manager POS_PASSWORD=manager123 pos-app card found {other}", "解挂"),
        ("pos-app rules show", ""),
        ("pos-app --lang en verify", ""),
    ]
    width = max(len(c) for c, note in commands if note and len(c) < 60) + 2
    return [
        (f"{pad(c, width)}# {note}" if len(c) < width else f"{c}  # {note}") if note else c
        for c, note in commands
    ]
