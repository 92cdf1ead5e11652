"""Who is acting, and whether they may: the permission check every service makes first.

An `Actor` comes from `sign_in.sign_in`; every service re-reads the operator row inside its own
transaction, so a deactivated operator or a changed role takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from db.models import Operator
from pos_app.domain.errors import AuthenticationFailed
from pos_app.domain.permissions import (
    NEEDS_APPROVAL,
    ROLE_RANK,
    Permission,
    Role,
    approval_missing,
    approver_needed,
    check_approver,
    check_permission,
)

# Known only to this process: an Actor or Approval carries a seal made with it when a
# password was actually checked, so one made up in code (or edited) is refused.
_PROCESS_KEY = secrets.token_bytes(32)
APPROVAL_VALID_SECONDS = 300


def _seal(*parts: str) -> str:
    return hmac.new(_PROCESS_KEY, "|".join(parts).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Actor:
    """A signed-in operator. Made by `sign_in.sign_in` (through `Actor.sealed`)."""

    operator_id: str
    login: str
    name: str
    role: Role
    seal: str = field(default="", repr=False, compare=False)

    @classmethod
    def sealed(cls, operator_id: str, login: str, name: str, role: Role) -> Actor:
        return cls(operator_id, login, name, role, _seal("actor", operator_id))


@dataclass(frozen=True)
class Approval:
    """A manager's (or admin's) approval of one kind of action, given on the spot with their
    own credentials; valid for a few minutes. Made by `sign_in.approve`."""

    operator_id: str
    login: str
    role: Role
    permission: Permission | None = None
    issued: float = 0.0
    seal: str = field(default="", repr=False, compare=False)

    @classmethod
    def sealed(cls, operator_id: str, login: str, role: Role, permission: Permission) -> Approval:
        issued = time.monotonic()
        seal = _seal("approval", operator_id, permission.value, repr(issued))
        return cls(operator_id, login, role, permission, issued, seal)

    def valid_for(self, permission: Permission) -> bool:
        expected = _seal("approval", self.operator_id, permission.value, repr(self.issued))
        return (
            self.permission == permission
            and hmac.compare_digest(self.seal, expected)
            and time.monotonic() - self.issued <= APPROVAL_VALID_SECONDS
        )


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
    if not hmac.compare_digest(actor.seal, _seal("actor", actor.operator_id)):
        raise AuthenticationFailed("请重新登录", "Sign in again")
    row = session.get(Operator, actor.operator_id)
    if row is None or not row.active:
        raise AuthenticationFailed("操作员已停用", "This operator is no longer active")
    # The lower of the role signed in with and the row's role now: a demotion takes effect at
    # once, and a role raised since sign-in (by an admin, or behind the app's back) only with
    # a new sign-in, which checks the row's seal.
    role = min(Role(row.role), actor.role, key=lambda r: ROLE_RANK[r])
    check_permission(role, permission)
    if not approver_needed(role, permission):
        return row.id if permission in NEEDS_APPROVAL else None
    if approval is None or not approval.valid_for(permission):
        raise approval_missing(permission)
    approver = session.get(Operator, approval.operator_id)
    if approver is None or not approver.active or approver.id == row.id:
        raise approval_missing(permission)
    check_approver(Role(approver.role), permission)
    return approver.id
