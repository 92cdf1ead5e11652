"""Signing in and on-the-spot approval by a manager's credentials; failures are audited, and
wrong passwords lock the login for a while (`login_lockout`, `domain/sign_in_lockout`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.engine import write_session
from db.models import Operator
from pos_app.domain.errors import ApprovalRequired, AuthenticationFailed, PermissionDenied
from pos_app.domain.permissions import Permission, Role, check_approver
from pos_app.services.audit import record
from pos_app.services.auth import Actor, Approval
from pos_app.services.context import StoreContext
from pos_app.services.credentials import verify_secret
from pos_app.services.login_lockout import (
    audit_reason,
    clear,
    count_failure,
    counter_for,
    lock_refusal,
    operator_by_login,
)
from pos_app.services.operator_records import seal_matches, tampered_operator
from pos_app.services.store_secret import key_path, missing_key_error


def check_sealed(ctx: StoreContext, operator: Operator) -> None:
    """Refuse an operator whose row does not match its seal: its role, state, password or
    card was changed outside the app (or the store's key is missing)."""
    keys = ctx.keys
    if keys is None:
        raise missing_key_error(key_path(ctx.key_dir, ctx.store.id))
    if not seal_matches(keys, operator):
        raise tampered_operator()


_DUMMY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)


def inactive_operator() -> AuthenticationFailed:
    return AuthenticationFailed(
        "该操作员已停用，请联系管理员", "This operator is deactivated: ask an admin"
    )


def check_password_try(
    ctx: StoreContext, session: Session, login: str, password: str, action: str
) -> Operator | AuthenticationFailed:
    """One try of a login and password, in the caller's write transaction: the operator, or
    the refusal to give. The caller commits either way — the count of wrong tries (and a
    lock) must outlive the refusal."""
    operator = operator_by_login(session, login)
    counter = counter_for(ctx, session, login, operator)
    locked = lock_refusal(ctx, counter)
    if locked is not None:
        return locked
    # Verify against a real hash even for an unknown login so timing does not tell which.
    ok = verify_secret(password, operator.password_hash if operator else _DUMMY_HASH)
    if operator is None or not ok:
        return count_failure(ctx, session, counter, login, action)
    if not operator.active:
        return inactive_operator()
    try:
        check_sealed(ctx, operator)
    except AuthenticationFailed as exc:
        return exc
    clear(operator)
    return operator


def sign_in(ctx: StoreContext, login: str, password: str) -> Actor:
    """Check an operator's password; failures are audited, and count towards a lockout."""
    with write_session(ctx.engine) as session:
        found = check_password_try(ctx, session, login, password, "sign_in")
        if isinstance(found, AuthenticationFailed):
            reason = audit_reason(found)
            record(session, ctx.now_iso(), None, "sign_in", "refused", login, {"reason": reason})
        else:
            record(session, ctx.now_iso(), found.id, "sign_in")
            actor = Actor.sealed(found.id, found.login, found.name, Role(found.role))
    if isinstance(found, AuthenticationFailed):
        raise found  # after the commit: the count and the audit are kept
    return actor


def approve(ctx: StoreContext, login: str, password: str, permission: Permission) -> Approval:
    """A manager approves one privileged action by giving their login and password; wrong
    passwords count towards the same lockout as signing in."""
    action = f"approve:{permission.value}"
    refusal: AuthenticationFailed | PermissionDenied | ApprovalRequired | None = None
    with write_session(ctx.engine) as session:
        found = check_password_try(ctx, session, login, password, action)
        if isinstance(found, AuthenticationFailed):
            refusal = found
        else:
            try:
                # A cashier's credentials are refused with ApprovalRequired: audited as well.
                check_approver(Role(found.role), permission)
            except (PermissionDenied, ApprovalRequired) as exc:
                refusal = exc
            else:
                approval = Approval.sealed(found.id, found.login, Role(found.role), permission)
        if refusal is not None:
            record(session, ctx.now_iso(), None, action, "refused", login, {"reason": refusal.en})
    if refusal is not None:
        raise refusal
    return approval
