"""Operators in the sealed record: who may do what, kept where tampering shows.

The operator table decides every permission, so a row changed behind the app's back
(`UPDATE operator SET role='admin'`, a password hash swapped for one whose password is
known) would be a master key. Two defences, both made with the store's key:

- each row carries a seal, an HMAC over its login, name, role, state, password hash and
  employee-card hash; sign-in and approvals refuse an operator whose seal does not match;
- each add or change is also a ledger entry (`operator_changed`) holding a snapshot of those
  fields — digests of the hashes, never the hashes themselves — so `verify` replays who was
  what, and when, from the chain, and the history reaches HQ with the rest of the ledger.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import LedgerEntry, Operator
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AuthenticationFailed
from pos_app.services.store_secret import StoreKeys
from pos_app.services.use_case import UseCase


def _digest(value: str | None) -> str | None:
    # Enough of a SHA-256 to tell values apart; the scrypt hash itself stays in its table.
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32] if value else None


def operator_snapshot(op: Operator) -> dict[str, Any]:
    """The sealed fields of an operator, as the ledger records them."""
    return {
        "operator_id": op.id,
        "login": op.login,
        "name": op.name,
        "role": op.role,
        "active": bool(op.active),
        "password": _digest(op.password_hash),
        "employee_card": _digest(op.employee_card_hash),
    }


def operator_seal(keys: StoreKeys, op: Operator) -> str:
    body = json.dumps(operator_snapshot(op), sort_keys=True, separators=(",", ":"))
    return hmac.new(keys.operator_seal, body.encode("utf-8"), hashlib.sha256).hexdigest()


def seal_matches(keys: StoreKeys, op: Operator) -> bool:
    return op.seal is not None and hmac.compare_digest(op.seal, operator_seal(keys, op))


def record_operator_change(
    uc: UseCase, op: Operator, action: str, detail: dict[str, Any] | None = None
) -> LedgerEntry:
    """Seal the operator row as it now is and write its snapshot to the ledger, in the
    caller's transaction. `action` says what happened (added, role, deactivated,
    reactivated, password, employee_card, ...); `detail` adds context, never a secret."""
    keys = uc.keys
    assert keys is not None  # use_case refuses to start without the store's key
    uc.session.flush()
    op.seal = operator_seal(keys, op)
    return uc.ledger.append(
        EntryKind.OPERATOR_CHANGED,
        payload={**(detail or {}), **operator_snapshot(op), "action": action},
    )


def tampered_operator() -> AuthenticationFailed:
    return AuthenticationFailed(
        "该操作员的记录在系统之外被修改过，已拒绝登录；请店长运行 pos-app verify 并联系管理员",
        "This operator's record was changed outside the app, so it is refused; a manager "
        "should run pos-app verify and call the administrator",
        code="operator_tampered",
    )


def verify_operators(session: Session, keys: StoreKeys | None) -> list[tuple[str, str]]:
    """Replay the operator entries and compare with the operator rows: the last snapshot of
    each operator must match its row, and its seal must check out. (where, message) pairs."""
    problems: list[tuple[str, str]] = []
    last: dict[str, dict[str, Any]] = {}
    for entry_id, payload in session.execute(
        select(LedgerEntry.entry_id, LedgerEntry.payload)
        .where(LedgerEntry.kind == EntryKind.OPERATOR_CHANGED)
        .order_by(LedgerEntry.store_id, LedgerEntry.store_seq)
    ):
        try:
            snapshot = json.loads(payload or "{}")
            last[str(snapshot["operator_id"])] = snapshot
        except (ValueError, KeyError, TypeError):
            problems.append((f"entry {entry_id}", "operator_changed: payload is malformed"))
    for op in session.scalars(select(Operator).order_by(Operator.login)):
        where = f"operator {op.login}"
        recorded = last.pop(op.id, None)
        if recorded is None:
            problems.append((where, "no ledger entry records this operator"))
            continue
        now = operator_snapshot(op)
        for name in ("login", "name", "role", "active", "password", "employee_card"):
            if recorded.get(name) != now[name]:
                shown = name if name in ("password", "employee_card") else f"{name} {now[name]!r}"
                problems.append(
                    (where, f"{shown} differs from the ledger's last record of this operator")
                )
        if keys is not None and not seal_matches(keys, op):
            problems.append((where, "the row's seal does not match: changed outside the app"))
    for operator_id in last:
        problems.append((f"operator {operator_id}", "recorded in the ledger but the row is gone"))
    return problems
