"""Employee cards: assigned by an admin, stored only as a hash, sign in and approve by a tap."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from sqlalchemy import update

from db.engine import write_session
from db.models import Operator
from pos_app.domain.errors import (
    AlreadyExists,
    ApprovalRequired,
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from pos_app.domain.permissions import Permission, Role
from pos_app.services import cards, members
from pos_app.services.audit import list_audit
from pos_app.services.context import DB_FILENAME
from pos_app.services.employee_cards import (
    approve_by_card,
    assign_employee_card,
    employee_card_hash,
    sign_in_by_card,
)
from tests.services.support import audit_count, last_entry, member_with_card

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")

MANAGER_CARD = "E2000001"
CASHIER_CARD = "E1000001"
MEMBER_CARD = "88880001"


def test_a_tapped_card_signs_its_operator_in_and_is_audited(store):
    assign_employee_card(store.ctx, store.admin, "cashier", " e1000001 ")  # normalized
    actor = sign_in_by_card(store.ctx, CASHIER_CARD)
    assert (actor.operator_id, actor.login, actor.name, actor.role) == (
        store.cashier.operator_id,
        "cashier",
        "王收银",
        Role.CASHIER,
    )
    # a sealed Actor: services accept it
    member_with_card(store, MEMBER_CARD)
    assert cards.report_card_lost(store.ctx, actor, MEMBER_CARD).state == "lost"
    signed = list_audit(store.ctx, store.manager, limit=5)
    assert any(
        r.action == "sign_in" and r.operator_id == actor.operator_id and r.outcome == "ok"
        for r in signed
    )


def test_the_table_never_holds_the_card_number(store):
    assign_employee_card(store.ctx, store.admin, "manager", MANAGER_CARD)
    raw = (store.data_dir / DB_FILENAME).read_bytes()
    wal = store.data_dir / (DB_FILENAME + "-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    assert MANAGER_CARD.encode() not in raw
    con = sqlite3.connect(store.data_dir / DB_FILENAME)
    try:
        (stored,) = con.execute(
            "SELECT employee_card_hash FROM operator WHERE login = 'manager'"
        ).fetchone()
    finally:
        con.close()
    # Keyed with the store's secret: the bare SHA-256 of a short number is not what is kept,
    # so the table alone cannot be searched for the card numbers.
    assert stored != hashlib.sha256(MANAGER_CARD.encode()).hexdigest()
    assert stored == employee_card_hash(store.ctx.keys, "e2000001")


def test_an_unknown_card_is_refused_and_audited(store):
    before = audit_count(store)
    for number in ("E9999999", "not a card!"):
        with pytest.raises(AuthenticationFailed) as refused:
            sign_in_by_card(store.ctx, number)
        assert refused.value.en == "Unknown employee card"
    assert audit_count(store) == before + 2
    last = list_audit(store.ctx, store.manager, limit=2)[1]
    assert (last.action, last.outcome) == ("sign_in", "refused")
    assert last.target == "E9****99"  # masked, never the whole number


def test_a_deactivated_operators_card_no_longer_signs_in(store):
    assign_employee_card(store.ctx, store.admin, "cashier", CASHIER_CARD)
    with write_session(store.ctx.engine) as s:
        s.execute(update(Operator).where(Operator.login == "cashier").values(active=False))
    with pytest.raises(AuthenticationFailed):
        sign_in_by_card(store.ctx, CASHIER_CARD)


def test_a_new_card_replaces_the_operators_old_one(store):
    assign_employee_card(store.ctx, store.admin, "cashier", CASHIER_CARD)
    assign_employee_card(store.ctx, store.admin, "cashier", "E1000002")
    assert sign_in_by_card(store.ctx, "E1000002").login == "cashier"
    with pytest.raises(AuthenticationFailed):
        sign_in_by_card(store.ctx, CASHIER_CARD)
    assign_employee_card(store.ctx, store.admin, "cashier", "E1000002")  # again: no change


def test_only_an_admin_assigns_cards_and_refusals_are_audited(store):
    before = audit_count(store)
    with pytest.raises(PermissionDenied):
        assign_employee_card(store.ctx, store.manager, "manager", MANAGER_CARD)
    assert audit_count(store) == before + 1
    with pytest.raises(AuthenticationFailed):
        sign_in_by_card(store.ctx, MANAGER_CARD)
    assign_employee_card(store.ctx, store.admin, "manager", MANAGER_CARD)
    done = list_audit(store.ctx, store.manager, limit=1)[0]
    assert (done.action, done.outcome, done.target) == ("operator.employee_card", "ok", "manager")
    assert MANAGER_CARD not in (done.detail or "")


def test_a_card_is_one_operators_only(store):
    assign_employee_card(store.ctx, store.admin, "manager", MANAGER_CARD)
    with pytest.raises(AlreadyExists) as taken:
        assign_employee_card(store.ctx, store.admin, "cashier", MANAGER_CARD.lower())
    assert "manager" in taken.value.en
    assert sign_in_by_card(store.ctx, MANAGER_CARD).login == "manager"


def test_a_member_card_cannot_be_an_employee_card(store):
    member_with_card(store, MEMBER_CARD)
    with pytest.raises(InvalidInput) as refused:
        assign_employee_card(store.ctx, store.admin, "cashier", MEMBER_CARD)
    assert "member card" in refused.value.en
    with pytest.raises(AuthenticationFailed):
        sign_in_by_card(store.ctx, MEMBER_CARD)


def test_bad_input_is_refused(store):
    with pytest.raises(NotFound):
        assign_employee_card(store.ctx, store.admin, "nobody", CASHIER_CARD)
    with pytest.raises(InvalidInput):
        assign_employee_card(store.ctx, store.admin, "cashier", "E1-0")


def test_a_managers_card_approves_a_cashiers_privileged_act(store):
    member_with_card(store, MEMBER_CARD, topup_fen=10000)
    assign_employee_card(store.ctx, store.admin, "manager", MANAGER_CARD)
    approval = approve_by_card(store.ctx, MANAGER_CARD, Permission.CARD_CANCEL)
    assert approval.login == "manager" and approval.valid_for(Permission.CARD_CANCEL)
    cards.cancel_card(store.ctx, store.cashier, MEMBER_CARD, approval=approval)
    assert last_entry(store).approved_by_id == store.manager.operator_id


def test_a_cashiers_card_does_not_approve_and_the_refusal_is_audited(store):
    assign_employee_card(store.ctx, store.admin, "cashier", CASHIER_CARD)
    with pytest.raises(ApprovalRequired):
        approve_by_card(store.ctx, CASHIER_CARD, Permission.PIN_RESET)
    refusal = list_audit(store.ctx, store.manager, limit=1)[0]
    assert (refusal.action, refusal.outcome, refusal.target) == (
        "approve:card.pin_reset",
        "refused",
        "E1****01",
    )
    with pytest.raises(AuthenticationFailed):
        approve_by_card(store.ctx, "E7777777", Permission.PIN_RESET)
    assert list_audit(store.ctx, store.manager, limit=1)[0].outcome == "refused"


def test_an_employee_card_cannot_be_issued_to_a_member(store):
    assign_employee_card(store.ctx, store.admin, "cashier", "EMP77001")
    member = members.register_member(store.ctx, store.cashier, "13700137000", "赵六")
    with pytest.raises(AlreadyExists) as refused:
        cards.issue_card(store.ctx, store.cashier, member.member_no, "emp77001")
    assert "employee card" in refused.value.en
