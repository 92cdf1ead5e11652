"""Members: `member add`, `show`, `find`, `passes`, `edit` and `import`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from pos_app.cli import exit_codes
from pos_app.cli.invocation import Invocation
from pos_app.cli.number_params import WholeNumber
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.optional_services import load_service
from pos_app.cli.output import Row, card_state_text, local_time, yuan
from pos_app.cli.path_params import FilePath
from pos_app.cli.progress_display import StderrProgress
from pos_app.cli.sale_journal_cmd import member_history
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.services.members import (
    GENDERS,
    CardView,
    MemberView,
    find_members,
    register_member,
    show_member,
    update_member,
)
from pos_app.services.passes import member_passes

MAX_ERRORS_SHOWN = 50  # on screen; --json carries every reported error


def card_fields(card: CardView, *, reveal: bool = True) -> dict[str, Any]:
    """A card for JSON; `reveal=False` masks the number (cards the operator did not type)."""
    return {
        "card_no": card.card_no if reveal else mask_card_no(card.card_no),
        "media": card.media,
        "state": card.state,
        "principal_fen": card.principal_fen,
        "bonus_fen": card.bonus_fen,
        "stored_value_fen": card.stored_value_fen,
        "pin_set": card.pin_set,
        "pin_locked": card.pin_locked,
    }


def card_rows(card: CardView, *, reveal: bool = True) -> list[Row]:
    return [
        ("卡号 Card", card.card_no if reveal else mask_card_no(card.card_no)),
        ("介质 Media", card.media),
        ("状态 State", card_state_text(card.state)),
        ("本金 Principal", yuan(card.principal_fen)),
        ("赠送 Bonus", yuan(card.bonus_fen)),
        ("余额 Balance", yuan(card.stored_value_fen)),
        ("密码 PIN", _pin_text(card)),
    ]


def _pin_text(card: CardView) -> str:
    if card.pin_locked:
        return "已锁定 locked"
    return "已设置 set" if card.pin_set else "未设置 not set"


def member_fields(member: MemberView, shown_card: str | None, reveal_all: bool) -> dict[str, Any]:
    data = {k: v for k, v in asdict(member).items() if k != "cards"}
    data["cards"] = [
        card_fields(c, reveal=reveal_all or _same_card(c.card_no, shown_card)) for c in member.cards
    ]
    return data


def _same_card(card_no: str, typed: str | None) -> bool:
    return typed is not None and typed.strip().upper() == card_no


def print_member(
    inv: Invocation,
    member: MemberView,
    title: str,
    shown_card: str | None = None,
    reveal_all: bool = False,
) -> None:
    rows: list[Row] = [
        ("会员号 Member no", member.member_no),
        ("姓名 Name", member.name),
        ("手机 Mobile", member.mobile),
        ("等级 Tier", f"{member.tier_name} {member.tier}"),
        ("积分 Points", member.points),
    ]
    for label, value in (
        ("性别 Gender", member.gender),
        ("生日 Birthday", member.birthday),
        ("邮箱 Email", member.email),
        ("推荐人 Referrer", member.referrer_no),
        ("保级至 Tier held until", member.tier_locked_until),
    ):
        if value:
            rows.append((label, value))
    rows.append(("注册时间 Registered", local_time(member.registered_at, inv.store().tz)))
    body = [
        [
            c.card_no
            if reveal_all or _same_card(c.card_no, shown_card)
            else mask_card_no(c.card_no),
            c.media,
            card_state_text(c.state),
            yuan(c.principal_fen),
            yuan(c.bonus_fen),
            yuan(c.stored_value_fen),
            _pin_text(c),
        ]
        for c in member.cards
    ]
    inv.out.result(
        member_fields(member, shown_card, reveal_all),
        rows,
        title=title,
        tables=[
            (
                "会员卡 Cards",
                [
                    "卡号 Card",
                    "介质 Media",
                    "状态 State",
                    "本金 Principal",
                    "赠送 Bonus",
                    "余额 Balance",
                    "密码 PIN",
                ],
                body,
            )
        ],
    )


@click.group()
def member() -> None:
    """会员 Members: register, look up, edit, import."""


@member.command("add")
@click.option("--mobile", required=True, help="手机号 Mobile number")
@click.option("--name", required=True, help="姓名 Name")
@click.option("--birthday", metavar="YYYY-MM-DD", help="生日 Birthday")
@click.option("--referrer", metavar="MEMBER_NO", help="推荐人会员号 Referrer's member number")
@click.option("--gender", type=click.Choice(GENDERS), help="性别 Gender")
@click.option("--email", help="邮箱 Email")
@operator_options()
@click.pass_obj
def member_add(
    inv: Invocation,
    mobile: str,
    name: str,
    birthday: str | None,
    referrer: str | None,
    gender: str | None,
    email: str | None,
    creds: Credentials,
) -> None:
    """注册会员 Register a member: mobile and name are enough."""
    actor = signed_in(inv, creds)
    view = register_member(
        inv.store(),
        actor,
        mobile,
        name,
        birthday=birthday,
        gender=gender,
        email=email,
        referrer_no=referrer,
    )
    print_member(inv, view, "会员已注册 Member registered")


@member.command("show")
@click.option("--card", "card_no", metavar="CARD", help="卡号 Card number")
@click.option("--mobile", help="手机号 Mobile number")
@click.option("--member-no", metavar="N", help="会员号 Member number")
@click.option(
    "--show-card-numbers",
    is_flag=True,
    help="显示完整卡号 Show the member's other card numbers in full (masked by default)",
)
@operator_options()
@click.pass_obj
def member_show(
    inv: Invocation,
    card_no: str | None,
    mobile: str | None,
    member_no: str | None,
    show_card_numbers: bool,
    creds: Credentials,
) -> None:
    """查看会员 Show one member, found by card, mobile or member number (exactly one)."""
    given = [x for x in (card_no, mobile, member_no) if x]
    if len(given) != 1:
        raise click.UsageError(
            "请只给出 --card、--mobile、--member-no 中的一个 "
            "Give exactly one of --card, --mobile, --member-no"
        )
    actor = signed_in(inv, creds)
    view = show_member(inv.store(), actor, card_no=card_no, mobile=mobile, member_no=member_no)
    print_member(inv, view, "会员 Member", shown_card=card_no, reveal_all=show_card_numbers)


@member.command("find")
@click.argument("text")
@click.option("--limit", default=20, show_default=True, type=WholeNumber(1, 500, "条数", "limit"))
@operator_options()
@click.pass_obj
def member_find(inv: Invocation, text: str, limit: int, creds: Credentials) -> None:
    """查找会员 Find members by mobile (full or last 4), name, member or card number."""
    actor = signed_in(inv, creds)
    hits = find_members(inv.store(), actor, text, limit=limit)
    inv.out.result(
        {"count": len(hits), "members": [asdict(h) for h in hits]},
        title=f"找到 {len(hits)} 位会员 Found {len(hits)} member(s)",
        tables=[
            (
                "",
                ["会员号 Member no", "姓名 Name", "手机 Mobile", "等级 Tier"],
                [[h.member_no, h.name, h.mobile, h.tier_name] for h in hits],
            )
        ],
    )


@member.command("passes")
@click.option("--card", "card_no", metavar="CARD", help="卡号 Card number")
@click.option("--member-no", metavar="N", help="会员号 Member number")
@click.option(
    "--all",
    "include_expired",
    is_flag=True,
    help="也显示已过期、已用完、已退的卡 Also show expired, used-up and refunded cards",
)
@operator_options()
@click.pass_obj
def member_passes_cmd(
    inv: Invocation,
    card_no: str | None,
    member_no: str | None,
    include_expired: bool,
    creds: Credentials,
) -> None:
    """次卡/时卡 Show a member's count, time, package and trial cards."""
    if bool(card_no) == bool(member_no):
        raise click.UsageError(
            "请只给出 --card、--member-no 中的一个 Give exactly one of --card, --member-no"
        )
    actor = signed_in(inv, creds)
    views = member_passes(
        inv.store(), actor, member_no=member_no, card_no=card_no, include_expired=include_expired
    )
    inv.out.result(
        {"count": len(views), "passes": [asdict(v) for v in views]},
        title=f"次卡/时卡 {len(views)} 张 Service cards: {len(views)}",
        tables=[
            (
                "",
                ["编码 SKU", "有效期至 Valid until", "状态 Status", "内容 Uses"],
                [[v.product_sku, v.valid_until, v.status, v.text(inv.lang)] for v in views],
            )
        ],
    )


