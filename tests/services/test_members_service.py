"""Members: register, unique mobile, find, masking by role, audited edits, no-write refusals."""

from __future__ import annotations

import json

import pytest

from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AlreadyExists, InvalidInput, NotFound
from pos_app.services import members
from pos_app.services.audit import list_audit
from pos_app.services.cards import issue_card
from tests.services.support import entries, member_row, new_member, snapshot


def test_mobile_and_name_are_enough_to_register(store):
    m = members.register_member(store.ctx, store.cashier, "138 1234 1234", " 张三 ")
    assert m.member_no == "SH010000001"
    assert m.name == "张三"
    assert m.tier == "normal" and m.tier_name == "普通会员"
    assert m.points == 0 and m.cards == ()
    (entry,) = entries(store, EntryKind.MEMBER_REGISTERED)
    assert entry.operator_id == store.cashier.operator_id
    assert json.loads(entry.payload) == {
        "member_no": "SH010000001",
        "referrer_id": None,
        "tier": "normal",
    }
    # profile details stay out of the permanent ledger
    assert "13812341234" not in entry.payload and "张三" not in entry.payload
    row = member_row(store, m.member_no)
    assert (row.mobile, row.mobile_last4) == ("13812341234", "1234")


def test_member_numbers_follow_each_other(store):
    a = new_member(store, "13800000001", "甲")
    b = new_member(store, "13800000002", "乙")
    assert (a.member_no, b.member_no) == ("SH010000001", "SH010000002")


@pytest.mark.parametrize("spelling", ["13800138000", "+86 138-0013-8000", "１３８００１３８０００"])
def test_the_mobile_is_unique(store, spelling):
    new_member(store, "13800138000", "张三")
    before = snapshot(store)
    with pytest.raises(AlreadyExists, match=r"138\*\*\*\*8000"):
        members.register_member(store.ctx, store.cashier, spelling, "李四")
    assert snapshot(store) == before


def test_an_edit_cannot_take_another_members_mobile(store):
    new_member(store, "13800138000", "张三")
    b = new_member(store, "13900139000", "李四")
    before = snapshot(store)
    with pytest.raises(AlreadyExists):
        members.update_member(
            store.ctx, store.cashier, b.member_no, mobile="13800138000", name="李四改"
        )
    assert snapshot(store) == before
    row = member_row(store, b.member_no)
    assert (row.mobile, row.name) == ("13900139000", "李四")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mobile": "1380013800"},
        {"mobile": "23800138000"},
        {"mobile": "13800138000", "name": ""},
        {"mobile": "13800138000", "birthday": "1990-02-30"},
        {"mobile": "13800138000", "birthday": "2030-01-01"},  # in the future
        {"mobile": "13800138000", "birthday": "17/05/1990"},
        {"mobile": "13800138000", "gender": "unknown"},
    ],
)
def test_bad_registration_is_refused_with_no_write(store, kwargs):
    kwargs.setdefault("name", "张三")
    before = snapshot(store)
    with pytest.raises(InvalidInput):
        members.register_member(store.ctx, store.cashier, **kwargs)
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "change",
    [
        {"birthday": "1990-13-01"},
        {"birthday": "2999-01-01"},
        {"mobile": "12345"},
        {"gender": "x"},
        {"name": " "},
    ],
)
def test_bad_edit_is_refused_with_no_write(store, change):
    m = new_member(store, "13800138000", "张三", birthday="1990-05-17")
    before = snapshot(store)
    # good fields with the bad one (the name is applied before birthday and gender are
    # checked): nothing may be saved
    good = {"email": "a@b.cn"} if "name" in change else {"email": "a@b.cn", "name": "张三改"}
    with pytest.raises(InvalidInput):
        members.update_member(store.ctx, store.cashier, m.member_no, **good, **change)
    assert snapshot(store) == before
    row = member_row(store, m.member_no)
    assert (row.email, row.birthday, row.mobile, row.name) == (
        None,
        "1990-05-17",
        "13800138000",
        "张三",
    )


