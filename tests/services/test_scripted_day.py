"""A shop's whole day, scripted: three cashiers hand the drawer over one to the next, with
cash top-ups, a card cancelled, a count card sold and used, apples weighed, a manual order
discount and a return. The day closes at ¥0.00 over/short, and every figure of the day's
report is recomputed here by hand from the catalogue's prices and the rules."""

from __future__ import annotations

from datetime import date

from pos_app.domain.permissions import Permission
from pos_app.domain.sale_request import LineRequest, OrderDiscount, SaleRequest, TenderRequest
from pos_app.services import members, reports, shifts, stored_value
from pos_app.services.auth import Actor
from pos_app.services.cards import cancel_card, issue_card
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.liabilities import liabilities
from pos_app.services.sale_refund import refund_sale
from pos_app.services.sign_in import approve, sign_in
from pos_app.services.store_setup import add_operator
from pos_app.services.verify import verify_ledger
from tests.conftest import PASSWORD, StoreFixture

DAY = date(2026, 3, 2)  # the test clock's day: a Monday (no Tuesday vegetable promotion)
MEMBER_CARD, OTHER_CARD = "88880001", "88880002"

# The demo catalogue's prices (fen) the day is worked out from, by hand.
SPINACH, APPLE_PER_KG, CHIPS, WATER, WASH, WASH_CARD = 680, 1280, 750, 200, 5000, 40000


def cash(amount_fen: int | None = None) -> tuple[TenderRequest, ...]:
    return (TenderRequest("cash", amount_fen),)


def walk_in(store: StoreFixture, actor: Actor, *lines: LineRequest, **kw: object) -> str:
    tenders = kw.pop("tenders", cash())
    request = SaleRequest(tuple(lines), tenders, **kw)  # type: ignore[arg-type]
    return sell(store.ctx, actor, request).receipt_no


def hand_over(store: StoreFixture, to: Actor, float_fen: int | None = None) -> int:
    """The next cashier counts the drawer (exactly what it should hold) and closes the shift
    before them; they open their own with that cash, or with a fresh float."""
    expected = reports.x_report(store.ctx, to).figures.cash.expected_fen
    z = shifts.close_shift(store.ctx, to, expected)
    assert z.figures.cash.over_short_fen == 0
    shifts.open_shift(store.ctx, to, expected if float_fen is None else float_fen)
    return expected


