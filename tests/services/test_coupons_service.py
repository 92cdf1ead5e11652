"""Coupons against a real SQLite store: templates, issuing by hand, on registration, as a
top-up bonus, for points (6666 → ¥111) and in partner batches; per-member limits; validity;
redeem once and only once; restore on refund; void; and verify catching a tampered row."""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from db.engine import read_session
from db.ledger import new_id
from db.models import Coupon, CouponTemplate, Product
from pos_app.domain.coupons import CODE_ALPHABET, TemplateSpec
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import (
    AlreadyExists,
    InsufficientBalance,
    InvalidInput,
    LimitExceeded,
    NotFound,
    PermissionDenied,
)
from pos_app.domain.permissions import Permission
from pos_app.services import coupons, points, stored_value
from pos_app.services.context import DB_FILENAME
from pos_app.services.use_case import use_case
from pos_app.services.verify import verify_ledger
from tests.services.support import (
    count,
    entries,
    ledger_count,
    member_row,
    member_with_card,
    new_member,
    rules_variant,
    snapshot,
)

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")

TODAY = date(2026, 3, 2)  # the fixture clock's business day (Shanghai)

VEG8 = TemplateSpec(
    code="VEG8",
    name="蔬菜满20减8",
    kind="amount_off",
    threshold_fen=2000,
    amount_off_fen=800,
    categories=("蔬菜",),
    valid_days=30,
)
VOUCHER111 = TemplateSpec(
    code="PTS111",
    name="¥111 代金券",
    kind="amount_off",
    amount_off_fen=11100,
    valid_days=90,
    points_cost=6666,
)


def add(store, spec=VEG8, **changes):
    return coupons.add_template(store.ctx, store.manager, replace(spec, **changes))


def all_state(store) -> tuple[int, ...]:
    """Row counts including coupons, to show a refused use-case wrote nothing."""
    return (*snapshot(store), count(store, Coupon))


def coupon_row(store, code: str) -> Coupon:
    with read_session(store.ctx.engine) as s:
        row = s.scalars(select(Coupon).where(Coupon.code == code)).one()
        s.expunge(row)
        return row


def coupon_problems(store) -> list[tuple[str, str]]:
    with read_session(store.ctx.engine) as s:
        return coupons.verify_coupons(s)


def assert_verified(store) -> None:
    report = verify_ledger(store.ctx)
    assert report.ok, report.problems
    assert coupon_problems(store) == []


def terms(store, code: str, member_id: str | None, today: date = TODAY):
    with read_session(store.ctx.engine) as s:
        return coupons.terms_for_sale(s, code, member_id, today)


def redeem(store, t, member_id, discount_fen=800, receipt_no="SH01-0001") -> str:
    with use_case(store.ctx, store.cashier, Permission.SALE) as uc:
        return coupons.redeem_in_tx(uc, t, member_id, discount_fen, receipt_no, None)


def restore(store, coupon_id: str, receipt_no="SH01-R001") -> bool:
    with use_case(store.ctx, store.cashier, Permission.SALE_REFUND) as uc:
        return coupons.restore_in_tx(uc, coupon_id, receipt_no, None)


def add_product(store, sku: str, name: str) -> None:
    with store.ctx.engine.begin() as conn:
        conn.execute(
            Product.__table__.insert().values(
                id=new_id(),
                sku=sku,
                name=name,
                category="赠品",
                unit="个",
                kind="goods",
                price_fen=500,
                earns_points=False,
                takes_discounts=False,
                active=True,
                updated_at="2026-03-01T00:00:00+00:00",
            )
        )


# -- templates -------------------------------------------------------------------------------


