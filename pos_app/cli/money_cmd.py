"""Stored value (储值): `topup`, `balance`, `pay`, `refund-payment`, `topup-refund`."""

from __future__ import annotations

from typing import Any

import click

from pos_app.cli.invocation import Invocation
from pos_app.cli.operator_options import (
    ASK,
    Credentials,
    approval_for,
    ask_secret_if_flagged,
    operator_options,
    signed_in,
)
from pos_app.cli.output import Row, card_state_text, yes_no, yuan
from pos_app.cli.till_printer import PRINT, print_voucher_on_till
from pos_app.domain.money import MAX_TOPUP_FEN, parse_yuan
from pos_app.domain.permissions import Permission
from pos_app.services.stored_value import (
    TOPUP_TENDERS,
    Balance,
    pay_with_stored_value,
    refund_stored_value_payment,
    refund_top_up,
    top_up,
)
from pos_app.services.stored_value import balance as card_balance

# Let "-5" reach the amount check (and its clear message) instead of being taken for an option.
AMOUNT_COMMAND = {"ignore_unknown_options": True}


def balance_fields(b: Balance) -> dict[str, Any]:
    return {
        "card_no": b.card_no,
        "member_no": b.member_no,
        "member_name": b.member_name,
        "card_state": b.card_state,
        "principal_fen": b.principal_fen,
        "bonus_fen": b.bonus_fen,
        "stored_value_fen": b.stored_value_fen,
        "points": b.points,
        "tier": b.tier,
        "tier_name": b.tier_name,
        "pin_locked": b.pin_locked,
    }


def balance_rows(b: Balance) -> list[Row]:
    rows: list[Row] = [
        ("卡号 Card", b.card_no),
        ("会员 Member", f"{b.member_no} {b.member_name}"),
        ("状态 State", card_state_text(b.card_state)),
        ("本金 Principal", yuan(b.principal_fen)),
        ("赠送 Bonus", yuan(b.bonus_fen)),
        ("余额 Balance", yuan(b.stored_value_fen)),
        ("积分 Points", b.points),
        ("等级 Tier", f"{b.tier_name} {b.tier}"),
    ]
    if b.pin_locked:
        rows.append(("密码锁定 PIN locked", yes_no(True)))
    return rows


@click.command(context_settings=AMOUNT_COMMAND)
@click.argument("card_no", metavar="CARD")
@click.argument("amount")
@click.option(
    "--tender",
    type=click.Choice(TOPUP_TENDERS),
    default="cash",
    show_default=True,
    help="付款方式 How the member pays",
)
@click.option("--reference", help="支付参考号 Payment reference (bank, WeChat, Alipay)")
@PRINT
@operator_options()
@click.pass_obj
def topup(
    inv: Invocation,
    card_no: str,
    amount: str,
    tender: str,
    reference: str | None,
    to_printer: bool,
    creds: Credentials,
) -> None:
    """充值 Top up a card by AMOUNT yuan; the rules' bonus is added (充500送50).

    Taken in the operator's own open shift; --print prints the 充值凭证 and, for cash, opens
    the drawer."""
    amount_fen = parse_yuan(amount, max_fen=MAX_TOPUP_FEN)
    actor = signed_in(inv, creds)
    r = top_up(inv.store(), actor, card_no, amount_fen, tender=tender, reference=reference)
    printed = (
        print_voucher_on_till(
            inv, actor, r.entry_id, cash_fen=r.amount_fen if tender == "cash" else 0
        )
        if to_printer
        else None
    )
    rows: list[Row] = [
        ("充值 Amount", f"{yuan(r.amount_fen)} ({r.tender})"),
        ("赠送 Bonus", yuan(r.bonus_fen)),
        ("记录号 Entry", r.entry_id),
    ]
    if r.new_tier:
        rows.append(("升级 New tier", f"{r.balance.tier_name} {r.new_tier}"))
    if r.coupon_codes:
        rows.append(("赠券 Coupons", " ".join(r.coupon_codes)))
    inv.out.result(
        {
            "entry_id": r.entry_id,
            "amount_fen": r.amount_fen,
            "bonus_fen": r.bonus_fen,
            "tender": r.tender,
            "new_tier": r.new_tier,
            "coupon_codes": list(r.coupon_codes),
            "balance": balance_fields(r.balance),
            **({"printed": printed} if printed else {}),
        },
        rows + balance_rows(r.balance),
        title="充值成功 Top-up done",
    )