def test_a_scripted_day_settles_to_zero_and_its_report_adds_up_by_hand(
    store: StoreFixture,
) -> None:
    ctx = store.ctx
    load_demo_catalogue(ctx, store.manager)
    add_operator(ctx, store.admin, "cashier2", "赵收银", "cashier", PASSWORD)
    add_operator(ctx, store.admin, "cashier3", "钱收银", "cashier", PASSWORD)
    a, b, c = store.cashier, sign_in(ctx, "cashier2", PASSWORD), sign_in(ctx, "cashier3", PASSWORD)
    m = members.register_member(ctx, a, "13800000001", "张三")
    issue_card(ctx, a, m.member_no, MEMBER_CARD)
    m2 = members.register_member(ctx, a, "13800000002", "李四")
    issue_card(ctx, a, m2.member_no, OTHER_CARD)

    # -- Shift 1: 王收银, a ¥500 float ------------------------------------------------------
    shifts.open_shift(ctx, a, 50_000)
    first = walk_in(store, a, LineRequest("V001", 2))  # spinach ×2, cash
    stored_value.top_up(ctx, a, MEMBER_CARD, 50_000)  # 充500送50, cash
    walk_in(store, a, LineRequest("F005", 1, weight_milli=1_250))  # 1.25 kg of apples
    card_sale = SaleRequest((LineRequest("C010"),), cash(), card_no=MEMBER_CARD)
    sell(ctx, a, card_sale)  # a 10-wash card, cash (over ¥100: the tote bag comes free)
    refund_sale(ctx, a, first, (LineRequest("V001", 1),))  # one spinach back, in cash
    apples = APPLE_PER_KG * 1_250 // 1_000
    a_expected = 50_000 + 2 * SPINACH + 50_000 + apples + WASH_CARD - SPINACH
    assert hand_over(store, b) == a_expected

    # -- Shift 2: 赵收银 keeps the drawer ---------------------------------------------------
    walk_in(  # 5% off the whole order by hand (the rules allow 5% without a manager), WeChat
        store,
        b,
        LineRequest("S001", 2),
        tenders=(TenderRequest("wechat", reference="WX1"),),
        order_discount=OrderDiscount(percent_off=5),
    )
    uses = SaleRequest(
        (LineRequest("SV01", 2),), (TenderRequest("count_card"),), card_no=MEMBER_CARD
    )
    sell(ctx, b, uses)  # two washes off the card
    stored_value.top_up(ctx, b, OTHER_CARD, 20_000, "wechat", "WX2")  # no bonus under ¥500
    approval = approve(ctx, "manager", PASSWORD, Permission.CARD_CANCEL)
    cancel_card(ctx, b, OTHER_CARD, approval)  # ¥200 back less the ¥10 fee, in cash
    shifts.paid_out(ctx, b, 2_000, "快递费")
    b_expected = a_expected - (20_000 - 1_000) - 2_000
    assert hand_over(store, c, float_fen=30_000) == b_expected  # the takings go to the bank

    # -- Shift 3: 钱收银, a fresh ¥300 float -------------------------------------------------
    walk_in(store, c, LineRequest("D001", 3))
    c_expected = 30_000 + 3 * WATER
    z = shifts.close_shift(ctx, c, c_expected)
    assert z.figures.cash.expected_fen == c_expected and z.figures.cash.over_short_fen == 0

    # -- The day ---------------------------------------------------------------------------
    day = reports.day_end(ctx, store.manager, DAY)
    f = day.figures
    assert f.problems() == []
    assert [(x.login, x.shifts, x.over_short_fen) for x in day.cashiers] == [
        ("cashier", 1, 0),
        ("cashier2", 1, 0),
        ("cashier3", 1, 0),
    ]
    assert f.cash.over_short_fen == 0
    assert f.cash.float_fen == 50_000 + a_expected + 30_000
    assert f.cash.expected_fen == f.cash.counted_fen == a_expected + b_expected + c_expected

    chips = 2 * CHIPS - 2 * CHIPS * 5 // 100
    delivered = 2 * SPINACH + apples - SPINACH + chips + 2 * WASH + 3 * WATER
    cash_sales = 2 * SPINACH + apples + WASH_CARD - SPINACH + 3 * WATER
    assert f.net_fen == delivered + WASH_CARD  # every receipt, less the return
    assert f.delivered_fen == delivered  # 销售: the wash card is prepaid, not goods
    received = {line.tender: line.net_fen for line in f.received}
    assert received == {
        "cash": cash_sales + 50_000 - 19_000,
        "wechat": chips + 20_000,
    }
    assert f.prepaid_sold_fen == WASH_CARD + 50_000 + 20_000 - 19_000
    assert f.redeemed_fen == f.redeemed_passes_fen == 2 * WASH
    assert f.received_fen - f.prepaid_sold_fen + f.redeemed_fen == f.delivered_fen
    assert f.refunds_fen == SPINACH and f.refunds_count == 1
    assert f.tender("count_card").sales_fen == 2 * WASH

    # -- What is owed to members at the day's end ------------------------------------------
    owed = liabilities(ctx, store.manager, DAY)
    assert (owed.sv_principal_fen, owed.sv_bonus_fen) == (50_000, 5_000)
    (card,) = owed.passes
    assert card.value_fen == WASH_CARD * 8 // 10  # 8 of the 10 washes left
    assert verify_ledger(ctx).ok