def test_a_manager_adds_templates_and_anyone_lists_them(store):
    view = add(store, code="veg8")
    assert (view.code, view.value_zh, view.value_en) == (
        "VEG8",
        "满20减8（限蔬菜）",
        "¥8 off over ¥20 (only 蔬菜)",
    )
    add(store, VOUCHER111)
    listed = coupons.list_templates(store.ctx, store.cashier)
    assert [t.code for t in listed] == ["PTS111", "VEG8"]
    assert listed[0].points_cost == 6666 and listed[0].value_zh == "无门槛减111"
    with read_session(store.ctx.engine) as s:
        row = s.scalars(select(CouponTemplate).where(CouponTemplate.code == "VEG8")).one()
        assert json.loads(row.scope_categories) == ["蔬菜"]
        assert (row.valid_days, row.restore_on_refund, row.active) == (30, True, True)


def test_duplicate_codes_a_cashier_and_bad_templates_are_refused(store):
    add(store)
    before = all_state(store)
    with pytest.raises(AlreadyExists):
        add(store, code=" veg8 ")
    with pytest.raises(PermissionDenied):
        coupons.add_template(store.ctx, store.cashier, replace(VEG8, code="OTHER"))
    with pytest.raises(InvalidInput, match="threshold cannot be below"):
        add(store, code="BAD", threshold_fen=500)
    assert count(store, CouponTemplate) == 1
    assert all_state(store)[:-2] == before[:-2]  # the cashier's refusal is audited, no more


def test_a_gift_template_needs_a_real_product(store):
    gift = TemplateSpec(
        code="GIFT", name="满100送袋", kind="gift", threshold_fen=10000, valid_days=7
    )
    with pytest.raises(NotFound, match="G001"):
        add(store, gift, gift_sku="G001")
    add_product(store, "G001", "环保袋")
    view = add(store, gift, gift_sku="G001")
    assert (view.gift_sku, view.value_zh) == ("G001", "满100送环保袋")


# -- issuing by hand, limits, validity -----------------------------------------------------


def test_issue_by_hand_puts_coupons_in_the_wallet_with_an_entry_each(store):
    add(store)
    m = new_member(store)
    issued = coupons.issue_coupons(store.ctx, store.cashier, "veg8", m.member_no, count=2)
    assert len({c.code for c in issued}) == 2
    first = issued[0]
    assert (first.state, first.valid_from, first.valid_to, first.usable_today) == (
        "issued",
        "2026-03-02",
        "2026-03-31",
        True,
    )
    assert (first.source, first.member_no, first.value_zh) == (
        "manual",
        m.member_no,
        "满20减8（限蔬菜）",
    )
    wallet = coupons.member_coupons(store.ctx, store.cashier, m.member_no)
    assert sorted(c.code for c in wallet) == sorted(c.code for c in issued)
    issued_entries = entries(store, EntryKind.COUPON_ISSUED)
    assert len(issued_entries) == 2
    row = coupon_row(store, first.code)
    (entry,) = [e for e in issued_entries if e.entry_id == row.id]  # the row's id is its entry
    assert entry.member_id == member_row(store, m.member_no).id
    assert json.loads(entry.payload) == {
        "coupon_id": row.id,
        "code": first.code,
        "template": "VEG8",
        "source": "manual",
        "valid_from": "2026-03-02",
        "valid_to": "2026-03-31",
    }
    assert_verified(store)


def test_issuing_needs_a_known_template_and_member(store):
    add(store)
    m = new_member(store)
    before = all_state(store)
    with pytest.raises(NotFound, match="template"):
        coupons.issue_coupons(store.ctx, store.cashier, "NOPE", m.member_no)
    with pytest.raises(NotFound):
        coupons.issue_coupons(store.ctx, store.cashier, "VEG8", "SH019999999")
    with pytest.raises(InvalidInput):
        coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no, count=0)
    assert all_state(store) == before


def test_the_per_member_limit_counts_every_coupon_ever_issued(store):
    add(store, per_member_limit=2)
    m = new_member(store)
    other = new_member(store, "13900139000", "李四")
    (one,) = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    before = all_state(store)
    with pytest.raises(LimitExceeded, match="at most 2 per member, 1 already issued"):
        coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no, count=2)
    assert all_state(store) == before
    coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    # Voiding one does not free a place: the limit is on coupons ever issued.
    coupons.void_coupon(store.ctx, store.manager, one.code, "发错了")
    with pytest.raises(LimitExceeded):
        coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    coupons.issue_coupons(store.ctx, store.cashier, "VEG8", other.member_no, count=2)
    assert_verified(store)