@member.command("edit")
@click.option("--member-no", required=True, metavar="N", help="会员号 Member number")
@click.option("--name", help="姓名 Name")
@click.option("--mobile", help="手机号 Mobile number")
@click.option("--birthday", metavar="YYYY-MM-DD", help="生日 Birthday")
@click.option("--email", help="邮箱 Email (empty to clear)")
@click.option("--gender", type=click.Choice(GENDERS), help="性别 Gender")
@click.option("--address", help="地址 Address (empty to clear)")
@click.option("--notes", help="备注 Notes (empty to clear)")
@operator_options()
@click.pass_obj
def member_edit(inv: Invocation, member_no: str, creds: Credentials, **changes: str | None) -> None:
    """修改会员资料 Edit a member's profile (only the fields given change)."""
    if all(v is None for v in changes.values()):
        raise click.UsageError("没有要修改的内容 Nothing to change: give at least one field")
    actor = signed_in(inv, creds)
    view = update_member(inv.store(), actor, member_no, **changes)
    print_member(inv, view, "会员资料已更新 Member updated")


@member.command("import")
@click.argument("file", type=FilePath(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--only-valid",
    is_flag=True,
    help="只导入有效行（其余跳过并报告） Import the valid rows, report and skip the others",
)
@click.option("--dry-run", is_flag=True, help="只校验不写入 Check the file, write nothing")
@operator_options()
@click.pass_obj
def member_import(
    inv: Invocation, file: Path, only_valid: bool, dry_run: bool, creds: Credentials
) -> None:
    """导入会员 Import members with their cards from a CSV file (admins); progress on stderr.

    Columns: mobile, name, card_no (required); media, birthday, gender, principal, bonus,
    points (optional). A file with any error imports nothing unless --only-valid.
    """
    service = load_service("member_import", "导入会员", "import members")
    actor = signed_in(inv, creds)
    with StderrProgress("导入会员 Importing members") as progress:
        result = service.import_members(
            inv.store(), actor, file, progress=progress, only_valid=only_valid, dry_run=dry_run
        )
    _print_import(inv, result, only_valid)


def _print_import(inv: Invocation, result: Any, only_valid: bool) -> None:
    """The import's counts and its row errors; a refused file exits 2, a stopped import 1."""
    data = asdict(result)
    data["ok"] = bool(result.ok)
    data["errors"] = [
        {"row": e.row, "column": e.column, "message": e.message(inv.lang)} for e in result.errors
    ]
    refused = bool(result.error_count) and not only_valid
    stopped = result.stopped_at_row is not None
    message = None
    if refused:
        message = (
            f"File refused: {result.error_count} error(s), nothing imported"
            if inv.lang == "en"
            else f"文件有 {result.error_count} 处错误，未导入任何会员"
        )
        data.update(error="invalid_input", message=message)
    elif stopped:
        message = (
            f"Import stopped at row {result.stopped_at_row}; rows before it were imported"
            if inv.lang == "en"
            else f"导入在第 {result.stopped_at_row} 行停止，之前的行已导入"
        )
        data.update(error="import_stopped", message=message)
    rows: list[Row] = [
        ("文件行数 Rows", result.rows),
        ("有效 Valid", result.valid_rows),
        ("已导入 Imported", result.imported),
        ("跳过 Skipped", result.skipped),
        ("账本记录 Entries", result.entries),
        ("期初本金 Opening principal", yuan(result.opening_principal_fen)),
        ("期初赠送 Opening bonus", yuan(result.opening_bonus_fen)),
        ("期初积分 Opening points", result.opening_points),
    ]
    if result.first_member_no:
        rows.append(("会员号 Member nos", f"{result.first_member_no} – {result.last_member_no}"))
    rows.append(("用时 Seconds", f"{result.seconds:.1f}"))
    shown = result.errors[:MAX_ERRORS_SHOWN]
    tables = []
    if result.error_count:
        more = result.error_count - len(shown)
        caption = f"错误 Errors ({result.error_count})" + (
            f"，仅显示前 {len(shown)} 条 first {len(shown)} shown" if more > 0 else ""
        )
        tables.append(
            (
                caption,
                ["行 Row", "列 Column", "原因 Reason"],
                [[e.row, e.column, e.reason if inv.lang == "en" else e.reason_zh] for e in shown],
            )
        )
    title = "试运行 Dry run" if result.dry_run else "会员导入 Member import"
    inv.out.result(data, rows, title=title, tables=tables)
    if message is not None:  # the JSON object above already carries "error" and "message"
        inv.out.complain(message)
        raise click.exceptions.Exit(exit_codes.USAGE if refused else exit_codes.REFUSED)


# 消费/充值明细 lives with the sales journal, which it shares its listing with.
member.add_command(member_history)
