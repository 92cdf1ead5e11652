"""Who is acting, and whether they may: the permission check every service makes first.

An `Actor` comes from `sign_in.sign_in`; every service re-reads the operator row inside its own
transaction, so a deactivated operator or a changed role takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.models import Operator
from pos_app.domain.errors import AuthenticationFailed
from pos_app.domain.permissions import (
    NEEDS_APPROVAL,
    Permission,
    Role,
    approval_missing,
    approver_needed,
    check_approver,
    check_permission,
)


@dataclass(frozen=True)
class Actor:
    """A signed-in operator."""

    operator_id: str
    login: str
    name: str
    role: Role


@dataclass(frozen=True)
class Approval:
    """A manager's (or admin's) approval given on the spot with their own credentials."""

    operator_id: str
    login: str
    role: Role


def authorize(
    session: Session,
    actor: Actor,
    permission: Permission,
    approval: Approval | None = None,
) -> str | None:
    """Check that the actor may do this now; returns the approver's id for privileged acts.

    A manager or admin doing a privileged act approves it themselves; a cashier needs an
    approval from someone else with at least a manager's role.
    """
    row = session.get(Operator, actor.operator_id)
    if row is None or not row.active:
        raise AuthenticationFailed("操作员已停用", "This operator is no longer active")
    role = Role(row.role)
    check_permission(role, permission)
    if not approver_needed(role, permission):
        return row.id if permission in NEEDS_APPROVAL else None
    if approval is None:
        raise approval_missing(permission)
    approver = session.get(Operator, approval.operator_id)
    if approver is None or not approver.active or approver.id == row.id:
        raise approval_missing(permission)
    check_approver(Role(approver.role), permission)
    return approver.id