def test_n_days_from_issue_then_expired(store):
    add(store, valid_days=3)
    m = new_member(store)
    member_id = member_row(store, m.member_no).id
    (c,) = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    assert (c.valid_from, c.valid_to) == ("2026-03-02", "2026-03-04")
    store.clock.advance(days=2)  # 03-04, the last day
    (shown,) = coupons.member_coupons(store.ctx, store.cashier, m.member_no)
    assert shown.usable_today
    terms(store, c.code, member_id, store.ctx.business_day())
    store.clock.advance(days=1)  # 03-05
    (shown,) = coupons.member_coupons(store.ctx, store.cashier, m.member_no)
    assert not shown.usable_today and shown.state == "issued"
    with pytest.raises(InvalidInput, match="expired") as err:
        terms(store, c.code, member_id, store.ctx.business_day())
    assert "有效期至 2026-03-04" in err.value.zh
    # A coupon issued today runs from today.
    (later,) = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    assert (later.valid_from, later.valid_to) == ("2026-03-05", "2026-03-07")


def test_fixed_dates_not_yet_then_usable_then_no_longer_issued(store):
    add(store, valid_days=None, valid_from=date(2026, 3, 10), valid_to=date(2026, 3, 20))
    m = new_member(store)
    member_id = member_row(store, m.member_no).id
    (c,) = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    assert (c.valid_from, c.valid_to, c.usable_today) == ("2026-03-10", "2026-03-20", False)
    with pytest.raises(InvalidInput, match="not valid yet"):
        terms(store, c.code, member_id, store.ctx.business_day())
    store.clock.advance(days=8)  # 03-10
    assert terms(store, c.code, member_id, store.ctx.business_day()).valid_to == "2026-03-20"
    store.clock.advance(days=11)  # 03-21
    before = all_state(store)
    with pytest.raises(InvalidInput, match="has expired"):
        coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    assert all_state(store) == before


# -- points exchange -------------------------------------------------------------------------


def test_6666_points_buy_a_111_yuan_voucher(store):
    add(store, VOUCHER111)
    m = member_with_card(store)
    points.adjust_points(store.ctx, store.manager, m.member_no, 7000, "开业赠送")
    r = coupons.exchange_points_for_coupon(
        store.ctx, store.cashier, "PTS111", member_no=m.member_no
    )
    assert (r.points_spent, r.points_balance) == (6666, 334)
    assert member_row(store, m.member_no).points_balance == 334
    assert (r.coupon.source, r.coupon.value_zh, r.coupon.valid_to) == (
        "points",
        "无门槛减111",
        "2026-05-30",
    )
    (wallet,) = coupons.member_coupons(store.ctx, store.cashier, m.member_no)
    assert wallet.code == r.coupon.code
    redeemed = entries(store, EntryKind.POINTS_REDEEMED)[-1]
    assert redeemed.entry_id == r.points_entry_id and redeemed.points_delta == -6666
    payload = json.loads(redeemed.payload)
    assert payload["coupon_template"] == "PTS111" and payload["lots"][0][1] == 6666
    issued = entries(store, EntryKind.COUPON_ISSUED)[-1]
    assert issued.related_entry_id == r.points_entry_id
    assert json.loads(issued.payload)["source"] == "points"
    assert_verified(store)

    # Short now: refused, and nothing written.
    before = all_state(store)
    with pytest.raises(InsufficientBalance, match="6666 needed, 334 available"):
        coupons.exchange_points_for_coupon(store.ctx, store.cashier, "PTS111", card_no="88880001")
    assert all_state(store) == before
    assert member_row(store, m.member_no).points_balance == 334


