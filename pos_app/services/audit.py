"""The audit trail of sensitive operations, allowed and refused."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session, write_session
from db.models import AuditEvent, Operator
from pos_app.domain.permissions import Permission
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext


def record(
    session: Session,
    at: str,
    operator_id: str | None,
    action: str,
    outcome: str = "ok",
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to the caller's transaction (it commits or rolls back with it)."""
    session.add(
        AuditEvent(
            at=at,
            operator_id=operator_id,
            action=action,
            outcome=outcome,
            target=target,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
        )
    )


def record_refusal(
    ctx: StoreContext, operator_id: str | None, action: str, target: str | None, reason: str
) -> None:
    """A refused attempt is kept in a transaction of its own: the refused work rolled back.
    An actor naming no operator row (forged) is kept as a claim, not as a foreign key."""
    detail: dict[str, Any] = {"reason": reason}
    with write_session(ctx.engine) as session:
        if operator_id is not None and session.get(Operator, operator_id) is None:
            detail["claimed_operator_id"] = operator_id
            operator_id = None
        record(session, ctx.now_iso(), operator_id, action, "refused", target, detail)


@dataclass(frozen=True)
class AuditRow:
    at: str
    operator_id: str | None
    action: str
    outcome: str
    target: str | None
    detail: str | None


def list_audit(ctx: StoreContext, actor: Actor, limit: int = 100) -> list[AuditRow]:
    """The newest audit events first."""
    with read_session(ctx.engine) as session:
        authorize(session, actor, Permission.AUDIT_VIEW)
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit))
        return [
            AuditRow(r.at, r.operator_id, r.action, r.outcome, r.target, r.detail) for r in rows
        ]
