"""Operators: lockout after wrong passwords (sign-in and approvals), deactivate / reactivate,
one's own password and an admin's reset — each in the sealed record and the audit trail."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.engine import read_session
from db.models import Operator
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import (
    ApprovalRequired,
    AuthenticationFailed,
    InvalidInput,
    PermissionDenied,
    SignInLocked,
)
from pos_app.domain.permissions import Permission
from pos_app.services import members
from pos_app.services.operator_records import verify_operators
from pos_app.services.operators import (
    change_password,
    deactivate_operator,
    list_operators,
    reactivate_operator,
    reset_password,
)
from pos_app.services.sign_in import approve, sign_in
from pos_app.services.store_setup import add_operator
from tests.conftest import PASSWORD
from tests.services.support import audit_rows, entries


def wrong(store, login="cashier", times=1):
    """Wrong passwords; returns the last refusal."""
    last = None
    for _ in range(times):
        with pytest.raises(AuthenticationFailed) as info:
            sign_in(store.ctx, login, "not-the-password")
        last = info.value
    return last


def operators_check_out(store) -> None:
    with read_session(store.ctx.engine) as s:
        assert verify_operators(s, store.ctx.keys) == []


# --- lockout ---------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_login_and_say_until_when(store):
    """Issue 11: no lockout after wrong passwords."""
    fourth = wrong(store, times=4)
    assert not isinstance(fourth, SignInLocked)
    fifth = wrong(store)
    assert isinstance(fifth, SignInLocked)
    assert "locked until 10:01:00" in fifth.en and "10:01:00" in fifth.zh  # 10:00 + 1 min
    # While locked even the right password is refused (and not even checked).
    with pytest.raises(SignInLocked):
        sign_in(store.ctx, "cashier", PASSWORD)
    store.clock.advance(seconds=61)
    sign_in(store.ctx, "cashier", PASSWORD)  # the lock is over; the count starts again
    with read_session(store.ctx.engine) as s:
        row = s.scalars(select_op("cashier")).one()
        assert (row.failed_logins, row.locked_until) == (0, None)
    locked = [a for a in audit_rows(store) if a.action == "operator.locked"]
    assert len(locked) == 1 and json.loads(locked[0].detail)["failures"] == 5
    operators_check_out(store)  # the lockout columns are not part of the seal


def select_op(login):
    return select(Operator).where(Operator.login == login)


def test_each_wrong_password_after_a_lock_doubles_it_up_to_half_an_hour(store):
    wrong(store, times=5)
    ends = []
    for _ in range(7):
        store.clock.advance(minutes=31)
        error = wrong(store)
        assert isinstance(error, SignInLocked)
        ends.append(error.en.split("until ")[1].split(";")[0])
    assert len(set(ends)) == 7  # each wrong try after a lock earned a new one
    with read_session(store.ctx.engine) as s:
        row = s.scalars(select_op("cashier")).one()
        assert row.failed_logins == 12


def test_a_login_that_names_no_one_gets_the_same_answers(store):
    assert wrong(store, "nobody", times=4).en == wrong(store, "cashier", times=4).en
    assert isinstance(wrong(store, "nobody"), SignInLocked)
    assert isinstance(wrong(store, "cashier"), SignInLocked)


def test_wrong_passwords_at_an_approval_lock_the_manager_too(store):
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            approve(store.ctx, "manager", "guess", Permission.PIN_RESET)
    with pytest.raises(SignInLocked):
        approve(store.ctx, "manager", PASSWORD, Permission.PIN_RESET)
    with pytest.raises(SignInLocked):
        sign_in(store.ctx, "manager", PASSWORD)
    refused = [a for a in audit_rows(store) if a.action == "approve:card.pin_reset"]
    assert len(refused) == 6 and all(a.outcome == "refused" for a in refused)
    store.clock.advance(minutes=2)
    approve(store.ctx, "manager", PASSWORD, Permission.PIN_RESET)


# --- deactivate and reactivate ---------------------------------------------------------------


def test_a_deactivated_operator_can_neither_sign_in_nor_approve_nor_go_on(store):
    """Issue 11: no way to deactivate an operator."""
    deactivate_operator(store.ctx, store.admin, "manager", "离职")
    with pytest.raises(AuthenticationFailed, match="deactivated"):
        sign_in(store.ctx, "manager", PASSWORD)
    with pytest.raises(AuthenticationFailed, match="deactivated"):
        approve(store.ctx, "manager", PASSWORD, Permission.TIER_CHANGE)
    with pytest.raises(AuthenticationFailed):  # signed in before: refused at the next step
        members.register_member(store.ctx, store.manager, "13800138000", "张三")
    change = entries(store, EntryKind.OPERATOR_CHANGED)[-1]
    payload = json.loads(change.payload)
    assert (payload["login"], payload["active"]) == ("manager", False)
    assert payload["action"] == "deactivated"
    event = [a for a in audit_rows(store) if a.action == "operator.deactivate"][-1]
    assert event.operator_id == store.admin.operator_id and "离职" in (event.detail or "")
    operators_check_out(store)

    reactivate_operator(store.ctx, store.admin, "manager")
    sign_in(store.ctx, "manager", PASSWORD)
    assert json.loads(entries(store, EntryKind.OPERATOR_CHANGED)[-1].payload)["active"] is True
    operators_check_out(store)


def test_who_may_deactivate_whom(store):
    with pytest.raises(PermissionDenied):
        deactivate_operator(store.ctx, store.manager, "cashier")
    with pytest.raises(InvalidInput, match="yourself"):
        deactivate_operator(store.ctx, store.admin, "admin")
    with pytest.raises(InvalidInput, match="not deactivated"):
        reactivate_operator(store.ctx, store.admin, "cashier")
    deactivate_operator(store.ctx, store.admin, "cashier")
    with pytest.raises(InvalidInput, match="already"):
        deactivate_operator(store.ctx, store.admin, "cashier")
    refused = [a for a in audit_rows(store) if a.outcome == "refused"]
    assert refused[0].action == "operator.manage"  # the manager's try is on the trail


def test_the_last_active_admin_stays(store):
    add_operator(store.ctx, store.admin, "admin2", "副管理员", "admin", PASSWORD)
    second = sign_in(store.ctx, "admin2", PASSWORD)
    deactivate_operator(store.ctx, second, "admin")  # two admins: one may go
    with pytest.raises(InvalidInput, match="yourself"):
        deactivate_operator(store.ctx, second, "admin2")
    with pytest.raises(AuthenticationFailed):  # the deactivated admin cannot act any more
        reactivate_operator(store.ctx, store.admin, "admin")


# --- passwords -------------------------------------------------------------------------------


def test_an_operator_changes_their_own_password(store):
    """Issue 11: no way to change a password."""
    with pytest.raises(InvalidInput, match="at least 6"):
        change_password(store.ctx, store.cashier, PASSWORD, "short")
    with pytest.raises(AuthenticationFailed):
        change_password(store.ctx, store.cashier, "wrong-old", "newsecret1")
    with read_session(store.ctx.engine) as s:
        assert s.scalars(select_op("cashier")).one().failed_logins == 1  # the guess counted
    change_password(store.ctx, store.cashier, PASSWORD, "newsecret1")
    with pytest.raises(AuthenticationFailed):
        sign_in(store.ctx, "cashier", PASSWORD)
    sign_in(store.ctx, "cashier", "newsecret1")
    change = entries(store, EntryKind.OPERATOR_CHANGED)[-1]
    assert json.loads(change.payload)["action"] == "password"
    assert "newsecret1" not in change.payload
    assert [a.outcome for a in audit_rows(store) if a.action == "operator.password"] == [
        "refused",
        "ok",
    ]
    operators_check_out(store)


def test_an_admin_resets_a_locked_out_cashiers_password(store):
    wrong(store, times=5)
    with pytest.raises(PermissionDenied):
        reset_password(store.ctx, store.manager, "cashier", "fresh-start")
    with pytest.raises(InvalidInput, match="own password"):
        reset_password(store.ctx, store.admin, "admin", "fresh-start")
    row = reset_password(store.ctx, store.admin, "cashier", "fresh-start")
    assert (row.failed_logins, row.locked_until) == (0, None)
    sign_in(store.ctx, "cashier", "fresh-start")  # no wait: the reset lifted the lock
    assert [a.action for a in audit_rows(store)][-2] == "operator.password_reset"
    operators_check_out(store)


def test_the_admin_lists_operators_with_their_state(store):
    wrong(store, times=5)
    deactivate_operator(store.ctx, store.admin, "manager")
    rows = {r.login: r for r in list_operators(store.ctx, store.admin)}
    assert set(rows) == {"admin", "manager", "cashier"}
    assert rows["manager"].active is False and rows["cashier"].locked_until is not None
    assert rows["admin"].role == "admin" and not rows["admin"].has_employee_card
    store.clock.advance(minutes=2)
    later = {r.login: r for r in list_operators(store.ctx, store.admin)}
    assert later["cashier"].locked_until is None  # the lock is over
    with pytest.raises(PermissionDenied):
        list_operators(store.ctx, store.cashier)


def test_a_cashiers_approval_with_right_credentials_is_still_refused(store):
    with pytest.raises(ApprovalRequired):
        approve(store.ctx, "cashier", PASSWORD, Permission.TIER_CHANGE)
