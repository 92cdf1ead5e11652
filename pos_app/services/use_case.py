"""The frame every writing service runs in: one transaction, permission first, then work.

    with use_case(ctx, actor, Permission.TOPUP) as uc:
        ... uc.session, uc.rules, uc.ledger.append(...) ...

Everything inside commits together or not at all. A refusal for lack of permission or
approval is audited in a transaction of its own, since the use-case's own rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.engine import write_session
from db.ledger import LedgerWriter
from pos_app.domain.errors import (
    ApprovalRequired,
    AuthenticationFailed,
    DomainError,
    PermissionDenied,
    RulesError,
)
from pos_app.domain.permissions import Permission
from pos_app.domain.rules import DEFAULT_RULES, Rules
from pos_app.services.audit import record_refusal
from pos_app.services.auth import Actor, Approval, authorize
from pos_app.services.context import StoreContext
from pos_app.services.rules_store import current_rules

log = logging.getLogger(__name__)


@dataclass
class UseCase:
    ctx: StoreContext
    session: Session
    ledger: LedgerWriter
    rules: Rules
    approver_id: str | None
    # A refusal decided inside the transaction whose record must still be committed (a wrong
    # PIN's `pin_failed` entry): the caller writes nothing more, and `use_case` raises it
    # once the transaction has committed.
    refusal: DomainError | None = None

    @property
    def now_iso(self) -> str:
        return self.ledger.now_iso


@contextmanager
def use_case(
    ctx: StoreContext,
    actor: Actor,
    permission: Permission,
    approval: Approval | None = None,
    target: str | None = None,
) -> Iterator[UseCase]:
    store_id = ctx.store.id
    try:
        with write_session(ctx.engine) as session:
            approver_id = authorize(session, actor, permission, approval)
            try:
                version, rules = current_rules(session)
            except RulesError:
                # A version in force that no longer reads must not stop its replacement.
                if permission is not Permission.RULES_LOAD:
                    raise
                version, rules = 0, DEFAULT_RULES
            ledger = LedgerWriter(
                session=session,
                store_id=store_id,
                operator_id=actor.operator_id,
                rules_version=version,
                now_iso=ctx.now_iso(),
                approved_by_id=approver_id,
            )
            uc = UseCase(ctx, session, ledger, rules, approver_id)
            yield uc
    except (PermissionDenied, ApprovalRequired, AuthenticationFailed) as exc:
        record_refusal(ctx, actor.operator_id, permission.value, target, exc.en)
        log.warning("%s refused for %s on %s: %s", permission.value, actor.login, target, exc.en)
        raise
    if uc.refusal is not None:
        raise uc.refusal  # after the commit: the record of the refused try is kept
    log.info("%s by %s on %s", permission.value, actor.login, target or "-")
