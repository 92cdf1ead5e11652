"""The receipt document as plain text for a 32-column (58 mm) or 48-column (80 mm) printer.

Every line fits the paper exactly by display width (a Chinese character takes two columns),
amounts end on the last column, and nothing a person needs is cut: long names and labels wrap,
amounts never shrink. The last line is the receipt number alone, which the printer turns into
a barcode or QR code so the sale can be found again for a refund or reprint.

Amounts are shown by their effect on the total: a discount as a minus. A refund's document
holds negative amounts (money going back); its receipt shows them as what the customer gets
back, under labels that say so: the goods returned, the discount taken back (a minus: it
was not paid, so it is not refunded), 【应退】 the refund due, and the tenders refunded to.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import format_fen
from pos_app.domain.receipt import (
    ReceiptAdjustment,
    ReceiptDocument,
    ReceiptLine,
    ReceiptMember,
    ReceiptTender,
)
from pos_app.domain.text_width import center, display_width, pad_left, wrap
from pos_app.domain.weighed_goods import weight_text

WIDTHS = (32, 48)
INDENT = "  "
# A label shares its row with an amount only if this many columns are left for it;
# otherwise the label takes its own line(s) and the amount sits alone below, right-aligned.
MIN_LABEL_COLUMNS = 6


@dataclass(frozen=True)
class _Labels:
    store: str
    till: str
    sale: str
    refund: str
    reprint: str
    receipt_no: str
    time: str
    operator: str
    approved_by: str
    original_no: str
    gross: str
    discount: str
    rounding: str
    total: str
    cash_given: str
    change: str
    member: str
    mobile: str
    tier: str
    card: str
    stored_value: str
    principal: str
    bonus: str
    points_earned: str
    points_balance: str
    upgraded: str
    coupons_used: str
    notes: str
    reference: str
    thanks: str
    colon: str
    # On a refund receipt, in place of gross / discount / total, and above the tenders.
    refund_gross: str
    refund_discount: str
    refund_total: str
    refunded_to: str


_ZH = _Labels(
    store="门店",
    till="收银机",
    sale="销售单",
    refund="退货单",
    reprint="补打",
    receipt_no="单号",
    time="时间",
    operator="收银员",
    approved_by="审批",
    original_no="原单号",
    gross="合计",
    discount="优惠",
    rounding="抹零",
    total="【应收】",
    cash_given="实收现金",
    change="找零",
    member="会员",
    mobile="手机",
    tier="等级",
    card="卡号",
    stored_value="储值余额",
    principal="本金",
    bonus="赠送",
    points_earned="本次积分",
    points_balance="积分余额",
    upgraded="恭喜升级为",
    coupons_used="已用优惠券",
    notes="备注",
    reference="参考号",
    thanks="谢谢惠顾 欢迎再次光临",
    colon="：",
    refund_gross="退货金额",
    refund_discount="扣回优惠",
    refund_total="【应退】",
    refunded_to="退款方式",
)

_EN = _Labels(
    store="Store",
    till="Till",
    sale="SALE",
    refund="REFUND",
    reprint="REPRINT",
    receipt_no="Receipt",
    time="Time",
    operator="Cashier",
    approved_by="Approved by",
    original_no="Original no",
    gross="Gross",
    discount="Discount",
    rounding="Rounding",
    total="TOTAL",
    cash_given="Cash given",
    change="Change",
    member="Member",
    mobile="Mobile",
    tier="Tier",
    card="Card",
    stored_value="Stored value left",
    principal="Principal",
    bonus="Bonus",
    points_earned="Points earned",
    points_balance="Points balance",
    upgraded="Upgraded to",
    coupons_used="Coupons used",
    notes="Notes",
    reference="Ref",
    thanks="Thank you, please come again",
    colon=": ",
    refund_gross="Goods returned",
    refund_discount="Discount taken back",
    refund_total="REFUND DUE",
    refunded_to="Refunded to",
)


def _clean(text: str) -> str:
    """Control characters (a stray tab or newline in a product name) would break the layout."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text).strip()