def test_points_exchange_by_card_takes_the_oldest_lots_first(store):
    add(store, VOUCHER111)
    m = member_with_card(store)
    points.adjust_points(store.ctx, store.manager, m.member_no, 5000, "first")
    store.clock.advance(days=1)
    points.adjust_points(store.ctx, store.manager, m.member_no, 5000, "second")
    r = coupons.exchange_points_for_coupon(store.ctx, store.cashier, "PTS111", card_no="88880001")
    assert r.points_balance == 10000 - 6666
    lots_taken = json.loads(entries(store, EntryKind.POINTS_REDEEMED)[-1].payload)["lots"]
    assert [pts for _, pts in lots_taken] == [5000, 1666]
    assert_verified(store)


def test_points_exchange_is_refused_while_the_balance_is_negative(store):
    add(store, VOUCHER111, points_cost=50)
    m = new_member(store)
    bought = points.record_manual_purchase(
        store.ctx, store.manager, member_no=m.member_no, amount_fen=10000, reason="补录"
    )
    points.redeem_points(store.ctx, store.cashier, 100, "礼品", member_no=m.member_no)
    points.refund_purchase(store.ctx, store.manager, bought.purchase_entry_id)
    assert member_row(store, m.member_no).points_balance == -100
    before = all_state(store)
    with pytest.raises(InsufficientBalance, match="negative"):
        coupons.exchange_points_for_coupon(
            store.ctx, store.cashier, "PTS111", member_no=m.member_no
        )
    assert all_state(store) == before


def test_a_template_without_a_points_cost_is_not_for_exchange(store):
    add(store)
    m = new_member(store)
    points.adjust_points(store.ctx, store.manager, m.member_no, 100, "x")
    with pytest.raises(InvalidInput, match="cannot be had for points"):
        coupons.exchange_points_for_coupon(store.ctx, store.cashier, "VEG8", member_no=m.member_no)
    with pytest.raises(InvalidInput, match="member number or a card"):
        coupons.exchange_points_for_coupon(store.ctx, store.cashier, "VEG8")


# -- registration and top-up hooks -----------------------------------------------------------

REGISTRATION_LINE = '# registration_coupon = "NEW10"'
BONUS_LINE = '# A bonus row may also give coupons:  coupon = "TEMPLATE_CODE"   coupon_count = 1'


def test_a_new_member_gets_the_registration_coupon(store):
    add(store, code="NEW10", name="新人券", threshold_fen=0, amount_off_fen=1000, categories=())
    rules_variant(store, (REGISTRATION_LINE, 'registration_coupon = "NEW10"'))
    m = new_member(store)
    (c,) = coupons.member_coupons(store.ctx, store.cashier, m.member_no)
    assert (c.template_code, c.source, c.value_zh) == ("NEW10", "registration", "无门槛减10")
    registered, issued = entries(store)[-2:]
    assert (registered.kind, issued.kind) == (EntryKind.MEMBER_REGISTERED, EntryKind.COUPON_ISSUED)
    assert issued.member_id == registered.member_id
    assert_verified(store)


def test_a_missing_registration_template_does_not_block_registration(store, caplog):
    rules_variant(store, (REGISTRATION_LINE, 'registration_coupon = "NOPE"'))
    with caplog.at_level(logging.WARNING, logger="pos_app.services.coupons"):
        m = new_member(store)
    assert member_row(store, m.member_no).member_no == m.member_no
    assert coupons.member_coupons(store.ctx, store.cashier, m.member_no) == []
    assert "NOPE" in caplog.text
    assert_verified(store)


