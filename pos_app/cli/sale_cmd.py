"""Selling from the command line: `sale`, `refund`, `reprint`.

`sale` prints the receipt as it would come off a 32- or 48-column printer; with --json it
prints the receipt document (amounts in fen) with the sale's figures on top.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from pos_app.cli.till_printer import PRINT, print_on_till
from pos_app.domain.errors import InvalidInput, NotFound
from pos_app.domain.money import parse_yuan
from pos_app.domain.permissions import Permission
from pos_app.domain.receipt import ReceiptDocument
from pos_app.domain.receipt_text import render_text
from pos_app.domain.sale_request import (
    TENDERS,
    LineRequest,
    SaleRequest,
    TenderRequest,
    parse_manual_rounding,
    parse_order_discount,
    typed_line,
)
from pos_app.services.auth import Actor
from pos_app.services.catalogue import show_product
from pos_app.services.checkout import SaleResult, sell
from pos_app.services.context import StoreContext
from pos_app.services.sale_records import reprint as reprint_receipt
from pos_app.services.sale_refund import refund_sale


@dataclass(frozen=True)
class TypedLine:
    """A --line as written, read once its product is known (a weight or a count)."""

    code: str
    quantity: str | None
    price_fen: int | None


def parse_line(text: str) -> TypedLine:
    """SKU_OR_BARCODE[:QTY_OR_WEIGHT][@PRICE]: D001:3, F005:0.5 (kg or 斤, as the product is
    priced), D001:2@1.50 (a changed unit price, 改价)."""
    line, at, price = text.strip().partition("@")
    code, colon, qty = line.strip().partition(":")
    try:
        return TypedLine(
            code.strip(), qty.strip() if colon else None, parse_yuan(price) if at else None
        )
    except InvalidInput as exc:
        raise InvalidInput(
            f"{exc.zh}（商品写作 编码:数量@改价，例如 D001:3 或 F005:0.5@10.00）",
            f"{exc.en} (an item is CODE:QTY@PRICE, for example D001:3 or F005:0.5@10.00)",
        ) from None


def resolve_line(
    ctx: StoreContext, actor: Actor, typed: TypedLine, *, returning: bool
) -> LineRequest:
    """The line a --line means: a weight for goods sold by weight, a count otherwise. A code
    the catalogue does not know goes to checkout as it is (a scale label, or its refusal);
    a return of a weighed product without a weight returns the whole line."""
    try:
        product = show_product(ctx, actor, typed.code)
    except NotFound:
        return LineRequest(typed.code, price_fen=typed.price_fen)
    if returning and product.sold_by_weight and typed.quantity is None:
        return LineRequest(typed.code)
    try:
        return typed_line(
            typed.code,
            typed.quantity,
            name=product.name,
            unit=product.unit,
            sold_by_weight=product.sold_by_weight,
            price_fen=typed.price_fen,
        )
    except InvalidInput as exc:
        raise InvalidInput(
            f"{exc.zh}（商品写作 编码:数量，例如 D001:3 或 F005:0.5）",
            f"{exc.en} (an item is CODE:QTY, for example D001:3 or F005:0.5)",
        ) from None


def parse_tender(text: str) -> TenderRequest:
    """TENDER[:AMOUNT[:REFERENCE]], e.g. cash:100, stored_value, wechat:12.50:WX20260302"""
    tender, _, rest = text.strip().partition(":")
    amount, _, reference = rest.partition(":")
    if tender not in TENDERS:
        raise InvalidInput(
            f"不支持的付款方式：{tender}（{'/'.join(TENDERS)}）",
            f"Not a tender: {tender} ({'/'.join(TENDERS)})",
        )
    return TenderRequest(tender, parse_yuan(amount) if amount else None, reference or None)


def _show(inv: Invocation, result: SaleResult, width: int, title: str, to_printer: bool) -> None:
    _print_document(
        inv,
        result.receipt,
        width,
        title,
        to_printer,
        extra={
            "sale_id": result.sale_id,
            "receipt_no": result.receipt_no,
            "total_fen": result.total_fen,
            "change_fen": result.change_fen,
            "points_earned": result.points_earned,
        },
    )


def _print_document(
    inv: Invocation,
    doc: ReceiptDocument,
    width: int,
    title: str,
    to_printer: bool,
    extra: dict[str, Any],
) -> None:
    # Printing comes after the commit and never undoes it: its outcome is only reported.
    printed = {"print": print_on_till(inv, doc)} if to_printer else {}
    if inv.as_json:
        inv.out.result({**extra, **printed, "receipt": doc.to_dict()})
        return
    inv.out.text(render_text(doc, width, inv.lang))
    inv.out.note(title)


WIDTH = click.option(
    "--width",
    type=click.Choice(["32", "48"]),
    default="32",
    show_default=True,
    help="小票宽度（字符） Receipt width in columns (58 mm = 32, 80 mm = 48)",
)


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--card", "card_no", metavar="CARD", help="会员卡号 Member card number")
@click.option("--member-no", help="会员号（无卡时） Member number, without a card")
@click.option(
    "--pin",
    is_flag=False,
    flag_value=ASK,
    metavar="PIN",
    help="卡密码（只写 --pin 则提示输入） Card PIN (--pin alone asks for it)",
)
@click.option(
    "--line",
    "lines",
    multiple=True,
    required=True,
    metavar="SKU_OR_BARCODE[:QTY][@PRICE]",
    help="商品（可重复）；称重商品写重量 F005:0.5；@ 后为改价 "
    "An item; repeat for more. Weighed goods take a weight (F005:0.5); @PRICE changes the price",
)
@click.option(
    "--order-discount",
    metavar="PCT%|AMOUNT",
    help="整单折扣：10% 或金额 5.00 Whole-order discount: 10% or an amount",
)
@click.option(
    "--round",
    "rounding",
    metavar="jiao|yuan|AMOUNT",
    help="手工抹零 Round the total down by hand: to the jiao, the yuan, or by an amount",
)
@click.option(
    "--coupon", "coupon_codes", multiple=True, metavar="CODE", help="优惠券码 Coupon code"
)
@click.option(
    "--pay",
    "tenders",
    multiple=True,
    required=True,
    metavar="TENDER[:AMOUNT[:REF]]",
    help="付款（可组合）：" + "/".join(TENDERS) + "；不写金额则付剩余部分 "
    "Tender; repeat to split. Without an amount it pays what is left",
)
@WIDTH
@PRINT
@operator_options(approver=True)
@click.pass_obj
def sale(
    inv: Invocation,
    card_no: str | None,
    member_no: str | None,
    pin: str | None,
    lines: tuple[str, ...],
    coupon_codes: tuple[str, ...],
    tenders: tuple[str, ...],
    order_discount: str | None,
    rounding: str | None,
    width: str,
    to_printer: bool,
    creds: Credentials,
) -> None:
    """收银 Sell: price the lines for the member (if any), take the tenders, print the receipt.

    A changed price, order discount or 抹零 beyond the rules' limits needs --approver."""
    typed = [parse_line(x) for x in lines]
    tender_requests = tuple(parse_tender(x) for x in tenders)
    discount = parse_order_discount(order_discount) if order_discount else None
    manual_rounding = parse_manual_rounding(rounding) if rounding else None
    actor = signed_in(inv, creds)
    ctx = inv.store()
    request = SaleRequest(
        lines=tuple(resolve_line(ctx, actor, t, returning=False) for t in typed),
        tenders=tender_requests,
        card_no=card_no,
        member_no=member_no,
        pin=ask_secret_if_flagged(pin, "卡密码 Card PIN"),
        coupon_codes=tuple(c.strip() for c in coupon_codes if c.strip()),
        order_discount=discount,
        manual_rounding=manual_rounding,
    )
    approval = approval_for(inv, creds, Permission.SALE_OVER_LIMIT)
    result = sell(ctx, actor, request, approval)
    _show(inv, result, int(width), f"已收款 Sale done: {result.receipt_no}", to_printer)


