"""The demo store's day at the till: three cashiers, one after the other, each with their own
shift and drawer, handed over with a count (交接班).

On top of the members' history (`demo_data`), it shows what a real day holds: cash top-ups,
a card cancelled with its principal paid back, a count card sold and used, apples weighed, a
manual order discount, a return, a paid-out — and every drawer counted right, so the day's
report settles to ¥0.00 over/short before anyone has touched the demo. Everything goes through
the public services, as at the till. The last shift is closed: the first person to sign in
opens their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_app.domain.errors import DomainError
from pos_app.domain.sale_request import LineRequest, OrderDiscount, SaleRequest, TenderRequest
from pos_app.services import members, reports, shifts, stored_value
from pos_app.services.auth import Actor, Approval
from pos_app.services.cards import cancel_card, issue_card
from pos_app.services.checkout import sell
from pos_app.services.context import StoreContext
from pos_app.services.sale_refund import refund_sale

# Two members of the day: one buys a car-wash card and tops up, the other cancels their card.
DAY_MEMBERS = (("13900001001", "周八", "DAY00001"), ("13900001002", "吴九", "DAY00002"))
DayMember = tuple[str, str, str]  # (mobile, name, card number)
FLOAT_FEN = 50_000


@dataclass
class DemoDay:
    shifts: int = 0
    sales: int = 0
    refunds: int = 0
    topups: int = 0
    cancelled: int = 0


def _cash() -> tuple[TenderRequest, ...]:
    return (TenderRequest("cash"),)


def _hand_over(ctx: StoreContext, to: Actor, float_fen: int | None = None) -> None:
    """`to` counts the drawer (exactly what it should hold), closing the shift before them,
    and opens their own with that cash or with a fresh float."""
    expected = reports.x_report(ctx, to).figures.cash.expected_fen
    shifts.close_shift(ctx, to, expected)
    shifts.open_shift(ctx, to, expected if float_fen is None else float_fen)


def run_demo_day(
    ctx: StoreContext,
    cashiers: tuple[Actor, Actor, Actor],
    approve: Approval,
    day_members: tuple[DayMember, DayMember] = DAY_MEMBERS,
) -> DemoDay:
    """The day, with `cashiers` taking the till in turn. `approve` is the manager's approval
    of the card cancellation (注销 needs a manager). A shift still open before it starts
    (the history's) is counted and handed over to the first cashier. `day_members` are the
    day's two new members: stores of one chain need their own (mobiles and card numbers are
    unique chain-wide)."""
    first, second, third = cashiers
    out = DemoDay()
    if shifts.current_shift(ctx, first) is not None:
        _hand_over(ctx, first, FLOAT_FEN)
    else:
        shifts.open_shift(ctx, first, FLOAT_FEN)
    out.shifts += 1
    cards: list[str] = []
    for mobile, name, card_no in day_members:
        member = members.register_member(ctx, first, mobile, name)
        issue_card(ctx, first, member.member_no, card_no, media="magstripe")
        cards.append(card_no)

    # 王收银: walk-ins, a cash top-up, apples by weight, a wash card, a return.
    spinach = sell(ctx, first, SaleRequest((LineRequest("V001", 2),), _cash()))
    stored_value.top_up(ctx, first, cards[0], 50_000)
    sell(ctx, first, SaleRequest((LineRequest("F005", 1, weight_milli=1_250),), _cash()))
    sell(ctx, first, SaleRequest((LineRequest("C010"),), _cash(), card_no=cards[0]))
    refund_sale(ctx, first, spinach.receipt_no, (LineRequest("V001", 1),))
    out.sales, out.refunds, out.topups = 3, 1, 1

    # 李店长 takes over the drawer: an order discount, two washes off the card, a card
    # topped up by WeChat and then cancelled for cash, a delivery paid from the drawer.
    _hand_over(ctx, second)
    out.shifts += 1
    discount = SaleRequest(
        (LineRequest("S001", 2), LineRequest("D002", 1)),
        (TenderRequest("wechat", reference="WXDEMO1"),),
        order_discount=OrderDiscount(percent_off=5),
    )
    sell(ctx, second, discount)
    washes = (LineRequest("SV01", 2),)
    sell(ctx, second, SaleRequest(washes, (TenderRequest("count_card"),), card_no=cards[0]))
    stored_value.top_up(ctx, second, cards[1], 20_000, "wechat", "WXDEMO2")
    cancel_card(ctx, second, cards[1], approve)
    shifts.paid_out(ctx, second, 2_000, "快递费 delivery")
    out.sales, out.topups, out.cancelled = out.sales + 2, out.topups + 1, 1

    # 赵收银 starts a fresh drawer (the takings went to the bank) and closes the day's till.
    _hand_over(ctx, third, 30_000)
    out.shifts += 1
    try:
        sell(ctx, third, SaleRequest((LineRequest("D001", 3), LineRequest("H001", 1)), _cash()))
        out.sales += 1
    except DomainError:  # a catalogue without these: the day is still a whole one
        pass
    expected = reports.x_report(ctx, third).figures.cash.expected_fen
    shifts.close_shift(ctx, third, expected)
    return out