def test_the_top_up_bonus_tier_gives_its_coupons(store):
    add(store)
    rules_variant(store, (BONUS_LINE, 'coupon = "VEG8"\ncoupon_count = 2'))
    m = member_with_card(store)
    below = stored_value.top_up(store.ctx, store.cashier, "88880001", 49900)
    assert below.coupon_codes == ()
    r = stored_value.top_up(store.ctx, store.cashier, "88880001", 50000)
    assert (r.bonus_fen, len(r.coupon_codes)) == (5000, 2)
    wallet = coupons.member_coupons(store.ctx, store.cashier, m.member_no)
    assert sorted(c.code for c in wallet) == sorted(r.coupon_codes)
    assert {c.source for c in wallet} == {"topup"}
    # ¥1000 reaches the higher tier, which gives bonus money but no coupon.
    higher = stored_value.top_up(store.ctx, store.cashier, "88880001", 100000)
    assert (higher.bonus_fen, higher.coupon_codes) == (15000, ())
    assert_verified(store)


# -- at the till: terms, redeem once, restore ------------------------------------------------


def test_terms_for_a_sale(store):
    add(store)
    m = new_member(store)
    other = new_member(store, "13900139000", "李四")
    member_id = member_row(store, m.member_no).id
    (c,) = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    typed = " " + c.code.lower()[:5] + " " + c.code.lower()[5:] + " "
    t = terms(store, typed, member_id)
    assert (t.code, t.template_code, t.kind, t.threshold_fen, t.amount_off_fen) == (
        c.code,
        "VEG8",
        "amount_off",
        2000,
        800,
    )
    assert (t.categories, t.skus, t.gift_sku, t.valid_to) == (("蔬菜",), (), None, "2026-03-31")
    assert (t.stacks_with_tier, t.stacks_with_coupons, t.restore_on_refund) == (True, False, True)
    assert t.coupon_id == coupon_row(store, c.code).id
    with pytest.raises(InvalidInput, match="another member"):
        terms(store, c.code, member_row(store, other.member_no).id)
    with pytest.raises(InvalidInput, match="identify the member"):
        terms(store, c.code, None)
    with pytest.raises(NotFound, match="No such coupon"):
        terms(store, "ZZZZZZZZZZ", member_id)


def test_a_coupon_is_used_once_and_a_second_use_is_refused(store):
    add(store)
    m = new_member(store)
    member_id = member_row(store, m.member_no).id
    (c,) = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    t = terms(store, c.code, member_id)
    entry_id = redeem(store, t, member_id, 800, "SH01-0001")
    row = coupon_row(store, c.code)
    assert (row.state, row.used_receipt_no, row.used_at is not None) == ("used", "SH01-0001", True)
    (entry,) = entries(store, EntryKind.COUPON_REDEEMED)
    assert (entry.entry_id, entry.amount_fen, entry.member_id) == (entry_id, 800, member_id)
    assert json.loads(entry.payload) == {
        "coupon_id": row.id,
        "code": c.code,
        "receipt_no": "SH01-0001",
    }
    # The second till had looked the coupon up before the first sale committed.
    before = all_state(store)
    with pytest.raises(InvalidInput) as err:
        redeem(store, t, member_id, 800, "SH01-0002")
    assert err.value.code == "coupon_used"
    assert err.value.zh == "这张券已经用过了（小票 SH01-0001）"
    assert err.value.en == "This coupon has already been used (receipt SH01-0001)"
    assert all_state(store) == before
    with pytest.raises(InvalidInput, match="already been used"):
        terms(store, c.code, member_id)
    assert coupons.member_coupons(store.ctx, store.cashier, m.member_no) == []
    (used,) = coupons.member_coupons(store.ctx, store.cashier, m.member_no, include_used=True)
    assert (used.state, used.used_receipt_no, used.usable_today) == ("used", "SH01-0001", False)
    assert_verified(store)


def test_the_same_coupon_twice_in_one_sale_rolls_the_sale_back(store):
    add(store)
    m = new_member(store)
    member_id = member_row(store, m.member_no).id
    (c,) = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    t = terms(store, c.code, member_id)
    before = all_state(store)
    with (
        pytest.raises(InvalidInput, match="already been used"),
        use_case(store.ctx, store.cashier, Permission.SALE) as uc,
    ):
        coupons.redeem_in_tx(uc, t, member_id, 800, "SH01-0001", None)
        coupons.redeem_in_tx(uc, t, member_id, 800, "SH01-0001", None)
    assert all_state(store) == before
    assert coupon_row(store, c.code).state == "issued"