class _Page:
    """Lines of one receipt, each within `width` columns."""

    def __init__(self, width: int, currency: str, *, refund: bool = False) -> None:
        self.width = width
        self.currency = currency
        # A refund's amounts are negative in the document; its receipt shows them as what
        # goes back to the customer.
        self.sign = -1 if refund else 1
        self.lines: list[str] = []

    def money(self, fen: int) -> str:
        return format_fen(fen, symbol=self.currency)

    def off(self, fen: int) -> str:
        """A discount of `fen` (positive = taken off) as its effect on the total."""
        return self.money(-fen)

    def rule(self, char: str = "-") -> None:
        self.lines.append(char * self.width)

    def text(self, text: str, indent: str = "") -> None:
        """Free text, wrapped; continuation lines keep the indent."""
        for line in wrap(_clean(text), self.width - display_width(indent)):
            self.lines.append(indent + line)

    def centered(self, text: str) -> None:
        for line in wrap(_clean(text), self.width):
            self.lines.append(center(line, self.width))

    def field(self, label: str, value: str, colon: str, indent: str = "") -> None:
        """ "单号：R…" — a labelled value, wrapped if long."""
        self.text(f"{label}{colon}{_clean(value)}", indent)

    def amount(self, label: str, value: str, indent: str = "") -> None:
        """A label on the left and a value ending on the last column; a label too long to
        share the row wraps above it, and the value is never cut."""
        value_width = display_width(value)
        room = self.width - display_width(indent) - value_width - 1
        if room < MIN_LABEL_COLUMNS:
            self.text(label, indent)
            self.lines.append(pad_left(value, self.width))
            return
        label_lines = wrap(_clean(label), room)
        for line in label_lines[:-1]:
            self.lines.append(indent + line)
        last = indent + label_lines[-1]
        self.lines.append(last + pad_left(value, self.width - display_width(last)))

    def render(self) -> str:
        return "\n".join(line.rstrip() for line in self.lines) + "\n"


def render_text(
    doc: ReceiptDocument, width: int = 32, lang: str = "zh", currency: str = "¥"
) -> str:
    """The receipt as lines of at most `width` (32 or 48) columns, in Chinese or English.

    `currency` is the yuan sign: "¥" for screens and terminals, the full-width "￥" (two
    columns) for Chinese receipt printers, whose GBK/GB18030 fonts garble "¥".
    """
    if width not in WIDTHS:
        raise InvalidInput(
            f"小票宽度只能是 32 或 48 列：{width}",
            f"A receipt is 32 or 48 columns wide: {width}",
        )
    en = lang.startswith("en")
    labels = _EN if en else _ZH
    page = _Page(width, currency, refund=doc.kind == "refund")
    _header(page, doc, labels)
    page.rule()
    for line in doc.lines:
        _line(page, line, en)
    page.rule()
    _totals(page, doc, labels, en)
    if doc.tenders or doc.cash_given_fen:
        page.rule()
        _tenders(page, doc, labels, en)
    if doc.member is not None:
        page.rule()
        _member(page, doc.member, labels, en)
    if doc.coupons_used or doc.notes:
        page.rule()
        _extras(page, doc, labels)
    page.rule()
    page.centered(labels.thanks)
    # Alone and unpadded: the printer reads this line as the barcode / QR code text.
    page.text(doc.receipt_no)
    return page.render()


def _header(page: _Page, doc: ReceiptDocument, labels: _Labels) -> None:
    page.centered(doc.store_name)
    page.centered(f"{labels.store} {doc.store_code}")
    page.centered(labels.refund if doc.kind == "refund" else labels.sale)
    if doc.reprint:
        page.centered(f"** {labels.reprint} **")
    page.field(labels.receipt_no, doc.receipt_no, labels.colon)
    if doc.till_id:
        page.field(labels.till, doc.till_id, labels.colon)
    if doc.original_receipt_no:
        page.field(labels.original_no, doc.original_receipt_no, labels.colon)
    page.field(labels.time, doc.business_time, labels.colon)
    page.field(labels.operator, doc.operator_name, labels.colon)
    if doc.approved_by_name:
        page.field(labels.approved_by, doc.approved_by_name, labels.colon)


def _adjustment(page: _Page, adjustment: ReceiptAdjustment, en: bool) -> None:
    label = adjustment.label_en if en else adjustment.label_zh
    page.amount(label, page.off(adjustment.amount_fen), INDENT)