def test_an_edit_is_audited_with_the_fields_not_their_values(store):
    m = new_member(store, "13800138000", "张三")
    ledger_before = len(entries(store))
    view = members.update_member(
        store.ctx,
        store.cashier,
        m.member_no,
        name="张三丰",
        birthday="1990-05-17",
        mobile="13912345678",
    )
    assert (view.name, view.birthday, view.mobile) == ("张三丰", "1990-05-17", "139****5678")
    assert len(entries(store)) == ledger_before  # a profile edit is not a ledger fact
    event = list_audit(store.ctx, store.manager)[0]
    assert (event.action, event.outcome, event.target) == ("member.edit", "ok", m.member_no)
    assert event.operator_id == store.cashier.operator_id
    assert json.loads(event.detail) == {"fields": ["mobile", "name", "birthday"]}
    assert "13912345678" not in event.detail and "张三丰" not in event.detail
    row = member_row(store, m.member_no)
    assert (row.mobile, row.mobile_last4) == ("13912345678", "5678")


@pytest.fixture
def people(store):
    a = new_member(store, "13812341234", "张三")
    b = new_member(store, "13955551234", "张三丰")
    c = new_member(store, "13700007777", "李四")
    issue_card(store.ctx, store.cashier, c.member_no, "66660001")
    return a, b, c


def numbers(hits):
    return [h.member_no for h in hits]


def test_find_by_last_four_digits(store, people):
    a, b, _ = people
    assert numbers(members.find_members(store.ctx, store.cashier, "1234")) == [
        a.member_no,
        b.member_no,
    ]


def test_find_by_name_prefix(store, people):
    a, b, c = people
    assert numbers(members.find_members(store.ctx, store.cashier, "张")) == [
        a.member_no,
        b.member_no,
    ]
    assert numbers(members.find_members(store.ctx, store.cashier, "张三丰")) == [b.member_no]
    assert numbers(members.find_members(store.ctx, store.cashier, "李")) == [c.member_no]
    assert members.find_members(store.ctx, store.cashier, "三") == []  # a prefix, not a substring
    assert members.find_members(store.ctx, store.cashier, "%") == []  # LIKE wildcards escaped


def test_find_by_member_no_card_no_and_full_mobile(store, people):
    a, b, c = people
    assert numbers(members.find_members(store.ctx, store.cashier, b.member_no)) == [b.member_no]
    assert numbers(members.find_members(store.ctx, store.cashier, b.member_no.lower())) == [
        b.member_no
    ]
    assert numbers(members.find_members(store.ctx, store.cashier, "66660001")) == [c.member_no]
    assert numbers(members.find_members(store.ctx, store.cashier, "13955551234")) == [b.member_no]
    assert members.find_members(store.ctx, store.cashier, "13955551235") == []


def test_find_needs_some_text(store, people):
    with pytest.raises(InvalidInput):
        members.find_members(store.ctx, store.cashier, "  ")


def test_mobile_masked_for_a_cashier_full_for_a_manager(store, people):
    a, _, c = people
    (hit,) = members.find_members(store.ctx, store.cashier, a.member_no)
    assert hit.mobile == "138****1234"
    (hit,) = members.find_members(store.ctx, store.manager, a.member_no)
    assert hit.mobile == "13812341234"
    assert members.show_member(store.ctx, store.cashier, card_no="66660001").mobile == (
        "137****7777"
    )
    assert members.show_member(store.ctx, store.manager, card_no="66660001").mobile == (
        "13700007777"
    )
    assert members.show_member(store.ctx, store.admin, mobile="13700007777").mobile == (
        "13700007777"
    )
    assert a.mobile == "138****1234"  # what the registering cashier was shown


def test_show_member_by_each_key(store, people):
    a, _, c = people
    assert members.show_member(store.ctx, store.cashier, member_no=a.member_no).name == "张三"
    by_card = members.show_member(store.ctx, store.cashier, card_no="66660001")
    assert by_card.member_no == c.member_no
    assert [card.card_no for card in by_card.cards] == ["66660001"]
    assert members.show_member(store.ctx, store.cashier, mobile="137 0000 7777").name == "李四"
    with pytest.raises(NotFound):
        members.show_member(store.ctx, store.cashier, mobile="13600000000")
    with pytest.raises(InvalidInput):
        members.show_member(store.ctx, store.cashier, member_no=a.member_no, card_no="66660001")
    with pytest.raises(InvalidInput):
        members.show_member(store.ctx, store.cashier)


def test_referrer_is_recorded(store):
    a = new_member(store, "13800000001", "甲")
    b = new_member(store, "13800000002", "乙", referrer_no=a.member_no)
    assert b.referrer_no == a.member_no
    with pytest.raises(NotFound):
        new_member(store, "13800000003", "丙", referrer_no="SH019999999")
