"""Setting a store up: `init`, `operator add|card|list|deactivate|reactivate|password|
reset-password`, `rules load` and `rules show`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import click

from pos_app.cli.invocation import Invocation
from pos_app.cli.operator_options import (
    Credentials,
    operator_options,
    signed_in,
    signed_in_with_password,
)
from pos_app.cli.output import Row, yes_no, yuan
from pos_app.cli.path_params import FilePath
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.errors import DomainError, RulesError
from pos_app.domain.members import check_card_no
from pos_app.domain.permissions import ROLE_NAMES, Role
from pos_app.domain.rules import rules_to_dict
from pos_app.services.employee_cards import assign_employee_card
from pos_app.services.operators import (
    OperatorRow,
    change_password,
    deactivate_operator,
    list_operators,
    reactivate_operator,
    reset_password,
)
from pos_app.services.rules import LoadedRules, load_rules, show_rules
from pos_app.services.store_setup import add_operator, init_store


@click.command()
@click.option("--store-code", required=True, help="门店编码 Store code (2–12 letters/digits)")
@click.option("--store-name", required=True, help="门店名称 Store name")
@click.option("--admin-login", required=True, help="管理员登录名 First admin's login")
@click.option("--admin-password", required=True, help="管理员密码 First admin's password")
@click.option("--admin-name", default="管理员", show_default=True, help="管理员姓名 Admin's name")
@click.option(
    "--timezone", default="Asia/Shanghai", show_default=True, help="营业时区 Business time zone"
)
@click.option(
    "--till",
    "till_id",
    default=None,
    help="本机收银机编号 This till's id, e.g. SH01-02 (default: <store code>-01)",
)
@click.pass_obj
def init(
    inv: Invocation,
    store_code: str,
    store_name: str,
    admin_login: str,
    admin_password: str,
    admin_name: str,
    timezone: str,
    till_id: str | None,
) -> None:
    """初始化门店 Set up the store in the data folder, with its first admin."""
    existed = inv.paths_present()
    try:
        info = init_store(
            inv.store(create=True),
            store_code,
            store_name,
            admin_login,
            admin_password,
            admin_name=admin_name,
            timezone=timezone,
            till_id=till_id,
        )
    except DomainError:
        inv.discard_new_store(existed)
        raise
    inv.out.result(
        {
            "store_id": info.store_id,
            "store_code": info.code,
            "store_name": info.name,
            "till": info.till_id,
            "admin_login": admin_login.strip(),
            "data_dir": str(inv.data_dir),
        },
        [
            ("门店 Store", f"{info.code} {info.name}"),
            ("收银机 Till", info.till_id),
            ("管理员 Admin", admin_login.strip()),
            ("数据目录 Data dir", inv.data_dir),
        ],
        title="门店已初始化 Store set up",
    )


@click.group()
def operator() -> None:
    """操作员 Operators (cashiers, managers, admins)."""


@operator.command("add")
@click.option("--login", required=True, help="新操作员登录名 The new operator's login")
@click.option("--name", required=True, help="姓名 Name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="角色 Role")
@click.option("--password", required=True, help="新操作员密码 The new operator's password")
@operator_options(password_flag=False)
@click.pass_obj
def operator_add(
    inv: Invocation, login: str, name: str, role: str, password: str, creds: Credentials
) -> None:
    """添加操作员 Add an operator (admins only).

    The acting admin's password is --operator-password (or POS_PASSWORD), since --password
    here is the new operator's.
    """
    actor = signed_in(inv, creds)
    info = add_operator(inv.store(), actor, login, name, role, password)
    zh_role, en_role = ROLE_NAMES[Role(info.role)]
    inv.out.result(
        {
            "operator_id": info.operator_id,
            "login": info.login,
            "name": info.name,
            "role": info.role,
        },
        [
            ("登录名 Login", info.login),
            ("姓名 Name", info.name),
            ("角色 Role", f"{zh_role} {en_role}"),
        ],
        title="操作员已添加 Operator added",
    )


@operator.command("card")
@click.argument("login")
@click.argument("card_no")
@operator_options()
@click.pass_obj
def operator_card(inv: Invocation, login: str, card_no: str, creds: Credentials) -> None:
    """员工卡 Give an operator an employee card to sign in (and approve) with (admins only).

    A new card replaces the operator's earlier one; a member card cannot be an employee card.
    """
    actor = signed_in(inv, creds)
    assign_employee_card(inv.store(), actor, login, card_no)
    masked = mask_card_no(check_card_no(card_no))
    inv.out.result(
        {"login": login.strip(), "employee_card": masked},
        [("登录名 Login", login.strip()), ("员工卡 Employee card", masked)],
        title="员工卡已分配 Employee card assigned",
    )


def _operator_row(inv: Invocation, row: OperatorRow, title: str) -> None:
    zh_role, en_role = ROLE_NAMES[Role(row.role)]
    fields: list[Row] = [
        ("登录名 Login", row.login),
        ("姓名 Name", row.name),
        ("角色 Role", f"{zh_role} {en_role}"),
        ("状态 State", _state_text(inv, row)),
    ]
    inv.out.result(asdict(row), fields, title=title)


def _state_text(inv: Invocation, row: OperatorRow) -> str:
    if not row.active:
        return "已停用 deactivated"
    if row.locked_until:
        ctx = inv.store()
        until = datetime.fromisoformat(row.locked_until).astimezone(ctx.tz)
        return f"已锁定至 locked until {until:%Y-%m-%d %H:%M:%S}"
    return "正常 active"


@operator.command("list")
@operator_options()
@click.pass_obj
def operator_list(inv: Invocation, creds: Credentials) -> None:
    """操作员列表 Every operator with their role and state (admins only)."""
    actor = signed_in(inv, creds)
    rows = list_operators(inv.store(), actor)
    inv.out.result(
        {"count": len(rows), "operators": [asdict(r) for r in rows]},
        title=f"{len(rows)} 位操作员 operators",
        tables=[
            (
                "",
                ["登录名 Login", "姓名 Name", "角色 Role", "状态 State", "员工卡 Card"],
                [
                    [r.login, r.name, r.role, _state_text(inv, r), yes_no(r.has_employee_card)]
                    for r in rows
                ],
            )
        ],
    )


@operator.command("deactivate")
@click.argument("login")
@click.option("--reason", default="", help="停用原因（记入审计） Why (kept in the audit trail)")
@operator_options()
@click.pass_obj
def operator_deactivate(inv: Invocation, login: str, reason: str, creds: Credentials) -> None:
    """停用操作员 The operator can no longer sign in or approve (admins; not yourself, not the
    last admin)."""
    actor = signed_in(inv, creds)
    row = deactivate_operator(inv.store(), actor, login, reason)
    _operator_row(inv, row, "操作员已停用 Operator deactivated")


@operator.command("reactivate")
@click.argument("login")
@operator_options()
@click.pass_obj
def operator_reactivate(inv: Invocation, login: str, creds: Credentials) -> None:
    """启用操作员 A deactivated operator may sign in again (admins)."""
    actor = signed_in(inv, creds)
    row = reactivate_operator(inv.store(), actor, login)
    _operator_row(inv, row, "操作员已启用 Operator reactivated")


@operator.command("password")
@click.option("--new-password", required=True, metavar="PW", help="新密码 The new password")
@operator_options()
@click.pass_obj
def operator_password(inv: Invocation, new_password: str, creds: Credentials) -> None:
    """修改自己的密码 Change your own password (--password is the current one)."""
    actor, current = signed_in_with_password(inv, creds)
    change_password(inv.store(), actor, current, new_password)
    inv.out.result(
        {"login": actor.login, "changed": True},
        [("登录名 Login", actor.login)],
        title="密码已修改 Password changed",
    )


@operator.command("reset-password")
@click.argument("login")
@click.option(
    "--new-password", required=True, metavar="PW", help="新密码 The operator's new password"
)
@operator_options()
@click.pass_obj
def operator_reset_password(
    inv: Invocation, login: str, new_password: str, creds: Credentials
) -> None:
    """重置操作员密码 Set another operator's password and lift a lockout (admins)."""
    actor = signed_in(inv, creds)
    row = reset_password(inv.store(), actor, login, new_password)
    _operator_row(inv, row, "密码已重置 Password reset")


