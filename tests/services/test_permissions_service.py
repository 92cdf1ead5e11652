"""Operators and permissions, checked by the services themselves (not only hidden in the UI)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from db.engine import write_session
from db.models import Operator
from pos_app.domain.errors import ApprovalRequired, AuthenticationFailed, PermissionDenied
from pos_app.domain.permissions import Permission, Role
from pos_app.services import cards, members, points, shifts, stored_value, tiers
from pos_app.services.audit import list_audit
from pos_app.services.auth import Approval
from pos_app.services.context import DB_FILENAME
from pos_app.services.rules import load_rules
from pos_app.services.sign_in import approve, sign_in
from pos_app.services.store_setup import add_operator
from tests.conftest import PASSWORD
from tests.services.support import (
    EXAMPLE_TEXT,
    audit_count,
    card_row,
    entries,
    last_entry,
    member_with_card,
    snapshot,
)

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")

CARD = "88880001"


@pytest.fixture
def member(store):
    return member_with_card(store, CARD, topup_fen=10000)


def manager_only_calls(store, member):
    actor = store.cashier
    return {
        Permission.POINTS_ADJUST: lambda: points.adjust_points(
            store.ctx, actor, member.member_no, 10, "补录"
        ),
        Permission.TIER_REVIEW: lambda: tiers.review_tiers(store.ctx, actor),
        Permission.OPERATOR_MANAGE: lambda: add_operator(
            store.ctx, actor, "newbie", "新人", "cashier", "abcdef"
        ),
        Permission.RULES_LOAD: lambda: load_rules(store.ctx, actor, EXAMPLE_TEXT, "x.toml"),
        Permission.CARD_FOUND: lambda: cards.mark_card_found(store.ctx, actor, CARD),
        Permission.POINTS_EXPIRE: lambda: points.expire_points(store.ctx, actor),
        Permission.CARD_STOCK_IMPORT: lambda: cards.import_card_stock(
            store.ctx, actor, ["99990001"]
        ),
    }


def test_a_cashier_calling_a_manager_only_service_is_refused_and_audited(store, member):
    for permission, call in manager_only_calls(store, member).items():
        before = snapshot(store)
        with pytest.raises(PermissionDenied):
            call()
        after = snapshot(store)
        assert after[:4] == before[:4], permission  # nothing written but ...
        assert after[4] == before[4] + 1, permission  # ... the refusal in the audit trail
        refusal = list_audit(store.ctx, store.manager, limit=1)[0]
        assert (refusal.action, refusal.outcome, refusal.operator_id) == (
            permission.value,
            "refused",
            store.cashier.operator_id,
        )
        assert "not allowed" in json.loads(refusal.detail)["reason"]
    assert card_row(store, CARD).state == "active"


def test_a_manager_may_not_do_what_only_an_admin_may(store):
    before = snapshot(store)
    with pytest.raises(PermissionDenied):
        load_rules(store.ctx, store.manager, EXAMPLE_TEXT, "x.toml")
    with pytest.raises(PermissionDenied):
        add_operator(store.ctx, store.manager, "newbie", "新人", "cashier", "abcdef")
    assert snapshot(store)[:4] == before[:4]


def test_a_cashier_cannot_read_the_audit_trail(store):
    with pytest.raises(PermissionDenied):
        list_audit(store.ctx, store.cashier)


def test_a_privileged_act_needs_a_managers_approval(store, member):
    before = snapshot(store)
    with pytest.raises(ApprovalRequired):
        cards.cancel_card(store.ctx, store.cashier, CARD)
    assert snapshot(store)[:4] == before[:4]
    refusal = list_audit(store.ctx, store.manager, limit=1)[0]
    assert (refusal.action, refusal.outcome) == ("card.cancel", "refused")


def test_a_cashiers_approval_is_no_approval(store, member):
    # through the approval dialog: a cashier's credentials do not approve
    with pytest.raises(ApprovalRequired):
        approve(store.ctx, "cashier", PASSWORD, Permission.CARD_CANCEL)
    # nor does an approval made up in code: the approver's row is re-read, so neither the
    # cashier's own id nor a claimed manager role on it passes
    forged = Approval(store.cashier.operator_id, "cashier", Role.CASHIER)
    claimed = Approval(store.cashier.operator_id, "cashier", Role.MANAGER)
    before = snapshot(store)
    for approval in (forged, claimed):
        with pytest.raises(ApprovalRequired):
            cards.cancel_card(store.ctx, store.cashier, CARD, approval=approval)
    assert snapshot(store)[:4] == before[:4]
    assert card_row(store, CARD).state == "active"


def test_a_refused_approval_is_audited(store):
    with pytest.raises(ApprovalRequired):
        approve(store.ctx, "cashier", PASSWORD, Permission.CARD_CANCEL)
    refusal = list_audit(store.ctx, store.manager, limit=1)[0]
    assert (refusal.action, refusal.outcome, refusal.target) == (
        "approve:card.cancel",
        "refused",
        "cashier",
    )
    with pytest.raises(AuthenticationFailed):
        approve(store.ctx, "manager", "wrong-password", Permission.CARD_CANCEL)
    refusal = list_audit(store.ctx, store.manager, limit=1)[0]
    assert (refusal.action, refusal.outcome, refusal.target) == (
        "approve:card.cancel",
        "refused",
        "manager",
    )


def test_with_a_managers_approval_the_manager_is_recorded(store, member):
    approval = store.approval(Permission.CARD_CANCEL)
    result = cards.cancel_card(store.ctx, store.cashier, CARD, approval=approval)
    assert result.card.state == "cancelled"
    entry = last_entry(store)
    assert entry.operator_id == store.cashier.operator_id
    assert entry.approved_by_id == store.manager.operator_id


def test_a_manager_alone_is_recorded_as_the_approver(store, member):
    cards.reset_pin(store.ctx, store.manager, CARD, "112233")
    entry = last_entry(store)
    assert entry.operator_id == entry.approved_by_id == store.manager.operator_id
    cards.reset_pin(store.ctx, store.admin, CARD, "445566")
    entry = last_entry(store)
    assert entry.operator_id == entry.approved_by_id == store.admin.operator_id


def test_an_ordinary_act_records_no_approver(store, member):
    stored_value.top_up(store.ctx, store.cashier, CARD, 10000)
    assert last_entry(store).approved_by_id is None


def deactivate(store, operator_id):
    with write_session(store.ctx.engine) as s:
        s.execute(update(Operator).where(Operator.id == operator_id).values(active=False))


def test_a_deactivated_operator_is_refused_at_once(store, member):
    deactivate(store, store.cashier.operator_id)
    before = snapshot(store)
    with pytest.raises(AuthenticationFailed):
        stored_value.top_up(store.ctx, store.cashier, CARD, 10000)
    with pytest.raises(AuthenticationFailed):
        members.find_members(store.ctx, store.cashier, "张")
    with pytest.raises(AuthenticationFailed):
        sign_in(store.ctx, "cashier", PASSWORD)
    assert snapshot(store)[:4] == before[:4]


def test_a_deactivated_managers_approval_is_refused(store, member):
    approval = store.approval(Permission.CARD_CANCEL)
    deactivate(store, store.manager.operator_id)
    with pytest.raises(ApprovalRequired):
        cards.cancel_card(store.ctx, store.cashier, CARD, approval=approval)
    with pytest.raises(AuthenticationFailed):
        approve(store.ctx, "manager", PASSWORD, Permission.CARD_CANCEL)
    assert card_row(store, CARD).state == "active"


def test_an_admin_adds_an_operator_who_can_sign_in(store):
    info = add_operator(store.ctx, store.admin, "zhao", "赵收银", "cashier", "pass-zhao")
    assert (info.login, info.role) == ("zhao", "cashier")
    actor = sign_in(store.ctx, "zhao", "pass-zhao")
    assert (actor.operator_id, actor.role) == (info.operator_id, Role.CASHIER)
    event = list_audit(store.ctx, store.manager, limit=2)[1]
    assert (event.action, event.target, event.operator_id) == (
        "operator.add",
        "zhao",
        store.admin.operator_id,
    )
    before = audit_count(store)
    with pytest.raises(Exception, match="taken"):
        add_operator(store.ctx, store.admin, "zhao", "另一个", "cashier", "pass-zhao")
    with pytest.raises(Exception, match="role"):
        add_operator(store.ctx, store.admin, "qian", "钱", "boss", "pass-qian")
    with pytest.raises(Exception, match="6 characters"):
        add_operator(store.ctx, store.admin, "qian", "钱", "cashier", "short")
    assert audit_count(store) == before


def test_passwords_and_pins_are_stored_hashed_and_never_in_clear(store):
    pin = "739184"
    member_with_card(store, CARD, pin=pin)
    stored_value.top_up(store.ctx, store.cashier, CARD, 10000)
    stored_value.pay_with_stored_value(store.ctx, store.cashier, CARD, 100, pin=pin)
    sign_in(store.ctx, "cashier", PASSWORD)
    with write_session(store.ctx.engine) as s:
        hashes = [h for (h,) in s.query(Operator.password_hash)]
    assert len(hashes) == 3 and all(h.startswith("scrypt$") for h in hashes)
    assert card_row(store, CARD).pin_hash.startswith("scrypt$")
    files = [store.data_dir / DB_FILENAME, store.data_dir / (DB_FILENAME + "-wal")]
    assert files[1].exists()  # WAL mode: recent writes are in the -wal file
    raw = b"".join(path.read_bytes() for path in files)
    assert b"scrypt$" in raw  # the check reads the real bytes
    assert PASSWORD.encode() not in raw
    assert PASSWORD.encode("utf-16-le") not in raw
    assert pin.encode() not in raw


def test_an_approval_covers_one_kind_of_action_only(store, member):
    reset_approval = store.approval(Permission.PIN_RESET)
    before = snapshot(store)
    with pytest.raises(ApprovalRequired):
        cards.cancel_card(store.ctx, store.cashier, CARD, approval=reset_approval)
    assert snapshot(store)[:4] == before[:4]
    cancel_approval = store.approval(Permission.CARD_CANCEL)
    cards.cancel_card(store.ctx, store.cashier, CARD, approval=cancel_approval)
    assert card_row(store, CARD).state == "cancelled"


def test_an_approval_expires(store, member, monkeypatch):
    from pos_app.services import auth

    approval = store.approval(Permission.CARD_CANCEL)
    monkeypatch.setattr(auth, "APPROVAL_VALID_SECONDS", -1)
    with pytest.raises(ApprovalRequired):
        cards.cancel_card(store.ctx, store.cashier, CARD, approval=approval)
    assert card_row(store, CARD).state == "active"


def test_an_actor_made_up_in_code_is_refused(store, member):
    from dataclasses import replace

    from pos_app.services.auth import Actor

    forged = Actor(store.manager.operator_id, "manager", "李店长", Role.MANAGER)
    promoted = replace(store.cashier, operator_id=store.manager.operator_id)
    before = snapshot(store)
    for actor in (forged, promoted):
        with pytest.raises(AuthenticationFailed):
            cards.freeze_card(store.ctx, actor, CARD)
    assert snapshot(store)[:4] == before[:4]
    refusal = list_audit(store.ctx, store.manager, limit=1)[0]
    assert (refusal.action, refusal.outcome) == ("card.freeze", "refused")


def test_a_cashier_freezes_closes_the_day_and_sees_store_figures_only_with_a_manager(store, member):
    from datetime import date

    from pos_app.services import reports

    cashier = store.cashier
    day = store.ctx.business_day()
    shifts.close_shift(store.ctx, cashier, 0)  # the day closes once its shifts are
    calls = {
        Permission.CARD_FREEZE: lambda approval: cards.freeze_card(
            store.ctx, cashier, CARD, approval
        ),
        Permission.REPORT_STORE: lambda approval: reports.range_report(
            store.ctx, cashier, date(day.year, day.month, 1), day, approval
        ),
        Permission.DAY_CLOSE: lambda approval: reports.day_end(store.ctx, cashier, day, approval),
    }
    for permission, call in calls.items():
        with pytest.raises(ApprovalRequired):
            call(None)
        with pytest.raises(ApprovalRequired):  # a cashier cannot approve for themselves
            approve(store.ctx, "cashier", PASSWORD, permission)
        call(store.approval(permission))
    assert card_row(store, CARD).state == "frozen"
    assert reports.day_report(store.ctx, store.manager, day).closed
    frozen = entries(store, "card_frozen")
    assert [e.approved_by_id for e in frozen] == [store.manager.operator_id]
