"""Signing in to the HQ console: who may, the lockout after failed tries, and the audit.

Failures are counted from `hq_audit` (action "sign_in", outcome "failed") rather than a
counter on the operator, so an unknown login is throttled the same way as a real one and
the evidence of an attack is the record itself: five failures within 15 minutes since the
last success lock the login until 15 minutes after the fifth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hq.admin import iso
from hq.models import HqAudit, HqOperator, Store
from hq.operators import verify_password

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
CONSOLE_ROLES = frozenset({"manager", "admin"})


@dataclass(frozen=True)
class Viewer:
    """The signed-in operator and the stores they may see (None: the whole chain)."""

    operator_id: str
    login: str
    name: str
    role: str
    scope: str
    store_ids: frozenset[int] | None

    @property
    def is_hq_admin(self) -> bool:
        """HQ admins see full card numbers and mobiles and may close a clearing month."""
        return self.scope == "hq" and self.role == "admin"

    def sees_store(self, store_id: int | None) -> bool:
        return self.store_ids is None or store_id in self.store_ids


@dataclass(frozen=True)
class SignInRefused(Exception):
    """`reason`: "invalid" (login or password wrong, never said which), "locked", "role"."""

    reason: str


def viewer_of(session: Session, operator: HqOperator) -> Viewer:
    """The operator's view of the chain, from their scope."""
    store_ids: frozenset[int] | None
    if operator.scope == "hq":
        store_ids = None
    elif operator.scope == "region":
        ids = session.scalars(select(Store.id).where(Store.region_id == operator.region_id))
        store_ids = frozenset(ids)
    else:
        store_ids = frozenset({operator.store_id} if operator.store_id is not None else ())
    return Viewer(
        operator.id, operator.login, operator.name, operator.role, operator.scope, store_ids
    )


def current_viewer(session: Session, operator_id: str) -> Viewer | None:
    """The viewer of a session's operator, or None once they were deactivated."""
    operator = session.get(HqOperator, operator_id)
    if operator is None or not operator.active or operator.role not in CONSOLE_ROLES:
        return None
    return viewer_of(session, operator)


def locked_until(session: Session, login: str, now: datetime) -> datetime | None:
    """When the login's lockout ends, or None if it may try now."""
    since = iso(now - LOCKOUT)
    last_ok = session.scalar(
        select(func.max(HqAudit.at)).where(
            HqAudit.action == "sign_in", HqAudit.actor == login, HqAudit.outcome == "ok"
        )
    )
    failures = session.scalars(
        select(HqAudit.at)
        .where(
            HqAudit.action == "sign_in",
            HqAudit.actor == login,
            HqAudit.outcome == "failed",
            HqAudit.at > max(since, last_ok or ""),
        )
        .order_by(HqAudit.at)
    ).all()
    if len(failures) < MAX_FAILURES:
        return None
    return datetime.fromisoformat(failures[MAX_FAILURES - 1]) + LOCKOUT


def sign_in(session: Session, login: str, password: str, now: datetime) -> Viewer:
    """The viewer for `login` if the password is right, else SignInRefused; every attempt
    is audited in the caller's transaction (commit it whatever the outcome)."""
    login = login.strip()[:32]

    def audit(outcome: str, detail: dict[str, object] | None = None) -> None:
        session.add(
            HqAudit(at=iso(now), actor=login, action="sign_in", outcome=outcome, detail=detail)
        )

    until = locked_until(session, login, now)
    if until is not None:
        audit("locked", {"until": iso(until)})
        raise SignInRefused("locked")
    operator = verify_password(session, login, password)
    if operator is None:
        audit("failed")
        raise SignInRefused("invalid")
    if operator.role not in CONSOLE_ROLES:
        audit("refused", {"role": operator.role})
        raise SignInRefused("role")
    audit("ok")
    return viewer_of(session, operator)
