"""X, Z, day-end and period reports as plain text for a 32- or 48-column printer (or a screen).

Widths are display columns (a Chinese character takes two); amounts end on the last column
and are never cut, long labels wrap. Amounts leaving the till carry a minus sign, so the cash
section reads as a sum: float + what came in − what went out = expected.
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import format_fen
from pos_app.domain.report_figures import Figures
from pos_app.domain.sale_request import TENDER_NAMES
from pos_app.domain.text_width import center, display_width, pad_left, wrap

WIDTHS = (32, 48)
INDENT = "  "
MIN_LABEL_COLUMNS = 6

# kind → (zh, en) title
TITLES = {
    "x": ("X 报表（班中）", "X REPORT (mid-shift)"),
    "z": ("Z 报表（交班）", "Z REPORT (shift close)"),
    "day": ("日结报表", "DAY-END REPORT"),
    "day_open": ("日报表（未日结）", "DAY REPORT (not closed)"),
    "range": ("营业报表", "PERIOD REPORT"),
}

_LABELS: dict[str, tuple[str, str]] = {
    "store": ("门店", "Store"),
    "till": ("收银机", "Till"),
    "shift": ("班次", "Shift"),
    "day": ("营业日", "Day"),
    "from": ("从", "From"),
    "to": ("至", "To"),
    "operator": ("收银员", "Cashier"),
    "closed_by": ("日结人", "Closed by"),
    "printed": ("打印时间", "Printed"),
    "ledger": ("账本末条", "Ledger head"),
    "sales": ("销售", "Sales"),
    "sales_count": ("销售笔数", "Number of sales"),
    "gross": ("原价合计", "Gross"),
    "discount": ("优惠", "Discounts"),
    "rounding": ("抹零", "Rounding"),
    "sales_fen": ("销售额", "Sales total"),
    "refunds": ("退货", "Refunds"),
    "net": ("净销售额", "Net sales"),
    "less_cards": ("减：售卡（预收）", "less cards sold (prepaid)"),
    "delivered": ("销售（商品与服务）", "Delivered (goods & services)"),
    "received": ("收款", "Money received"),
    "received_sales": ("销售收款", "on sales"),
    "received_topups": ("充值", "top-ups"),
    "received_out": ("退充值/注销", "top-ups paid back"),
    "received_total": ("收款合计", "Received total"),
    "prepaid": ("预收（负债增加）", "Prepaid sold (liability)"),
    "prepaid_cards": ("售次卡/时卡", "Service cards sold"),
    "prepaid_topups": ("充值本金", "Top-up principal"),
    "prepaid_out": ("退充值/注销退款", "Paid back"),
    "prepaid_total": ("预收合计", "Prepaid total"),
    "redeemed": ("核销（预付消费）", "Prepaid redeemed"),
    "redeemed_sv": ("储值消费", "Stored value"),
    "redeemed_passes": ("次卡/时卡使用", "Service card uses"),
    "redeemed_points": ("积分抵扣", "Points"),
    "redeemed_total": ("核销合计", "Redeemed total"),
    "redeemed_coupons": ("优惠券面值（已含在优惠）", "Coupons at face (in discounts)"),
    "check": ("收款－预收＋核销＝销售", "Received - prepaid + redeemed = delivered"),
    "average": ("客单价", "Average ticket"),
    "member": ("会员", "Members"),
    "non_member": ("非会员", "Non-members"),
    "count_unit": ("笔", ""),
    "tenders": ("销售按付款方式", "Sales by tender"),
    "tender_refund": ("退款", "refunded"),
    "tenders_total": ("付款合计（＝净销售额）", "Tenders total (= net sales)"),
    "topups": ("充值", "Top-ups"),
    "bonus": ("赠送", "bonus"),
    "topup_refunds": ("退充值", "Top-up refunds"),
    "sv_used": ("储值消费", "Stored value used"),
    "principal": ("本金", "Principal"),
    "bonus_bucket": ("赠送金", "Bonus"),
    "points": ("积分", "Points"),
    "points_issued": ("发放", "Issued"),
    "points_redeemed": ("抵扣/兑换", "Redeemed"),
    "points_reversed": ("退货冲回", "Reversed"),
    "points_expired": ("过期", "Expired"),
    "points_adjusted_out": ("调减", "Adjusted down"),
    "coupons": ("优惠券", "Coupons"),
    "coupons_issued": ("发放", "Issued"),
    "coupons_redeemed": ("核销", "Redeemed"),
    "members_registered": ("新会员", "New members"),
    "cash": ("现金", "Cash"),
    "float": ("备用金", "Float"),
    "cash_sales": ("现金销售", "Cash sales"),
    "cash_refunds": ("现金退款", "Cash refunds"),
    "cash_topups": ("现金充值", "Cash top-ups"),
    "cash_topup_refunds": ("退充值", "Top-up refunds"),
    "card_cancel": ("注销退款", "Card cancellations"),
    "paid_in": ("收入", "Paid in"),
    "paid_out": ("支出", "Paid out"),
    "expected": ("应有现金", "Expected cash"),
    "counted": ("实点现金", "Counted cash"),
    "over_short": ("长款(+)/短款(-)", "Over (+) / short (-)"),
    "not_counted": ("未点钞", "not counted"),
}


@dataclass(frozen=True)
class ReportHeading:
    """What the report is of; times are already local display text (the domain has no clock)."""

    kind: str  # x, z, day, day_open, range
    store_name: str
    period_from: str
    period_to: str
    shift_no: int | None = None
    day: str | None = None
    operator: str | None = None
    closed_by: str | None = None
    printed_at: str | None = None
    ledger_head: str | None = None  # "#seq hash…": the paper copy of the chain's head
    till_id: str | None = None  # the till whose records these are ("SH01-01")


def _money(fen: int) -> str:
    return format_fen(fen)


def _signed(fen: int) -> str:
    return f"+{format_fen(fen)}" if fen > 0 else format_fen(fen)


class _Page:
    def __init__(self, width: int, en: bool) -> None:
        self.width = width
        self.en = en
        self.lines: list[str] = []

    def label(self, key: str) -> str:
        zh, en = _LABELS[key]
        return en if self.en else zh

    def rule(self, char: str = "-") -> None:
        self.lines.append(char * self.width)

    def text(self, text: str, indent: str = "") -> None:
        for line in wrap(text, self.width - display_width(indent)):
            self.lines.append(indent + line)

    def centered(self, text: str) -> None:
        for line in wrap(text, self.width):
            self.lines.append(center(line, self.width))

    def field(self, key: str, value: str) -> None:
        colon = ": " if self.en else "："
        self.text(f"{self.label(key)}{colon}{value}")

    def amount(self, label: str, value: str, indent: str = INDENT) -> None:
        """A label on the left and a value ending on the last column; the value is never cut."""
        room = self.width - display_width(indent) - display_width(value) - 1
        if room < MIN_LABEL_COLUMNS:
            self.text(label, indent)
            self.lines.append(pad_left(value, self.width))
            return
        label_lines = wrap(label, room)
        for line in label_lines[:-1]:
            self.lines.append(indent + line)
        last = indent + label_lines[-1]
        self.lines.append(last + pad_left(value, self.width - display_width(last)))

    def counted(self, key: str, count: int, value: str, indent: str = INDENT) -> None:
        """ "退货 3 笔 … -¥12.00" / "Refunds (3) … -¥12.00"."""
        label = (
            f"{self.label(key)} ({count})"
            if self.en
            else f"{self.label(key)} {count} {self.label('count_unit')}"
        )
        self.amount(label, value, indent)

    def render(self) -> str:
        return "\n".join(line.rstrip() for line in self.lines) + "\n"


def render_report(
    heading: ReportHeading, figures: Figures, width: int = 32, lang: str = "zh"
) -> str:
    """The report as lines of at most `width` (32 or 48) columns, in Chinese or English."""
    if width not in WIDTHS:
        raise InvalidInput(
            f"报表宽度只能是 32 或 48 列：{width}",
            f"A report is 32 or 48 columns wide: {width}",
        )
    page = _Page(width, lang.startswith("en"))
    _heading(page, heading)
    page.rule()
    _sales(page, figures)
    page.rule()
    _received(page, figures)
    page.rule()
    _tenders(page, figures)
    page.rule()
    _members_and_value(page, figures)
    page.rule()
    _cash(page, figures)
    page.rule("=")
    return page.render()


def _heading(page: _Page, h: ReportHeading) -> None:
    zh, en = TITLES.get(h.kind, (h.kind, h.kind))
    page.centered(h.store_name)
    page.centered(en if page.en else zh)
    if h.till_id:
        page.field("till", h.till_id)
    if h.shift_no is not None:
        page.field("shift", str(h.shift_no))
    if h.day:
        page.field("day", h.day)
    page.field("from", h.period_from)
    page.field("to", h.period_to)
    if h.operator:
        page.field("operator", h.operator)
    if h.closed_by:
        page.field("closed_by", h.closed_by)
    if h.printed_at:
        page.field("printed", h.printed_at)
    if h.ledger_head:
        page.field("ledger", h.ledger_head)


def _sales(page: _Page, f: Figures) -> None:
    page.text(page.label("sales"))
    page.amount(page.label("sales_count"), str(f.sales_count))
    page.amount(page.label("gross"), _money(f.gross_fen))
    page.amount(page.label("discount"), _money(-f.discount_fen))
    if f.rounding_fen:
        page.amount(page.label("rounding"), _money(-f.rounding_fen))
    page.amount(page.label("sales_fen"), _money(f.sales_fen))
    page.counted("refunds", f.refunds_count, _money(-f.refunds_fen))
    page.amount(page.label("net"), _money(f.net_fen))
    if f.card_sales_fen:
        page.amount(page.label("less_cards"), _money(-f.card_sales_fen))
    page.amount(page.label("delivered"), _money(f.delivered_fen))
    page.amount(page.label("average"), _money(f.average_ticket_fen))
    page.counted("member", f.member_sales_count, _money(f.member_net_fen))
    page.counted("non_member", f.non_member_sales_count, _money(f.non_member_net_fen))


def _received(page: _Page, f: Figures) -> None:
    """收款, 预收 and 核销, ending on the line that ties them to 销售."""
    page.text(page.label("received"))
    for r in f.received:
        zh, en = TENDER_NAMES.get(r.tender, (r.tender, r.tender))
        page.amount(en if page.en else zh, _money(r.net_fen))
        if r.topups_fen:
            page.amount(page.label("received_topups"), _money(r.topups_fen), INDENT * 2)
        paid_back = r.topup_refunds_fen + r.card_cancel_fen
        if paid_back:
            page.amount(page.label("received_out"), _money(-paid_back), INDENT * 2)
    page.amount(page.label("received_total"), _money(f.received_fen))
    page.text(page.label("prepaid"))
    page.amount(page.label("prepaid_cards"), _money(f.card_sales_fen))
    page.amount(page.label("prepaid_topups"), _money(f.topups_fen))
    paid_back = f.topup_refunds_fen + f.card_cancel_fen
    if paid_back:
        page.amount(page.label("prepaid_out"), _money(-paid_back))
    page.amount(page.label("prepaid_total"), _money(f.prepaid_sold_fen))
    page.text(page.label("redeemed"))
    page.amount(page.label("redeemed_sv"), _money(f.redeemed_sv_fen))
    page.amount(page.label("redeemed_passes"), _money(f.redeemed_passes_fen))
    page.amount(page.label("redeemed_points"), _money(f.redeemed_points_fen))
    page.amount(page.label("redeemed_total"), _money(f.redeemed_fen))
    if f.coupons_face_fen:
        page.amount(page.label("redeemed_coupons"), _money(f.coupons_face_fen))
    page.text(page.label("check"))
    check = (
        f"{_money(f.received_fen)} - {_money(f.prepaid_sold_fen)}"
        f" + {_money(f.redeemed_fen)} = {_money(f.delivered_fen)}"
    )
    page.text(check, INDENT)


def _tenders(page: _Page, f: Figures) -> None:
    page.text(page.label("tenders"))
    for t in f.tenders:
        zh, en = TENDER_NAMES.get(t.tender, (t.tender, t.tender))
        page.amount(en if page.en else zh, _money(t.net_fen))
        if t.refunds_fen:
            page.amount(page.label("tender_refund"), _money(-t.refunds_fen), INDENT * 2)
    page.amount(page.label("tenders_total"), _money(f.tenders_net_fen))


def _members_and_value(page: _Page, f: Figures) -> None:
    page.text(page.label("topups"))
    for t in f.topups:
        zh, en = TENDER_NAMES.get(t.tender, (t.tender, t.tender))
        label = f"{en} ({t.count})" if page.en else f"{zh} {t.count} {page.label('count_unit')}"
        page.amount(label, _money(t.amount_fen))
        if t.bonus_fen:
            page.amount(page.label("bonus"), _money(t.bonus_fen), INDENT * 2)
    refunds = sum(t.count for t in f.topup_refunds)
    if refunds:
        page.counted("topup_refunds", refunds, _money(-f.topup_refunds_fen))
    page.text(page.label("sv_used"))
    page.amount(page.label("principal"), _money(f.sv_principal_used_fen))
    page.amount(page.label("bonus_bucket"), _money(f.sv_bonus_used_fen))
    page.text(page.label("points"))
    page.amount(page.label("points_issued"), str(f.points_issued))
    page.amount(page.label("points_redeemed"), str(f.points_redeemed))
    if f.points_reversed:
        page.amount(page.label("points_reversed"), str(f.points_reversed))
    if f.points_expired:
        page.amount(page.label("points_expired"), str(f.points_expired))
    if f.points_adjusted_out:
        page.amount(page.label("points_adjusted_out"), str(f.points_adjusted_out))
    page.text(page.label("coupons"))
    page.amount(page.label("coupons_issued"), str(f.coupons_issued))
    page.amount(page.label("coupons_redeemed"), str(f.coupons_redeemed))
    page.amount(page.label("members_registered"), str(f.members_registered), "")


def _cash(page: _Page, f: Figures) -> None:
    c = f.cash
    page.text(page.label("cash"))
    page.amount(page.label("float"), _money(c.float_fen))
    page.amount(page.label("cash_sales"), _signed(c.sales_fen))
    page.amount(page.label("cash_refunds"), _signed(-c.refunds_fen))
    page.amount(page.label("cash_topups"), _signed(c.topups_fen))
    if c.topup_refunds_fen:
        page.amount(page.label("cash_topup_refunds"), _signed(-c.topup_refunds_fen))
    if c.card_cancel_fen:
        page.amount(page.label("card_cancel"), _signed(-c.card_cancel_fen))
    page.counted("paid_in", c.paid_in_count, _signed(c.paid_in_fen))
    page.counted("paid_out", c.paid_out_count, _signed(-c.paid_out_fen))
    page.amount(page.label("expected"), _money(c.expected_fen))
    if c.counted_fen is None:
        page.amount(page.label("counted"), page.label("not_counted"))
    else:
        page.amount(page.label("counted"), _money(c.counted_fen))
        page.amount(page.label("over_short"), _signed(c.over_short_fen or 0))
