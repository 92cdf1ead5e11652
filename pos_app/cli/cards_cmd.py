"""Cards: `card issue`, `lost`, `found`, `freeze`, `unfreeze`, `cancel`, `replace`,
`reset-pin` and `stock-import`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from pos_app.cli.invocation import Invocation
from pos_app.cli.members_cmd import card_fields, card_rows
from pos_app.cli.operator_options import (
    ASK,
    Credentials,
    approval_for,
    ask_secret_if_flagged,
    operator_options,
    signed_in,
)
from pos_app.cli.output import yuan
from pos_app.cli.path_params import FilePath
from pos_app.cli.progress_display import StderrProgress
from pos_app.cli.till_printer import PRINT, print_voucher_on_till
from pos_app.domain.card_lifecycle import CardMedia
from pos_app.domain.errors import InvalidInput
from pos_app.domain.permissions import Permission
from pos_app.services.auth import Actor
from pos_app.services.cards import (
    cancel_card,
    freeze_card,
    import_card_stock,
    issue_card,
    mark_card_found,
    replace_card,
    report_card_lost,
    reset_pin,
    unfreeze_card,
)
from pos_app.services.context import StoreContext
from pos_app.services.members import CardView
from pos_app.services.stored_value import TOPUP_TENDERS

MEDIA = [m.value for m in CardMedia]


@click.group()
def card() -> None:
    """会员卡 Cards: issue, lost/found, freeze, replace, cancel, PIN, stock."""


def _print_card(inv: Invocation, action: str, view: CardView, title: str) -> None:
    inv.out.result({"action": action, "card": card_fields(view)}, card_rows(view), title=title)


@card.command("issue")
@click.option("--member-no", required=True, metavar="N", help="会员号 Member number")
@click.option("--card-no", required=True, metavar="CARD", help="卡号 Card number")
@click.option(
    "--media", type=click.Choice(MEDIA), default="ic", show_default=True, help="介质 Medium"
)
@click.option(
    "--pin",
    is_flag=False,
    flag_value=ASK,
    metavar="PIN",
    help="卡密码（6 位数字；只写 --pin 则提示输入） Card PIN (--pin alone asks)",
)
@operator_options()
@click.pass_obj
def card_issue(
    inv: Invocation,
    member_no: str,
    card_no: str,
    media: str,
    pin: str | None,
    creds: Credentials,
) -> None:
    """发卡 Give a member a card (from stock, or a new number)."""
    pin = ask_secret_if_flagged(pin, "卡密码 Card PIN")
    actor = signed_in(inv, creds)
    view = issue_card(inv.store(), actor, member_no, card_no, media=media, pin=pin)
    inv.out.result(
        {"action": "issue", "member_no": member_no.strip(), "card": card_fields(view)},
        [("会员号 Member no", member_no.strip()), *card_rows(view)],
        title="发卡成功 Card issued",
    )


StateService = Callable[[StoreContext, Actor, str], CardView]


def _state_command(name: str, service: StateService, title: str, doc: str) -> click.Command:
    @card.command(name, help=doc)
    @click.argument("card_no", metavar="CARD")
    @operator_options()
    @click.pass_obj
    def command(inv: Invocation, card_no: str, creds: Credentials) -> None:
        actor = signed_in(inv, creds)
        _print_card(inv, name, service(inv.store(), actor, card_no), title)

    return command


card_lost = _state_command(
    "lost",
    report_card_lost,
    "已挂失 Card reported lost",
    "挂失 Report a card lost: it stops paying at once, its balance stays safe.",
)
card_found = _state_command(
    "found", mark_card_found, "已解挂 Card found", "解挂 A lost card turned up (managers)."
)
card_freeze = _state_command(
    "freeze", freeze_card, "已冻结 Card frozen", "冻结 Freeze a card (managers)."
)
card_unfreeze = _state_command(
    "unfreeze", unfreeze_card, "已解冻 Card unfrozen", "解冻 Unfreeze a card (managers)."
)


@card.command("cancel")
@click.argument("card_no", metavar="CARD")
@click.option(
    "--tender",
    type=click.Choice(TOPUP_TENDERS),
    default="cash",
    show_default=True,
    help="退款方式 How the principal is paid back",
)
@PRINT
@operator_options(approver=True)
@click.pass_obj
def card_cancel(
    inv: Invocation, card_no: str, tender: str, to_printer: bool, creds: Credentials
) -> None:
    """注销 Cancel a card: principal refunded less the fee, bonus forfeited (needs a manager).

    A refund is paid from the operator's own open shift; --print prints the 退卡凭证 and
    opens the drawer for cash."""
    actor = signed_in(inv, creds)
    approval = approval_for(inv, creds, Permission.CARD_CANCEL)
    result = cancel_card(inv.store(), actor, card_no, approval=approval, tender=tender)
    cash = result.refund_fen if tender == "cash" else 0
    printed = (
        print_voucher_on_till(inv, actor, result.entry_id, cash_fen=cash) if to_printer else None
    )
    inv.out.result(
        {
            **({"printed": printed} if printed else {}),
            "action": "cancel",
            "card": card_fields(result.card),
            "refund_fen": result.refund_fen,
            "fee_fen": result.fee_fen,
            "forfeited_bonus_fen": result.forfeited_bonus_fen,
            "tender": tender,
        },
        [
            ("卡号 Card", result.card.card_no),
            ("退还本金 Refund", f"{yuan(result.refund_fen)} ({tender})"),
            ("手续费 Fee", yuan(result.fee_fen)),
            ("作废赠送 Bonus forfeited", yuan(result.forfeited_bonus_fen)),
        ],
        title="卡已注销 Card cancelled",
    )


@card.command("replace")
@click.argument("old_card", metavar="OLD_CARD")
@click.argument("new_card", metavar="NEW_CARD")
@click.option("--media", type=click.Choice(MEDIA), help="新卡介质 New card's medium")
@PRINT
@operator_options(approver=True)
@click.pass_obj
def card_replace(
    inv: Invocation,
    old_card: str,
    new_card: str,
    media: str | None,
    to_printer: bool,
    creds: Credentials,
) -> None:
    """换卡/补卡 Move every balance to a new card; the old one is dead (needs a manager).

    --print prints the 换卡凭证 with the balances on the new card."""
    actor = signed_in(inv, creds)
    approval = approval_for(inv, creds, Permission.CARD_REPLACE)
    result = replace_card(inv.store(), actor, old_card, new_card, approval=approval, media=media)
    printed = print_voucher_on_till(inv, actor, result.entry_id) if to_printer else None
    inv.out.result(
        {
            **({"printed": printed} if printed else {}),
            "action": "replace",
            "old_card": card_fields(result.old),
            "new_card": card_fields(result.new),
            "moved_principal_fen": result.moved_principal_fen,
            "moved_bonus_fen": result.moved_bonus_fen,
        },
        [
            ("旧卡 Old card", result.old.card_no),
            ("新卡 New card", result.new.card_no),
            ("转入本金 Principal moved", yuan(result.moved_principal_fen)),
            ("转入赠送 Bonus moved", yuan(result.moved_bonus_fen)),
        ],
        title="换卡成功 Card replaced",
    )


@card.command("reset-pin")
@click.argument("card_no", metavar="CARD")
@click.option(
    "--new-pin",
    required=True,
    is_flag=False,
    flag_value=ASK,
    metavar="PIN",
    help="新密码（6 位数字；只写 --new-pin 则提示输入） New PIN (--new-pin alone asks)",
)
@operator_options(approver=True)
@click.pass_obj
def card_reset_pin(inv: Invocation, card_no: str, new_pin: str, creds: Credentials) -> None:
    """重置密码 Set a new PIN and lift the lock (needs a manager)."""
    pin = ask_secret_if_flagged(new_pin, "新卡密码 New card PIN") or ""
    actor = signed_in(inv, creds)
    approval = approval_for(inv, creds, Permission.PIN_RESET)
    _print_card(
        inv,
        "reset-pin",
        reset_pin(inv.store(), actor, card_no, pin, approval),
        "密码已重置 PIN reset",
    )


@card.command("stock-import")
@click.argument("file", type=FilePath(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--media", type=click.Choice(MEDIA), default="ic", show_default=True, help="介质 Medium"
)
@click.option("--label", default="", help="批次名称 Batch label")
@operator_options()
@click.pass_obj
def card_stock_import(
    inv: Invocation, file: Path, media: str, label: str, creds: Credentials
) -> None:
    """导入卡库存 Import blank cards, one number per line (managers); all or nothing."""
    try:
        numbers = file.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InvalidInput(
            f"文件不是 UTF-8 编码：{file.name}", f"The file is not UTF-8: {file.name}"
        ) from None
    actor = signed_in(inv, creds)
    with StderrProgress("导入卡 Importing cards") as progress:
        result = import_card_stock(
            inv.store(), actor, numbers, media=media, label=label or file.name, progress=progress
        )
    inv.out.result(
        {
            "batch_id": result.batch_id,
            "imported": result.imported,
            "media": media,
            "label": label or file.name,
        },
        [
            ("批次 Batch", result.batch_id),
            ("数量 Cards", result.imported),
            ("介质 Media", media),
            ("名称 Label", label or file.name),
        ],
        title="卡库存已导入 Card stock imported",
    )