@click.group()
def rules() -> None:
    """规则 The store's rules (stored value, points, tiers)."""


def read_rules_file(file: Path) -> str:
    """The rules file's text: UTF-8 (with or without a BOM, as Windows editors save it)."""
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise RulesError(
            f"规则文件不是 UTF-8 编码：{file.name}（请用 UTF-8 保存）",
            f"The rules file is not UTF-8: {file.name} (save it as UTF-8)",
        ) from None
    except OSError as exc:
        raise RulesError(
            f"无法读取规则文件：{file.name}（{exc.strerror}）",
            f"Cannot read the rules file {file.name}: {exc.strerror}",
        ) from None


@rules.command("load")
@click.argument("file", type=FilePath(exists=True, dir_okay=False, path_type=Path))
@operator_options()
@click.pass_obj
def rules_load(inv: Invocation, file: Path, creds: Credentials) -> None:
    """加载规则文件 Load a rules file (TOML) as the new rules version (admins only)."""
    text = read_rules_file(file)
    actor = signed_in(inv, creds)
    loaded = load_rules(inv.store(), actor, text, source=file.name)
    inv.out.result(
        {"version": loaded.version, "label": loaded.label, "source": file.name},
        [("版本 Version", loaded.version), ("名称 Label", loaded.label), ("文件 File", file.name)],
        title="规则已加载 Rules loaded",
    )