def test_a_refund_restores_the_coupon_when_the_template_says_so(store):
    add(store)
    add(store, code="ONCE", restore_on_refund=False)
    m = new_member(store)
    member_id = member_row(store, m.member_no).id
    (c,) = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    (once,) = coupons.issue_coupons(store.ctx, store.cashier, "ONCE", m.member_no)
    for code in (c.code, once.code):
        redeem(store, terms(store, code, member_id), member_id, 800, f"R-{code}")
    row = coupon_row(store, c.code)
    assert restore(store, row.id) is True
    row = coupon_row(store, c.code)
    assert (row.state, row.used_at, row.used_receipt_no) == ("issued", None, None)
    (entry,) = entries(store, EntryKind.COUPON_RESTORED)
    assert json.loads(entry.payload)["used_receipt_no"] == f"R-{c.code}"
    assert restore(store, row.id) is False  # not used any more: nothing to restore
    assert restore(store, coupon_row(store, once.code).id) is False
    assert coupon_row(store, once.code).state == "used"
    # Restored, it can be used again.
    redeem(store, terms(store, c.code, member_id), member_id, 800, "R-again")
    assert coupon_row(store, c.code).used_receipt_no == "R-again"
    assert_verified(store)


# -- partner batches -------------------------------------------------------------------------


def test_a_batch_of_1000_unique_member_less_codes(store):
    add(store, valid_days=None, valid_from=date(2026, 3, 1), valid_to=date(2026, 6, 30))
    before = ledger_count(store)
    r = coupons.make_batch(store.ctx, store.manager, "VEG8", 1000, " 隔壁咖啡店 ")
    assert (r.label, r.valid_from, r.valid_to, len(r.codes)) == (
        "隔壁咖啡店",
        "2026-03-01",
        "2026-06-30",
        1000,
    )
    assert len(set(r.codes)) == 1000
    assert all(len(code) == 10 and set(code) <= set(CODE_ALPHABET) for code in r.codes)
    assert ledger_count(store) == before + 1000
    with read_session(store.ctx.engine) as s:
        rows = s.scalars(select(Coupon).where(Coupon.batch_label == "隔壁咖啡店")).all()
        assert len(rows) == 1000
        assert {(c.member_id, c.source, c.state) for c in rows} == {(None, "batch", "issued")}
    # Anyone may use a partner code, member or not.
    t = terms(store, r.codes[0], None)
    redeem(store, t, None, 800, "SH01-0009")
    assert_verified(store)


def test_batches_are_limited_and_for_managers(store):
    add(store)
    before = all_state(store)
    with pytest.raises(InvalidInput, match="1 to 10000"):
        coupons.make_batch(store.ctx, store.manager, "VEG8", 10001, "x")
    with pytest.raises(InvalidInput, match="label"):
        coupons.make_batch(store.ctx, store.manager, "VEG8", 10, "  ")
    with pytest.raises(PermissionDenied):
        coupons.make_batch(store.ctx, store.cashier, "VEG8", 10, "x")
    assert all_state(store)[:-2] == before[:-2]


# -- void ------------------------------------------------------------------------------------


def test_void_an_unused_coupon(store):
    add(store)
    m = new_member(store)
    member_id = member_row(store, m.member_no).id
    one, two = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no, count=2)
    with pytest.raises(PermissionDenied):
        coupons.void_coupon(store.ctx, store.cashier, one.code, "x")
    with pytest.raises(InvalidInput, match="reason"):
        coupons.void_coupon(store.ctx, store.manager, one.code, " ")
    view = coupons.void_coupon(store.ctx, store.manager, one.code.lower(), "发错了")
    assert (view.state, view.usable_today) == ("void", False)
    (entry,) = entries(store, EntryKind.COUPON_VOIDED)
    assert json.loads(entry.payload)["reason"] == "发错了"
    with pytest.raises(InvalidInput, match="voided"):
        terms(store, one.code, member_id)
    with pytest.raises(InvalidInput, match="voided"):
        coupons.void_coupon(store.ctx, store.manager, one.code, "again")
    redeem(store, terms(store, two.code, member_id), member_id)
    with pytest.raises(InvalidInput, match="already been used"):
        coupons.void_coupon(store.ctx, store.manager, two.code, "too late")
    assert [c.code for c in coupons.member_coupons(store.ctx, store.cashier, m.member_no)] == []
    assert_verified(store)


