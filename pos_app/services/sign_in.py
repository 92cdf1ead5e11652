"""Signing in and on-the-spot approval by a manager's credentials; failures are audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import write_session
from db.models import Operator
from pos_app.domain.errors import ApprovalRequired, AuthenticationFailed, PermissionDenied
from pos_app.domain.permissions import Permission, Role, check_approver
from pos_app.services.audit import record, record_refusal
from pos_app.services.auth import Actor, Approval
from pos_app.services.context import StoreContext
from pos_app.services.credentials import verify_secret
from pos_app.services.operator_records import seal_matches, tampered_operator
from pos_app.services.store_secret import key_path, missing_key_error


def _check_credentials(ctx: StoreContext, session: Session, login: str, password: str) -> Operator:
    operator = session.scalars(select(Operator).where(Operator.login == login)).first()
    # Verify against a real hash even for an unknown login so timing does not tell which.
    stored = operator.password_hash if operator else _DUMMY_HASH
    ok = verify_secret(password, stored)
    if operator is None or not ok or not operator.active:
        raise AuthenticationFailed("用户名或密码不正确", "The login or password is not correct")
    check_sealed(ctx, operator)
    return operator


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


def sign_in(ctx: StoreContext, login: str, password: str) -> Actor:
    """Check an operator's password; failures are audited."""
    try:
        with write_session(ctx.engine) as session:
            op = _check_credentials(ctx, session, login, password)
            record(session, ctx.now_iso(), op.id, "sign_in")
            return Actor.sealed(op.id, op.login, op.name, Role(op.role))
    except AuthenticationFailed:
        record_refusal(ctx, None, "sign_in", login, "bad credentials")
        raise


def approve(ctx: StoreContext, login: str, password: str, permission: Permission) -> Approval:
    """A manager approves one privileged action by giving their login and password."""
    try:
        with write_session(ctx.engine) as session:
            op = _check_credentials(ctx, session, login, password)
            check_approver(Role(op.role), permission)
            return Approval.sealed(op.id, op.login, Role(op.role), permission)
    # check_approver refuses a cashier's credentials with ApprovalRequired: audited as well.
    except (AuthenticationFailed, PermissionDenied, ApprovalRequired) as exc:
        record_refusal(ctx, None, f"approve:{permission.value}", login, exc.en)
        raise