def _line(page: _Page, line: ReceiptLine, en: bool) -> None:
    page.text(line.name)
    if line.weight_milli is not None:  # weighed goods: the weight at the price per kg/斤
        weight = weight_text(abs(line.weight_milli), line.unit)
        unit = f"{weight} x {page.money(line.unit_price_fen)}/{line.unit}"
    else:
        unit = f"{page.sign * line.qty} x {page.money(line.unit_price_fen)}"
    page.amount(unit, page.money(page.sign * line.gross_fen), INDENT)
    for adjustment in line.adjustments:
        _adjustment(page, adjustment, en)


def _totals(page: _Page, doc: ReceiptDocument, labels: _Labels, en: bool) -> None:
    if page.sign < 0:  # a refund: goods returned − discount taken back = refund due
        page.amount(labels.refund_gross, page.money(-doc.gross_fen))
        page.amount(labels.refund_discount, page.off(-doc.discount_fen))
        if doc.rounding_fen:
            page.amount(labels.rounding, page.off(-doc.rounding_fen))
        page.rule("=")
        page.amount(labels.refund_total, page.money(-doc.total_fen))
        return
    page.amount(labels.gross, page.money(doc.gross_fen))
    page.amount(labels.discount, page.off(doc.discount_fen))
    # Each sale-level discount under the row it makes up: coupons under 优惠, 抹零 under 抹零.
    for adjustment in doc.sale_adjustments:
        if adjustment.kind != "rounding" or not doc.rounding_fen:
            _adjustment(page, adjustment, en)
    if doc.rounding_fen:
        page.amount(labels.rounding, page.off(doc.rounding_fen))
        for adjustment in doc.sale_adjustments:
            if adjustment.kind == "rounding":
                _adjustment(page, adjustment, en)
    page.rule("=")
    page.amount(labels.total, page.money(doc.total_fen))


def _tender(page: _Page, tender: ReceiptTender, labels: _Labels, en: bool) -> None:
    label = tender.label_en if en else tender.label_zh
    page.amount(label, page.money(page.sign * tender.amount_fen))
    detail = tender.detail_en if en else tender.detail_zh
    if detail:
        page.text(detail, INDENT)
    if tender.reference:
        page.field(labels.reference, tender.reference, labels.colon, INDENT)


def _tenders(page: _Page, doc: ReceiptDocument, labels: _Labels, en: bool) -> None:
    if page.sign < 0:
        page.text(labels.refunded_to)
    for tender in doc.tenders:
        _tender(page, tender, labels, en)
    if doc.cash_given_fen:
        page.amount(labels.cash_given, page.money(doc.cash_given_fen))
        page.amount(labels.change, page.money(doc.change_fen))


def _member(page: _Page, member: ReceiptMember, labels: _Labels, en: bool) -> None:
    page.field(labels.member, f"{member.name} {member.member_no}", labels.colon)
    page.field(labels.mobile, member.masked_mobile, labels.colon)
    page.field(labels.tier, member.tier_name_en if en else member.tier_name, labels.colon)
    if member.card_no_masked:
        page.field(labels.card, member.card_no_masked, labels.colon)
    if member.stored_value_fen is not None:
        page.amount(labels.stored_value, page.money(member.stored_value_fen))
        if member.principal_fen is not None and member.bonus_fen is not None:
            page.amount(labels.principal, page.money(member.principal_fen), INDENT)
            page.amount(labels.bonus, page.money(member.bonus_fen), INDENT)
    earned = member.points_earned
    page.amount(labels.points_earned, f"{earned:+d}" if earned else "0")
    page.amount(labels.points_balance, str(member.points_balance))
    if member.tier_upgraded_to:
        # The document names the new tier once, in Chinese; it is usually the tier now held.
        upgraded = member.tier_upgraded_to
        if en and upgraded == member.tier_name:
            upgraded = member.tier_name_en
        page.text(f"{labels.upgraded} {upgraded}")
    for line in member.passes:
        page.text(line)


def _extras(page: _Page, doc: ReceiptDocument, labels: _Labels) -> None:
    if doc.coupons_used:
        page.text(labels.coupons_used)
        for coupon in doc.coupons_used:
            page.text(coupon, INDENT)
    if doc.notes:
        page.text(labels.notes)
        for note in doc.notes:
            page.text(note, INDENT)