@click.command()
@click.argument("receipt_no")
@click.option(
    "--line",
    "lines",
    multiple=True,
    metavar="SKU[:QTY]",
    help="只退这些商品（可重复；称重商品写重量，不写则退整行）；不写则全退 Return only these "
    "(weighed goods: a weight, or the whole line); none returns everything left",
)
@WIDTH
@PRINT
@operator_options(approver=True)
@click.pass_obj
def refund(
    inv: Invocation,
    receipt_no: str,
    lines: tuple[str, ...],
    width: str,
    to_printer: bool,
    creds: Credentials,
) -> None:
    """退货 Return a sale by its receipt number, whole or some lines, back the way it was paid."""
    typed = [parse_line(x) for x in lines]
    actor = signed_in(inv, creds)
    ctx = inv.store()
    wanted = tuple(resolve_line(ctx, actor, t, returning=True) for t in typed) or None
    approval = approval_for(inv, creds, Permission.SALE_OVER_LIMIT)
    result = refund_sale(ctx, actor, receipt_no, wanted, approval)
    _show(inv, result, int(width), f"已退货 Refund done: {result.receipt_no}", to_printer)


@click.command()
@click.argument("receipt_no")
@WIDTH
@PRINT
@operator_options()
@click.pass_obj
def reprint(
    inv: Invocation, receipt_no: str, width: str, to_printer: bool, creds: Credentials
) -> None:
    """补打小票 Print a receipt again, marked as a reprint."""
    actor = signed_in(inv, creds)
    doc = reprint_receipt(inv.store(), actor, receipt_no)
    _print_document(
        inv,
        doc,
        int(width),
        f"补打 Reprint: {doc.receipt_no}",
        to_printer,
        {"receipt_no": doc.receipt_no},
    )