@click.command()
@click.argument("card_no", metavar="CARD")
@operator_options()
@click.pass_obj
def balance(inv: Invocation, card_no: str, creds: Credentials) -> None:
    """查询余额 What a card holds: principal, bonus, points, tier."""
    actor = signed_in(inv, creds)
    b = card_balance(inv.store(), actor, card_no)
    inv.out.result(balance_fields(b), balance_rows(b), title="余额 Balance")


@click.command(context_settings=AMOUNT_COMMAND)
@click.argument("card_no", metavar="CARD")
@click.argument("amount")
@click.option(
    "--pin",
    is_flag=False,
    flag_value=ASK,
    metavar="PIN",
    help="卡密码（只写 --pin 则提示输入） Card PIN (--pin alone asks for it)",
)
@click.option("--reference", help="小票号等 Receipt or other reference")
@operator_options()
@click.pass_obj
def pay(
    inv: Invocation,
    card_no: str,
    amount: str,
    pin: str | None,
    reference: str | None,
    creds: Credentials,
) -> None:
    """储值支付 Pay AMOUNT yuan from the card's stored value."""
    amount_fen = parse_yuan(amount)
    pin = ask_secret_if_flagged(pin, "卡密码 Card PIN")
    actor = signed_in(inv, creds)
    r = pay_with_stored_value(inv.store(), actor, card_no, amount_fen, pin=pin, reference=reference)
    inv.out.result(
        {
            "entry_id": r.entry_id,
            "amount_fen": r.amount_fen,
            "from_principal_fen": r.from_principal_fen,
            "from_bonus_fen": r.from_bonus_fen,
            "balance": balance_fields(r.balance),
        },
        [
            ("支付 Paid", yuan(r.amount_fen)),
            ("本金扣 From principal", yuan(r.from_principal_fen)),
            ("赠送扣 From bonus", yuan(r.from_bonus_fen)),
            ("记录号 Entry", r.entry_id),
            *balance_rows(r.balance),
        ],
        title="支付成功 Payment done",
    )


@click.command("refund-payment")
@click.argument("entry_id")
@operator_options(approver=True)
@click.pass_obj
def refund_payment(inv: Invocation, entry_id: str, creds: Credentials) -> None:
    """退储值消费 Refund a stored-value payment (by its entry id) to the buckets it came from."""
    actor = signed_in(inv, creds)
    approval = approval_for(inv, creds, Permission.STORED_VALUE_REFUND)
    r = refund_stored_value_payment(inv.store(), actor, entry_id.strip(), approval)
    inv.out.result(
        {
            "entry_id": r.entry_id,
            "refunded_entry_id": entry_id.strip(),
            "principal_returned_fen": r.returned.principal,
            "bonus_returned_fen": r.returned.bonus,
            "amount_fen": r.returned.total,
            "balance": balance_fields(r.balance),
        },
        [
            ("退回本金 Principal back", yuan(r.returned.principal)),
            ("退回赠送 Bonus back", yuan(r.returned.bonus)),
            ("记录号 Entry", r.entry_id),
            *balance_rows(r.balance),
        ],
        title="储值消费已退 Payment refunded",
    )


@click.command("topup-refund")
@click.argument("entry_id")
@PRINT
@operator_options(approver=True)
@click.pass_obj
def topup_refund(inv: Invocation, entry_id: str, to_printer: bool, creds: Credentials) -> None:
    """退充值 Refund a top-up (by its entry id): principal back less bonus already spent.

    Paid from the operator's own open shift; --print prints the voucher and opens the
    drawer for cash."""
    actor = signed_in(inv, creds)
    approval = approval_for(inv, creds, Permission.TOPUP_REFUND)
    r = refund_top_up(inv.store(), actor, entry_id.strip(), approval)
    printed = (
        print_voucher_on_till(inv, actor, r.entry_id, cash_fen=r.cash_out_fen)
        if to_printer
        else None
    )
    inv.out.result(
        {
            **({"printed": printed} if printed else {}),
            "entry_id": r.entry_id,
            "refunded_entry_id": entry_id.strip(),
            "principal_withdrawn_fen": r.returned.principal,
            "bonus_withdrawn_fen": r.returned.bonus,
            "cash_out_fen": r.cash_out_fen,
            "balance": balance_fields(r.balance),
        },
        [
            ("退给会员 Paid back", yuan(r.cash_out_fen)),
            ("扣除本金 Principal withdrawn", yuan(r.returned.principal)),
            ("扣除赠送 Bonus withdrawn", yuan(r.returned.bonus)),
            ("记录号 Entry", r.entry_id),
            *balance_rows(r.balance),
        ],
        title="充值已退 Top-up refunded",
    )