@rules.command("show")
@click.pass_obj
def rules_show(inv: Invocation) -> None:
    """查看当前规则 Show the rules in force (no operator needed)."""
    ctx = inv.store()
    ctx.store  # noqa: B018 -- refuse politely on a store that is not set up
    loaded = show_rules(ctx)
    data = {"version": loaded.version, "label": loaded.label, "rules": rules_to_dict(loaded.rules)}
    _print_rules(inv, loaded, data)


def _multiplier(permille: int) -> str:
    return f"{Decimal(permille) / 1000:g}×"


def _print_rules(inv: Invocation, loaded: LoadedRules, data: dict[str, object]) -> None:
    r = loaded.rules
    sv, pts, tiers = r.stored_value, r.points, r.tiers
    version = loaded.version or "0（内置默认 built-in defaults）"
    inv.out.result(
        data,
        [
            ("版本 Version", version),
            ("名称 Label", loaded.label),
            ("扣款顺序 Spend order", sv.spend_order),
            ("最低充值 Min top-up", yuan(sv.min_topup_fen)),
            ("免密额度 PIN above", yuan(sv.pin_threshold_fen)),
            ("每日限额 Daily limit", yuan(sv.daily_limit_fen) if sv.daily_limit_fen else "—"),
            ("注销手续费 Cancel fee", yuan(sv.cancel_fee_fen)),
            ("积分/元 Points per yuan", pts.per_yuan),
            ("积分过期 Points expiry", _expiry_text(loaded)),
            ("推荐积分 Referral points", pts.referral_points),
            ("升级清零 Reset on upgrade", yes_no(pts.reset_on_upgrade)),
            ("等级窗口 Tier window", f"{tiers.window_days} 天 days"),
            ("复审日 Review date", tiers.review_date),
        ],
        title="当前规则 Rules in force",
        tables=[
            (
                "充值赠送 Top-up bonus",
                ["充值满 Top-up ≥", "赠送 Bonus"],
                [[yuan(b.min_topup_fen), yuan(b.bonus_fen)] for b in sv.bonus],
            ),
            (
                "会员等级 Tiers",
                ["代码 Code", "名称 Name", "折扣 Pays", "积分 Points", "升级 Upgrade at"],
                [
                    [
                        lvl.code,
                        f"{lvl.name} {lvl.name_en}",
                        f"{lvl.discount_percent}%",
                        _multiplier(lvl.points_multiplier_permille),
                        _upgrade_text(asdict(lvl)),
                    ]
                    for lvl in tiers.levels
                ],
            ),
        ],
    )


def _expiry_text(loaded: LoadedRules) -> str:
    pts = loaded.rules.points
    if pts.expiry == "rolling":
        return f"rolling {pts.rolling_months} 个月 months"
    if pts.expiry == "yearly":
        return f"yearly {pts.yearly_clear_date} (+{pts.yearly_keep_years})"
    return pts.expiry


def _upgrade_text(level: dict[str, int | str]) -> str:
    parts = []
    for key, label in (
        ("upgrade_cumulative_spend_fen", "累计 spend"),
        ("upgrade_single_purchase_fen", "单笔 receipt"),
        ("upgrade_topup_fen", "充值 top-up"),
    ):
        fen = level.get(key)
        if isinstance(fen, int) and fen:
            parts.append(f"{label} {yuan(fen)}")
    return ", ".join(parts) or "—"
