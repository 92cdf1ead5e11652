"""Shifts: open with a float, paid-in and paid-out, close with a count (PRODUCT §9)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.engine import read_session
from db.models import Shift
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import (
    AlreadyExists,
    InsufficientBalance,
    InvalidInput,
    NotFound,
    ShiftHeldByOther,
    ShiftRequired,
)
from pos_app.domain.permissions import Permission
from pos_app.services import reports, shifts, stored_value
from pos_app.services.cards import cancel_card
from pos_app.services.reports import x_report, z_report
from pos_app.services.verify import verify_ledger
from tests.conftest import StoreFixture
from tests.services.support import entries, ledger_count, member_with_card


def shift_rows(store: StoreFixture) -> list[Shift]:
    with read_session(store.ctx.engine) as s:
        rows = list(s.scalars(select(Shift).order_by(Shift.shift_no)))
        s.expunge_all()
        return rows


def test_open_shift_records_the_float_in_the_ledger_and_the_row(store: StoreFixture) -> None:
    view = shifts.open_shift(store.ctx, store.cashier, 50_000)

    (entry,) = entries(store, EntryKind.SHIFT_OPENED)
    (row,) = shift_rows(store)
    assert entry.amount_fen == 50_000
    assert json.loads(entry.payload or "{}") == {"shift_no": 1, "business_day": "2026-03-02"}
    assert row.id == entry.entry_id == view.id
    assert (row.shift_no, row.business_day, row.float_fen, row.state) == (
        1,
        "2026-03-02",
        50_000,
        "open",
    )
    assert row.opened_by_id == store.cashier.operator_id and row.opened_at == entry.business_time
    assert view.is_open and view.opened_by == "cashier" and view.float_fen == 50_000
    assert shifts.current_shift(store.ctx, store.cashier) == view
    assert verify_ledger(store.ctx).ok


def test_a_second_shift_cannot_open_while_one_is_open(store: StoreFixture) -> None:
    shifts.open_shift(store.ctx, store.cashier, 10_000)
    before = ledger_count(store)
    with pytest.raises(AlreadyExists) as exc:
        shifts.open_shift(store.ctx, store.cashier, 10_000)
    assert "Shift 1 is still open" in exc.value.en and "第 1 班" in exc.value.zh
    # Another cashier is told whose drawer it is, and that it must be handed over first.
    with pytest.raises(ShiftHeldByOther) as other:
        shifts.open_shift(store.ctx, store.manager, 10_000)
    assert other.value.shift_no == 1 and other.value.holder == "王收银（cashier）"
    assert "第 1 班是 王收银（cashier） 的班次" in other.value.zh
    assert "hand it over" in other.value.en
    assert ledger_count(store) == before and len(shift_rows(store)) == 1


def test_a_negative_float_is_refused_and_zero_is_allowed(store: StoreFixture) -> None:
    with pytest.raises(InvalidInput):
        shifts.open_shift(store.ctx, store.cashier, -1)
    assert shift_rows(store) == []
    assert shifts.open_shift(store.ctx, store.cashier, 0).float_fen == 0


def test_open_shift_row_says_how_to_open_one(store: StoreFixture) -> None:
    with read_session(store.ctx.engine) as s, pytest.raises(ShiftRequired) as exc:
        shifts.open_shift_row(s, store.cashier)
    assert exc.value.zh == "请先开班（pos-app shift open --float 金额）"
    assert exc.value.en == "Open a shift first (pos-app shift open --float AMOUNT)"
    assert shifts.current_shift(store.ctx, store.cashier) is None
    opened = shifts.open_shift(store.ctx, store.cashier, 100)
    with read_session(store.ctx.engine) as s:
        assert shifts.open_shift_row(s, store.cashier).id == opened.id


def test_paid_in_and_out_are_ledger_entries_with_their_reasons(store: StoreFixture) -> None:
    shifts.open_shift(store.ctx, store.cashier, 20_000)
    moved_in = shifts.paid_in(store.ctx, store.cashier, 5_000, " 银行换零钱 ")
    moved_out = shifts.paid_out(store.ctx, store.cashier, 3_050, "付快递费")

    (e_in,) = entries(store, EntryKind.CASH_PAID_IN)
    (e_out,) = entries(store, EntryKind.CASH_PAID_OUT)
    assert (e_in.amount_fen, e_out.amount_fen) == (5_000, 3_050)
    assert json.loads(e_in.payload or "{}") == {"reason": "银行换零钱", "shift_no": 1}
    assert json.loads(e_out.payload or "{}") == {"reason": "付快递费", "shift_no": 1}
    assert moved_in.entry_id == e_in.entry_id and moved_in.reason == "银行换零钱"
    assert moved_in.expected_cash_fen == 25_000
    assert moved_out.expected_cash_fen == 25_000 - 3_050
    assert verify_ledger(store.ctx).ok


@pytest.mark.parametrize(
    ("amount", "reason", "needle"),
    [
        (0, "x", "above zero"),
        (-5, "x", "above zero"),
        (100, "  ", "reason"),
        (100, "长" * 201, "too long"),
    ],
)
def test_cash_moves_need_a_positive_amount_and_a_reason(
    store: StoreFixture, amount: int, reason: str, needle: str
) -> None:
    shifts.open_shift(store.ctx, store.cashier, 10_000)
    before = ledger_count(store)
    for move in (shifts.paid_in, shifts.paid_out):
        with pytest.raises(InvalidInput) as exc:
            move(store.ctx, store.cashier, amount, reason)
        assert needle in exc.value.en
    assert ledger_count(store) == before


def test_cash_moves_need_an_open_shift(store: StoreFixture) -> None:
    with pytest.raises(ShiftRequired, match="Open a shift first"):
        shifts.paid_in(store.ctx, store.cashier, 100, "零钱")
    assert entries(store, EntryKind.CASH_PAID_IN) == []


def test_paying_out_more_than_the_drawer_holds_is_refused(store: StoreFixture) -> None:
    shifts.open_shift(store.ctx, store.cashier, 10_000)
    shifts.paid_in(store.ctx, store.cashier, 2_000, "零钱")
    with pytest.raises(InsufficientBalance) as exc:
        shifts.paid_out(store.ctx, store.cashier, 12_001, "存银行")
    assert "¥120.00" in exc.value.zh and "¥120.01" in exc.value.zh
    assert entries(store, EntryKind.CASH_PAID_OUT) == []
    assert shifts.paid_out(store.ctx, store.cashier, 12_000, "存银行").expected_cash_fen == 0


def test_close_shift_counts_the_drawer_and_reports_over_short(store: StoreFixture) -> None:
    # Cash in: a float of ¥300, a cash top-up of ¥500 (+¥50 bonus, not cash), a paid-in of
    # ¥20. Cash out: a paid-out of ¥15.50 and a card cancelled (principal ¥100 - ¥10 fee).
    # A WeChat top-up of ¥200 is no cash at all.
    member_with_card(store, "88880001", "13800000001")
    member_with_card(store, "88880002", "13800000002")
    shifts.open_shift(store.ctx, store.cashier, 30_000)
    stored_value.top_up(store.ctx, store.cashier, "88880002", 10_000, tender="bank")
    stored_value.top_up(store.ctx, store.cashier, "88880001", 50_000)
    stored_value.top_up(store.ctx, store.cashier, "88880001", 20_000, tender="wechat")
    shifts.paid_in(store.ctx, store.cashier, 2_000, "零钱")
    shifts.paid_out(store.ctx, store.cashier, 1_550, "快递")
    # The cashier pays the cancelled card's principal out of their drawer, approved.
    approval = store.approval(Permission.CARD_CANCEL)
    cancel_card(store.ctx, store.cashier, "88880002", approval=approval)
    expected = 30_000 + 50_000 + 2_000 - 1_550 - 9_000

    x = x_report(store.ctx, store.cashier)
    assert not x.final and x.figures.cash.expected_fen == expected
    assert x.figures.cash.counted_fen is None and x.figures.cash.over_short_fen is None

    z = shifts.close_shift(store.ctx, store.cashier, expected - 300)

    cash = z.figures.cash
    assert z.final and not z.shift.is_open
    assert (cash.float_fen, cash.topups_fen, cash.paid_in_fen, cash.paid_out_fen) == (
        30_000,
        50_000,
        2_000,
        1_550,
    )
    assert cash.card_cancel_fen == 9_000 and cash.sales_fen == 0
    assert cash.expected_fen == expected
    assert cash.expected_fen == cash.float_fen + cash.in_fen - cash.out_fen
    assert (cash.counted_fen, cash.over_short_fen) == (expected - 300, -300)
    (closed,) = entries(store, EntryKind.SHIFT_CLOSED)
    payload = json.loads(closed.payload or "{}")
    assert payload["expected_cash_fen"] == expected and payload["over_short_fen"] == -300
    assert payload["counted_fen"] == expected - 300 == closed.amount_fen
    assert closed.related_entry_id == z.shift.id
    (row,) = shift_rows(store)
    assert (row.state, row.counted_fen, row.expected_cash_fen) == (
        "closed",
        expected - 300,
        expected,
    )
    assert row.closed_at == closed.business_time and row.closed_by_id == store.cashier.operator_id
    assert verify_ledger(store.ctx).ok


def test_a_shift_closes_once_and_the_next_one_gets_the_next_number(store: StoreFixture) -> None:
    shifts.open_shift(store.ctx, store.cashier, 10_000)
    shifts.close_shift(store.ctx, store.cashier, 10_000)
    before = ledger_count(store)
    with pytest.raises(InvalidInput, match="No shift is open"):
        shifts.close_shift(store.ctx, store.cashier, 10_000)
    assert ledger_count(store) == before
    second = shifts.open_shift(store.ctx, store.manager, 5_000)
    assert second.shift_no == 2 and second.opened_by == "manager"
    assert [r.state for r in shift_rows(store)] == ["closed", "open"]


def test_close_refuses_a_negative_count(store: StoreFixture) -> None:
    shifts.open_shift(store.ctx, store.cashier, 10_000)
    with pytest.raises(InvalidInput):
        shifts.close_shift(store.ctx, store.cashier, -1)
    assert shift_rows(store)[0].state == "open"


def test_a_shift_counts_only_what_happened_during_it(store: StoreFixture) -> None:
    member_with_card(store, "88880001")
    shifts.open_shift(store.ctx, store.manager, 0)
    stored_value.top_up(store.ctx, store.manager, "88880001", 10_000)  # the manager's shift
    shifts.close_shift(store.ctx, store.manager, 10_000)
    shifts.open_shift(store.ctx, store.cashier, 0)
    store.clock.advance(hours=1)
    stored_value.top_up(store.ctx, store.cashier, "88880001", 6_000)
    z = shifts.close_shift(store.ctx, store.cashier, 6_000)

    assert z.figures.topups_fen == 6_000 and z.figures.cash.over_short_fen == 0
    again = z_report(store.ctx, store.cashier, shift_no=2)
    assert again == z
    assert z_report(store.ctx, store.cashier) == z  # the last closed shift


def test_money_moves_only_in_the_actors_own_open_shift(store: StoreFixture) -> None:
    member_with_card(store, "88880001")
    before = ledger_count(store)
    with pytest.raises(ShiftRequired):  # no drawer is open at all
        stored_value.top_up(store.ctx, store.cashier, "88880001", 7_000)
    shifts.open_shift(store.ctx, store.cashier, 0)
    opened = ledger_count(store)
    assert opened == before + 1
    # The manager may not put cash into the cashier's drawer, nor take it out.
    for move in (
        lambda: stored_value.top_up(store.ctx, store.manager, "88880001", 7_000),
        lambda: stored_value.top_up(store.ctx, store.manager, "88880001", 7_000, tender="wechat"),
        lambda: shifts.paid_out(store.ctx, store.manager, 100, "存银行"),
        lambda: shifts.paid_in(store.ctx, store.manager, 100, "零钱"),
    ):
        with pytest.raises(ShiftHeldByOther, match="hand it over"):
            move()
    assert ledger_count(store) == opened
    stored_value.top_up(store.ctx, store.cashier, "88880001", 7_000)
    topup = entries(store, EntryKind.TOPUP)[-1]
    assert json.loads(topup.payload or "{}") == {"shift_no": 1}


def test_a_hand_over_closes_one_cashiers_shift_and_the_day_lists_each(
    store: StoreFixture,
) -> None:
    """交接班: the cashier's drawer is counted by the manager taking over, who then opens
    their own shift; the day lists each cashier's over/short, and they add up to the day's."""
    member_with_card(store, "88880001")
    shifts.open_shift(store.ctx, store.cashier, 20_000)
    stored_value.top_up(store.ctx, store.cashier, "88880001", 30_000)
    z = shifts.close_shift(store.ctx, store.manager, 49_900)  # counted by the manager: ¥1 short
    assert z.shift.opened_by == "cashier" and z.shift.closed_by == "manager"
    assert z.shift.handed_over and z.shift.over_short_fen == -100
    shifts.open_shift(store.ctx, store.manager, 49_900)  # the same cash stays in the drawer
    stored_value.top_up(store.ctx, store.manager, "88880001", 10_000)
    shifts.paid_out(store.ctx, store.manager, 30_000, "存银行")
    shifts.close_shift(store.ctx, store.manager, 29_950)  # ¥0.50 over
    day = reports.day_end(store.ctx, store.manager)
    assert [(c.login, c.name, c.shifts, c.over_short_fen) for c in day.cashiers] == [
        ("cashier", "王收银", 1, -100),
        ("manager", "李店长", 1, 50),
    ]
    cash = day.figures.cash
    assert (cash.float_fen, cash.topups_fen, cash.paid_out_fen) == (69_900, 40_000, 30_000)
    assert cash.expected_fen == 50_000 + 29_900 and cash.counted_fen == 49_900 + 29_950
    assert cash.over_short_fen == -50 == sum(c.over_short_fen for c in day.cashiers)
    (closed,) = entries(store, EntryKind.DAY_CLOSED)
    payload = json.loads(closed.payload or "{}")
    assert payload["cashiers"] == [
        {"login": "cashier", "shifts": 1, "over_short_fen": -100},
        {"login": "manager", "shifts": 1, "over_short_fen": 50},
    ]
    assert verify_ledger(store.ctx).ok


def test_z_report_of_an_open_or_unknown_shift_is_refused(store: StoreFixture) -> None:
    with pytest.raises(NotFound):
        z_report(store.ctx, store.cashier)
    shifts.open_shift(store.ctx, store.cashier, 0)
    with pytest.raises(InvalidInput, match="still open"):
        z_report(store.ctx, store.cashier, shift_no=1)
    with pytest.raises(NotFound):
        z_report(store.ctx, store.cashier, shift_no=9)


def test_x_report_needs_an_open_shift(store: StoreFixture) -> None:
    with pytest.raises(InvalidInput, match="No shift is open"):
        x_report(store.ctx, store.cashier)
