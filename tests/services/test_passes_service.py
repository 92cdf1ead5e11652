"""Count, time, package and trial cards on a real store: sold, used at checkout, given back on
refund, revoked, shown on the member, and checked by replaying the ledger."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from db.engine import read_session, write_session
from db.ledger import new_id
from db.models import Product, ServicePass, ServicePassItem
from pos_app.cli.main import cli
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import (
    AlreadyExists,
    AuthenticationFailed,
    InsufficientBalance,
    InvalidInput,
    NotFound,
)
from pos_app.domain.passes import HeldPass, PassUse, ServiceLine, plan_uses
from pos_app.domain.permissions import Permission, Role
from pos_app.services.auth import Actor
from pos_app.services.lookup import member_by_no
from pos_app.services.passes import (
    apply_uses_in_tx,
    grant_pass_in_tx,
    granted_passes,
    member_passes,
    recorded_uses,
    reverse_use_in_tx,
    revoke_pass_in_tx,
    usable_passes,
    verify_passes,
)
from pos_app.services.use_case import use_case
from pos_app.services.verify import verify_ledger
from tests.conftest import PASSWORD, StoreFixture
from tests.services.support import entries, ledger_count, member_with_card, new_member

CARD_NO = "88880001"
WASH10 = '{"services": {"WASH": 10}, "valid_days": 365}'
MONTH = '{"services": {"GYM": null}, "valid_days": 31}'
PACKAGE = '{"services": {"WASH": 5, "WAX": 2}, "valid_days": 90}'
TRIAL = '{"services": {"WASH": 1}, "valid_days": 7}'


def make_runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()  # click ≥ 8.2 keeps stdout and stderr apart by itself


def add_product(
    store: StoreFixture,
    sku: str,
    name: str,
    kind: str,
    price_fen: int,
    spec: str | None = None,
    name_en: str | None = None,
) -> None:
    with write_session(store.ctx.engine) as s:
        s.add(
            Product(
                id=new_id(),
                sku=sku,
                name=name,
                name_en=name_en,
                category="服务",
                unit="次",
                kind=kind,
                price_fen=price_fen,
                member_price_fen=None,
                pass_spec=spec,
                updated_at=store.ctx.now_iso(),
            )
        )


@pytest.fixture
def shop(store: StoreFixture) -> StoreFixture:
    """A car wash and gym: services, and the cards that cover them."""
    add_product(store, "WASH", "精致洗车", "service", 3000, name_en="Deluxe wash")
    add_product(store, "WAX", "打蜡", "service", 5000)
    add_product(store, "GYM", "健身", "service", 5000, name_en="Gym visit")
    add_product(store, "SODA", "汽水", "goods", 300)
    add_product(store, "C10", "洗车10次卡", "count_card", 25000, WASH10, "Car wash 10-visit card")
    add_product(store, "MONTH", "健身月卡", "time_card", 30000, MONTH, "Gym monthly card")
    add_product(store, "PKG", "洗车套餐", "package", 20000, PACKAGE)
    add_product(store, "TRY", "洗车体验卡", "trial_card", 990, TRIAL)
    return store


def sell(store: StoreFixture, member_no: str | None, sku: str, receipt_no: str = "R1") -> str:
    """Sell a card product inside a checkout transaction; returns the pass id."""
    with use_case(store.ctx, store.cashier, Permission.SALE) as uc:
        member = member_by_no(uc.session, member_no) if member_no else None
        product = uc.session.scalars(select(Product).where(Product.sku == sku)).one()
        granted = grant_pass_in_tx(uc, member, product, receipt_no, None)
        return granted.id


def plan(store: StoreFixture, member_no: str, lines: list[ServiceLine]) -> list[PassUse]:
    with read_session(store.ctx.engine) as s:
        member = member_by_no(s, member_no)
        today = store.ctx.business_day()
        return plan_uses(usable_passes(s, member.id, today), lines, today)


def held_now(store: StoreFixture, member_no: str) -> list[HeldPass]:
    with read_session(store.ctx.engine) as s:
        return usable_passes(s, member_by_no(s, member_no).id, store.ctx.business_day())


def apply(
    store: StoreFixture,
    member_no: str,
    uses: list[PassUse],
    receipt_no: str = "S1",
    sale_entry_id: str | None = None,
) -> list[str]:
    with use_case(store.ctx, store.cashier, Permission.SALE) as uc:
        member = member_by_no(uc.session, member_no)
        return apply_uses_in_tx(uc, member.id, uses, receipt_no, sale_entry_id)


def checkout(store: StoreFixture, member_no: str, lines: list[ServiceLine], **kw: str) -> list[str]:
    """Plan inside the transaction and apply, as checkout does."""
    with use_case(store.ctx, store.cashier, Permission.SALE) as uc:
        member = member_by_no(uc.session, member_no)
        today = store.ctx.business_day()
        uses = plan_uses(usable_passes(uc.session, member.id, today), lines, today)
        return apply_uses_in_tx(uc, member.id, uses, kw.get("receipt_no", "S1"), None)


def reverse(
    store: StoreFixture, use_entry_id: str, qty: int, refund_entry: str | None = None
) -> str:
    with use_case(store.ctx, store.cashier, Permission.SALE_REFUND) as uc:
        return reverse_use_in_tx(uc, use_entry_id, qty, "F1", refund_entry)


def revoke(store: StoreFixture, pass_id: str) -> str:
    with use_case(store.ctx, store.cashier, Permission.SALE_REFUND) as uc:
        return revoke_pass_in_tx(uc, pass_id, "F2", None)


def items(store: StoreFixture, pass_id: str) -> dict[str, tuple[int | None, int | None]]:
    with read_session(store.ctx.engine) as s:
        rows = s.scalars(select(ServicePassItem).where(ServicePassItem.pass_id == pass_id))
        return {r.service_sku: (r.uses_total, r.uses_left) for r in rows}


def pass_row(store: StoreFixture, pass_id: str) -> ServicePass:
    with read_session(store.ctx.engine) as s:
        row = s.get(ServicePass, pass_id)
        assert row is not None
        s.expunge(row)
        return row


def assert_verified(store: StoreFixture) -> None:
    with read_session(store.ctx.engine) as s:
        assert verify_passes(s) == []
    report = verify_ledger(store.ctx)
    assert report.ok, report.problems


def payload(entry_id: str, store: StoreFixture) -> dict[str, object]:
    (entry,) = [e for e in entries(store) if e.entry_id == entry_id]
    return json.loads(entry.payload or "{}")


# -- The 10-visit count card ------------------------------------------------------------------


def test_a_ten_visit_card_sold_used_over_two_sales_and_a_use_given_back(shop):
    member = member_with_card(shop, CARD_NO)
    pass_id = sell(shop, member.member_no, "C10", "R0001")

    row = pass_row(shop, pass_id)
    assert (row.kind, row.name, row.valid_until, row.state, row.receipt_no) == (
        "count",
        "洗车10次卡",
        "2027-03-01",  # sold 2026-03-02 for 365 days, the last day included
        "active",
        "R0001",
    )
    (granted,) = entries(shop, EntryKind.PASS_GRANTED)
    assert granted.entry_id == pass_id
    assert json.loads(granted.payload or "") == {
        "pass_id": pass_id,
        "sku": "C10",
        "kind": "count",
        "name": "洗车10次卡",
        "valid_until": "2027-03-01",
        "items": {"WASH": 10},
        "receipt_no": "R0001",
    }
    assert items(shop, pass_id) == {"WASH": (10, 10)}

    # Sale 1: two washes and a soda; the card covers both washes.
    lines = [ServiceLine(1, "WASH", 2, 5400), ServiceLine(2, "SODA", 1, 300)]
    first = checkout(shop, member.member_no, lines, receipt_no="S1")
    # Sale 2, next day: one wash.
    shop.clock.advance(days=1)
    second = checkout(shop, member.member_no, [ServiceLine(1, "WASH", 1, 2700)], receipt_no="S2")
    assert items(shop, pass_id) == {"WASH": (10, 7)}
    used = entries(shop, EntryKind.PASS_USED)
    assert [e.entry_id for e in used] == first + second
    assert [e.amount_fen for e in used] == [5400, 2700]
    assert payload(first[0], shop) == {
        "pass_id": pass_id,
        "service_sku": "WASH",
        "qty": 2,
        "receipt_no": "S1",
        "line_no": 1,
    }
    assert {e.member_id for e in used} == {member_by_id(shop, member.member_no)}

    # Sale 1 is refunded in part: one of its two washes.
    reversal = reverse(shop, first[0], 1)
    assert items(shop, pass_id) == {"WASH": (10, 8)}
    (rev,) = entries(shop, EntryKind.PASS_USE_REVERSED)
    assert (rev.entry_id, rev.related_entry_id, rev.amount_fen) == (reversal, first[0], 2700)
    assert payload(reversal, shop)["qty"] == 1

    (view,) = member_passes(shop.ctx, shop.cashier, card_no=CARD_NO)
    assert view.text("zh") == "洗车10次卡 精致洗车 剩余 8 次 (至 2027-03-01)"
    assert view.text("en") == "Car wash 10-visit card Deluxe wash 8 uses left (until 2027-03-01)"
    assert_verified(shop)


def member_by_id(store: StoreFixture, member_no: str) -> str:
    with read_session(store.ctx.engine) as s:
        return member_by_no(s, member_no).id


def test_a_use_is_given_back_in_parts_never_more_than_was_used(shop):
    member = new_member(shop)
    pass_id = sell(shop, member.member_no, "C10")
    (use_id,) = checkout(shop, member.member_no, [ServiceLine(1, "WASH", 3, 1000)])
    first = reverse(shop, use_id, 2)
    with pytest.raises(InvalidInput) as caught:
        reverse(shop, use_id, 2)
    assert "1 can be given back" in caught.value.en
    with pytest.raises(InvalidInput):
        reverse(shop, use_id, 0)
    last = reverse(shop, use_id, 1)
    with pytest.raises(InvalidInput):
        reverse(shop, use_id, 1)
    amounts = {e.entry_id: e.amount_fen for e in entries(shop, EntryKind.PASS_USE_REVERSED)}
    assert (amounts[first], amounts[last]) == (666, 334)  # shares add up to the use's 1000
    assert items(shop, pass_id) == {"WASH": (10, 10)}
    with pytest.raises(NotFound):
        reverse(shop, pass_id, 1)  # the grant is not a use
    assert_verified(shop)


def test_recorded_uses_and_granted_passes_by_the_sale_entry(shop):
    member = new_member(shop)
    sale_entry = new_id()
    with use_case(shop.ctx, shop.cashier, Permission.SALE) as uc:
        m = member_by_no(uc.session, member.member_no)
        product = uc.session.scalars(select(Product).where(Product.sku == "PKG")).one()
        pass_id = grant_pass_in_tx(uc, m, product, "R1", sale_entry).id
    uses = plan(
        shop, member.member_no, [ServiceLine(1, "WASH", 2, 600), ServiceLine(2, "WAX", 1, 500)]
    )
    ids = apply(shop, member.member_no, uses, "S1", sale_entry)
    reverse(shop, ids[0], 1)
    with read_session(shop.ctx.engine) as s:
        assert [p.id for p in granted_passes(s, sale_entry)] == [pass_id]
        recorded = recorded_uses(s, sale_entry)
    assert [(r.entry_id, r.line_no, r.qty, r.amount_fen) for r in recorded] == [
        (ids[0], 1, 2, 600),
        (ids[1], 2, 1, 500),
    ]
    assert [(r.reversed_qty, r.reversed_fen, r.outstanding_qty) for r in recorded] == [
        (1, 300, 1),
        (0, 0, 1),
    ]


# -- The monthly time card --------------------------------------------------------------------


def test_a_monthly_card_is_unlimited_until_its_last_day_and_refused_the_day_after(shop):
    member = member_with_card(shop, CARD_NO)
    pass_id = sell(shop, member.member_no, "MONTH")
    assert pass_row(shop, pass_id).valid_until == "2026-04-01"  # 31 days from 2026-03-02
    assert items(shop, pass_id) == {"GYM": (None, None)}
    for _ in range(3):
        checkout(shop, member.member_no, [ServiceLine(1, "GYM", 2, 10000)])
    shop.clock.advance(days=30)  # 2026-04-01, the last day
    (use,) = plan(shop, member.member_no, [ServiceLine(1, "GYM", 5, 25000)])
    assert (use.qty, use.amount_fen) == (5, 25000)
    stale = held_now(shop, member.member_no)  # read on its last day...
    apply(shop, member.member_no, [use])
    assert items(shop, pass_id) == {"GYM": (None, None)}
    (view,) = member_passes(shop.ctx, shop.cashier, member_no=member.member_no)
    assert view.text("zh") == "健身月卡 不限次 至 2026-04-01"
    assert view.text("en") == "Gym monthly card unlimited until 2026-04-01"

    shop.clock.advance(days=1)  # 2026-04-02
    assert plan(shop, member.member_no, [ServiceLine(1, "GYM", 1, 5000)]) == []
    # ...applied the day after: refused, nothing written.
    late = plan_uses(stale, [ServiceLine(1, "GYM", 1, 5000)], date(2026, 4, 1))
    before = ledger_count(shop)
    with pytest.raises(InvalidInput) as caught:
        apply(shop, member.member_no, late)
    assert "expired on 2026-04-01" in caught.value.en
    assert "已过期" in caught.value.zh
    assert ledger_count(shop) == before
    assert member_passes(shop.ctx, shop.cashier, card_no=CARD_NO) == []
    (old,) = member_passes(shop.ctx, shop.cashier, card_no=CARD_NO, include_expired=True)
    assert (old.status, old.text("zh")) == ("expired", "健身月卡 不限次 至 2026-04-01（已过期）")
    assert old.text("en").endswith("(expired)")
    assert_verified(shop)


def test_a_use_is_given_back_even_after_the_card_expired(shop):
    member = new_member(shop)
    pass_id = sell(shop, member.member_no, "TRY")  # 7 days
    (use_id,) = checkout(shop, member.member_no, [ServiceLine(1, "WASH", 1, 3000)])
    shop.clock.advance(days=10)
    reverse(shop, use_id, 1)
    assert items(shop, pass_id) == {"WASH": (1, 1)}
    assert held_now(shop, member.member_no) == []  # back, but past its date
    assert_verified(shop)


# -- The package ------------------------------------------------------------------------------


def test_a_package_with_two_services(shop):
    member = member_with_card(shop, CARD_NO)
    pass_id = sell(shop, member.member_no, "PKG")
    assert pass_row(shop, pass_id).kind == "package"
    assert items(shop, pass_id) == {"WASH": (5, 5), "WAX": (2, 2)}
    lines = [
        ServiceLine(1, "WASH", 1, 3000),
        ServiceLine(2, "WAX", 3, 15000),
        ServiceLine(3, "SODA", 1, 300),
    ]
    ids = checkout(shop, member.member_no, lines)
    assert len(ids) == 2
    assert [e.amount_fen for e in entries(shop, EntryKind.PASS_USED)] == [3000, 10000]
    assert items(shop, pass_id) == {"WASH": (5, 4), "WAX": (2, 0)}
    assert plan(shop, member.member_no, [ServiceLine(1, "WAX", 1, 5000)]) == []
    (view,) = member_passes(shop.ctx, shop.cashier, member_no=member.member_no)
    assert view.text("zh") == "洗车套餐 精致洗车 剩余 4 次，打蜡 剩余 0 次 (至 2026-05-30)"
    assert (
        view.text("en") == "洗车套餐 Deluxe wash 4 uses left, 打蜡 0 uses left (until 2026-05-30)"
    )
    assert [(i.service_sku, i.service_name, i.uses_total, i.uses_left) for i in view.items] == [
        ("WASH", "精致洗车", 5, 4),
        ("WAX", "打蜡", 2, 0),
    ]
    assert_verified(shop)


def test_a_used_up_card_is_shown_only_with_the_history(shop):
    member = new_member(shop)
    sell(shop, member.member_no, "TRY")
    checkout(shop, member.member_no, [ServiceLine(1, "WASH", 1, 3000)])
    assert held_now(shop, member.member_no) == []
    assert member_passes(shop.ctx, shop.cashier, member_no=member.member_no) == []
    (view,) = member_passes(
        shop.ctx, shop.cashier, member_no=member.member_no, include_expired=True
    )
    assert view.status == "used_up"
    assert view.text("zh") == "洗车体验卡 精致洗车 剩余 0 次 (至 2026-03-08)（已用完）"


# -- Selling: who may buy what ----------------------------------------------------------------


def test_a_card_is_sold_only_to_a_member(shop):
    before = ledger_count(shop)
    with pytest.raises(InvalidInput) as caught:
        sell(shop, None, "C10")
    assert (caught.value.zh, caught.value.en) == (
        "次卡/时卡必须售给会员",
        "Service cards can only be sold to a member",
    )
    member = new_member(shop)
    after_member = ledger_count(shop)
    assert after_member > before
    with pytest.raises(InvalidInput) as caught:
        sell(shop, member.member_no, "WASH")
    assert "not a count, time or package card" in caught.value.en
    assert ledger_count(shop) == after_member


def test_a_card_with_a_broken_spec_is_refused_at_sale(shop):
    add_product(
        shop, "BAD", "坏卡", "count_card", 100, '{"services": {"WASH": 0}, "valid_days": 9}'
    )
    member = new_member(shop)
    before = ledger_count(shop)
    with pytest.raises(InvalidInput):
        sell(shop, member.member_no, "BAD")
    assert ledger_count(shop) == before


def test_a_trial_card_once_per_member_unless_refunded(shop):
    member = new_member(shop)
    other = new_member(shop, "13900139000", "李四")
    first = sell(shop, member.member_no, "TRY")
    with pytest.raises(AlreadyExists):
        sell(shop, member.member_no, "TRY")
    sell(shop, other.member_no, "TRY")
    revoke(shop, first)
    sell(shop, member.member_no, "TRY")
    assert pass_row(shop, first).valid_until == "2026-03-08"
    assert_verified(shop)


def test_count_cards_may_be_sold_again(shop):
    member = new_member(shop)
    a = sell(shop, member.member_no, "C10")
    shop.clock.advance(days=100)
    b = sell(shop, member.member_no, "C10")
    # 12 washes: the older card first (it expires first), then two from the newer one.
    checkout(shop, member.member_no, [ServiceLine(1, "WASH", 12, 12000)])
    assert items(shop, a) == {"WASH": (10, 0)}
    assert items(shop, b) == {"WASH": (10, 8)}
    assert_verified(shop)


# -- Revoking a card (refund of the card itself) ----------------------------------------------


def test_revoke_refused_after_use_allowed_after_the_use_is_given_back(shop):
    member = new_member(shop)
    pass_id = sell(shop, member.member_no, "C10")
    (use_id,) = checkout(shop, member.member_no, [ServiceLine(1, "WASH", 2, 6000)])
    before = ledger_count(shop)
    with pytest.raises(InvalidInput) as caught:
        revoke(shop, pass_id)
    assert caught.value.zh == "已使用的次卡不能直接退，请先退掉使用记录"
    assert caught.value.en == "A card that has been used cannot be refunded as is"
    reverse(shop, use_id, 1)
    with pytest.raises(InvalidInput):
        revoke(shop, pass_id)  # one wash still outstanding
    reverse(shop, use_id, 1)
    assert ledger_count(shop) == before + 2
    entry_id = revoke(shop, pass_id)
    assert pass_row(shop, pass_id).state == "revoked"
    (revoked,) = entries(shop, EntryKind.PASS_REVOKED)
    assert (revoked.entry_id, revoked.related_entry_id) == (entry_id, pass_id)
    assert json.loads(revoked.payload or "")["receipt_no"] == "F2"
    with pytest.raises(InvalidInput) as caught:
        revoke(shop, pass_id)
    assert "already been refunded" in caught.value.en
    assert held_now(shop, member.member_no) == []
    (view,) = member_passes(
        shop.ctx, shop.cashier, member_no=member.member_no, include_expired=True
    )
    assert view.status == "revoked"
    assert view.text("zh").endswith("（已退卡）")
    assert_verified(shop)


def test_a_time_card_used_once_cannot_be_revoked(shop):
    member = new_member(shop)
    pass_id = sell(shop, member.member_no, "MONTH")
    checkout(shop, member.member_no, [ServiceLine(1, "GYM", 1, 5000)])
    with pytest.raises(InvalidInput):
        revoke(shop, pass_id)


def test_a_stale_plan_on_a_revoked_card_is_refused(shop):
    member = new_member(shop)
    pass_id = sell(shop, member.member_no, "C10")
    uses = plan(shop, member.member_no, [ServiceLine(1, "WASH", 1, 3000)])
    revoke(shop, pass_id)
    with pytest.raises(InvalidInput) as caught:
        apply(shop, member.member_no, uses)
    assert "refunded" in caught.value.en
    with pytest.raises(NotFound):
        revoke(shop, "no-such-pass")


# -- Applying plans -----------------------------------------------------------------------------


def test_two_plans_from_the_same_read_the_second_refused_when_short(shop):
    """Two tills read the same card (3 uses left) and each plans 2 washes; the first commits,
    the second reads the card again inside its own transaction and is refused whole."""
    member = new_member(shop)
    add_product(
        shop, "C3", "洗车3次卡", "count_card", 9000, '{"services": {"WASH": 3}, "valid_days": 30}'
    )
    pass_id = sell(shop, member.member_no, "C3")
    lines = [ServiceLine(1, "WASH", 2, 6000)]
    till_a = plan(shop, member.member_no, lines)
    till_b = plan(shop, member.member_no, lines)
    assert till_a == till_b == [PassUse(pass_id, "WASH", 1, 2, 6000)]
    apply(shop, member.member_no, till_a, "A1")
    before = ledger_count(shop)
    with pytest.raises(InsufficientBalance) as caught:
        apply(shop, member.member_no, till_b, "B1")
    assert "次数不足" in caught.value.zh
    assert "1 left, 2 needed" in caught.value.en
    assert ledger_count(shop) == before
    assert items(shop, pass_id) == {"WASH": (3, 1)}
    # Planned again, the second till gets what is left: one wash on the card.
    (again,) = plan(shop, member.member_no, lines)
    assert (again.qty, again.amount_fen) == (1, 3000)
    assert_verified(shop)


def test_one_apply_checks_its_uses_together(shop):
    member = new_member(shop)
    pass_id = sell(shop, member.member_no, "TRY")
    twice = [PassUse(pass_id, "WASH", 1, 1, 100), PassUse(pass_id, "WASH", 2, 1, 100)]
    with pytest.raises(InsufficientBalance):
        apply(shop, member.member_no, twice)
    assert entries(shop, EntryKind.PASS_USED) == []
    assert items(shop, pass_id) == {"WASH": (1, 1)}


@pytest.mark.parametrize(
    ("use", "error"),
    [
        (PassUse("?", "WAX", 1, 1, 100), InvalidInput),  # the card does not cover wax
        (PassUse("?", "WASH", 1, 0, 100), InvalidInput),
        (PassUse("?", "WASH", 1, 1, -1), InvalidInput),
        (PassUse("no-such-pass", "WASH", 1, 1, 100), NotFound),
    ],
)
def test_bad_uses_are_refused(shop, use, error):
    member = new_member(shop)
    pass_id = sell(shop, member.member_no, "C10")
    if use.pass_id == "?":
        use = PassUse(pass_id, use.service_sku, use.line_no, use.qty, use.amount_fen)
    with pytest.raises(error):
        apply(shop, member.member_no, [use])
    assert entries(shop, EntryKind.PASS_USED) == []


def test_a_card_is_used_only_by_its_holder(shop):
    holder = new_member(shop)
    other = new_member(shop, "13900139000", "李四")
    sell(shop, holder.member_no, "C10")
    uses = plan(shop, holder.member_no, [ServiceLine(1, "WASH", 1, 3000)])
    with pytest.raises(NotFound):
        apply(shop, other.member_no, uses)
    assert plan(shop, other.member_no, [ServiceLine(1, "WASH", 1, 3000)]) == []


# -- Verify -----------------------------------------------------------------------------------


def test_verify_passes_finds_a_projection_changed_behind_the_ledger(shop):
    member = new_member(shop)
    pass_id = sell(shop, member.member_no, "C10")
    checkout(shop, member.member_no, [ServiceLine(1, "WASH", 2, 6000)])
    assert_verified(shop)
    with write_session(shop.ctx.engine) as s:
        s.execute(update(ServicePassItem).values(uses_left=10))
        s.execute(update(ServicePass).values(valid_until="2099-12-31"))
    with read_session(shop.ctx.engine) as s:
        problems = verify_passes(s)
    assert (
        f"pass {pass_id}",
        "WASH: uses (total, left) are (10, 10) but the ledger says (10, 8)",
    ) in (problems)
    assert (
        f"pass {pass_id}",
        "valid_until is 2099-12-31 but the ledger says 2027-03-01",
    ) in problems


def test_verify_passes_finds_a_pass_row_with_no_entry(shop):
    member = new_member(shop)
    with write_session(shop.ctx.engine) as s:
        s.add(
            ServicePass(
                id="forged",
                member_id=member_by_no(s, member.member_no).id,
                product_sku="C10",
                kind="count",
                name="洗车10次卡",
                valid_until="2099-01-01",
                receipt_no=None,
                state="active",
                granted_at=shop.ctx.now_iso(),
            )
        )
    with read_session(shop.ctx.engine) as s:
        assert verify_passes(s) == [("pass forged", "no pass_granted entry created this pass")]


# -- Shown on the member ----------------------------------------------------------------------


def test_member_passes_needs_one_way_to_find_the_member_and_the_permission(shop):
    member = member_with_card(shop, CARD_NO)
    sell(shop, member.member_no, "C10")
    with pytest.raises(InvalidInput):
        member_passes(shop.ctx, shop.cashier)
    with pytest.raises(InvalidInput):
        member_passes(shop.ctx, shop.cashier, member_no=member.member_no, card_no=CARD_NO)
    with pytest.raises(NotFound):
        member_passes(shop.ctx, shop.cashier, member_no="SH019999999")
    by_card = member_passes(shop.ctx, shop.cashier, card_no=CARD_NO)
    by_no = member_passes(shop.ctx, shop.manager, member_no=member.member_no)
    assert by_card == by_no and len(by_card) == 1
    forged = Actor(shop.cashier.operator_id, "cashier", "王收银", Role.CASHIER)  # not signed in
    with pytest.raises(AuthenticationFailed):
        member_passes(shop.ctx, forged, card_no=CARD_NO)


def test_member_passes_lists_soonest_expiry_first(shop):
    member = new_member(shop)
    sell(shop, member.member_no, "C10")  # to 2027-03-01
    sell(shop, member.member_no, "MONTH")  # to 2026-04-01
    sell(shop, member.member_no, "PKG")  # to 2026-05-30
    views = member_passes(shop.ctx, shop.cashier, member_no=member.member_no)
    assert [v.product_sku for v in views] == ["MONTH", "PKG", "C10"]
    assert [v.kind for v in views] == ["time", "package", "count"]


def test_cli_member_passes(shop):
    add_product(
        shop,
        "C10Y",
        "洗车十年卡",
        "count_card",
        100,
        '{"services": {"WASH": 10}, "valid_days": 3650}',
    )
    member = member_with_card(shop, CARD_NO)
    sell(shop, member.member_no, "C10Y")
    env = {"POS_OPERATOR": "cashier", "POS_PASSWORD": PASSWORD, "POS_LANG": None}
    base = ["--data-dir", str(shop.data_dir)]
    runner = make_runner()
    result = runner.invoke(cli, [*base, "--json", "member", "passes", "--card", CARD_NO], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["count"] == 1
    (shown,) = data["passes"]
    assert shown["product_sku"] == "C10Y"
    assert shown["items"] == [
        {"service_sku": "WASH", "service_name": "精致洗车", "uses_total": 10, "uses_left": 10}
    ]
    assert shown["text_zh"].startswith("洗车十年卡 精致洗车 剩余 10 次 (至 ")
    text = runner.invoke(
        cli,
        [*base, "--lang", "en", "member", "passes", "--member-no", member.member_no, "--all"],
        env=env,
    )
    assert text.exit_code == 0, text.output
    assert "洗车十年卡 Deluxe wash 10 uses left (until " in text.stdout
    usage = runner.invoke(cli, [*base, "member", "passes"], env=env)
    assert usage.exit_code != 0