# -- verify ----------------------------------------------------------------------------------


def tamper(store, statement: str, *params: object) -> None:
    con = sqlite3.connect(store.data_dir / DB_FILENAME)
    try:
        con.execute(statement, params)
        con.commit()
    finally:
        con.close()


def test_verify_finds_a_coupon_row_changed_behind_the_ledgers_back(store):
    add(store)
    m = new_member(store)
    member_id = member_row(store, m.member_no).id
    one, two = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no, count=2)
    redeem(store, terms(store, one.code, member_id), member_id, 800, "SH01-0001")
    assert_verified(store)
    store.ctx.engine.dispose()
    # Someone makes the used coupon usable again, and extends the other one.
    tamper(
        store, "UPDATE coupon SET state = 'issued', used_receipt_no = NULL WHERE code = ?", one.code
    )
    tamper(store, "UPDATE coupon SET valid_to = '2027-12-31' WHERE code = ?", two.code)
    problems = coupon_problems(store)
    assert (f"coupon {one.code}", "state is issued but the ledger says used") in problems
    assert (
        f"coupon {two.code}",
        "valid_to is 2027-12-31 but the ledger says 2026-03-31",
    ) in problems


def test_verify_finds_a_forged_coupon_and_a_double_redemption(store):
    add(store)
    m = new_member(store)
    member_id = member_row(store, m.member_no).id
    (c,) = coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    with read_session(store.ctx.engine) as s:
        template_id = s.scalars(select(CouponTemplate.id)).one()
    store.ctx.engine.dispose()
    tamper(
        store,
        "INSERT INTO coupon (id, code, template_id, member_id, source, valid_from, valid_to, "
        "issued_at, state) VALUES (?, 'FAKE234567', ?, ?, 'manual', '2026-03-02', "
        "'2026-12-31', '2026-03-02', 'issued')",
        new_id(),
        template_id,
        member_id,
    )
    assert ("coupon FAKE234567", "no ledger entry issued this coupon") in coupon_problems(store)
    # A second redemption written straight into the ledger (as a faulty till might) is caught
    # by the replay, even though the row says "used".
    t = terms(store, c.code, member_id)
    redeem(store, t, member_id, 800, "SH01-0001")
    with use_case(store.ctx, store.cashier, Permission.SALE) as uc:
        uc.ledger.append(
            EntryKind.COUPON_REDEEMED,
            member_id=member_id,
            amount_fen=800,
            payload={"coupon_id": t.coupon_id, "code": c.code, "receipt_no": "SH02-0001"},
        )
    problems = coupon_problems(store)
    assert (f"coupon {c.code}", "redeemed again without a restore (used twice)") in problems
    assert any("SH02-0001" in message for _, message in problems)


def test_member_wallet_lists_soonest_to_expire_first(store):
    add(store, valid_days=30)
    add(store, code="SHORT", valid_days=5)
    m = new_member(store)
    coupons.issue_coupons(store.ctx, store.cashier, "VEG8", m.member_no)
    coupons.issue_coupons(store.ctx, store.cashier, "SHORT", m.member_no)
    wallet = coupons.member_coupons(store.ctx, store.cashier, m.member_no)
    assert [c.template_code for c in wallet] == ["SHORT", "VEG8"]
    assert wallet[0].valid_to == (TODAY + timedelta(days=4)).isoformat()
