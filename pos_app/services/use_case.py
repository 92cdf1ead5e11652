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
from pos_app.services.chain_head import write_head
from pos_app.services.context import StoreContext
from pos_app.services.integrity_alarm import read_alarm, refuse_if_broken
from pos_app.services.rules_store import current_rules
from pos_app.services.store_secret import StoreKeys, key_path, missing_key_error

log = logging.getLogger(__name__)


@dataclass
class UseCase:
    ctx: StoreContext
    session: Session
    ledger: LedgerWriter
    rules: Rules
    approver_id: str | None
    # The store's keys (sealing operator rows, keyed card hashes); the ledger has its own.
    keys: StoreKeys | None = None
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
    till_id = ctx.till_id
    keys = ctx.keys
    if keys is None:
        # Every store gets its key when it is set up or first opened by this version, so a
        # missing key was lost or moved: writing unsealed entries would hide that.
        raise missing_key_error(key_path(ctx.key_dir, store_id))
    alarm = read_alarm(ctx.data_dir)
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
                mac_key=keys.ledger_mac,
                guard=(lambda kind: refuse_if_broken(alarm, kind)) if alarm else None,
                till_id=till_id,
            )
            uc = UseCase(ctx, session, ledger, rules, approver_id, keys)
            yield uc
    except (PermissionDenied, ApprovalRequired, AuthenticationFailed) as exc:
        record_refusal(ctx, actor.operator_id, permission.value, target, exc.en)
        log.warning("%s refused for %s on %s: %s", permission.value, actor.login, target, exc.en)
        raise
    head = uc.ledger.head_after
    if head is not None and ctx.data_dir is not None:
        write_head(keys, ctx.data_dir, head[0], head[1], uc.now_iso)
    ctx.notify_committed()  # e.g. the sync agent: what was just written can go up
    if uc.refusal is not None:
        raise uc.refusal  # after the commit: the record of the refused try is kept
    log.info("%s by %s on %s", permission.value, actor.login, target or "-")
