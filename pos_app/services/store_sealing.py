"""Giving a store its key: at set-up, or the first time this version opens an older store.

A store made by an older version has a plain hash chain, operators without seals and
employee cards stored as bare SHA-256. The first time it is opened here it gets its key file,
and in one transaction every operator is sealed and recorded in the ledger, and every
employee-card hash is keyed. The key file says from which entry on the chain is sealed, so
the older entries keep verifying as they are.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session, write_session
from db.ledger import LedgerWriter
from db.models import LedgerEntry, Operator
from pos_app.domain.errors import NotInitialized
from pos_app.domain.permissions import Role
from pos_app.services.chain_head import write_head
from pos_app.services.context import StoreContext
from pos_app.services.employee_cards import key_legacy_card_hash
from pos_app.services.operator_records import record_operator_change
from pos_app.services.rules_store import current_rules
from pos_app.services.store_secret import StoreKeyError, StoreKeys, create_keys
from pos_app.services.use_case import UseCase

log = logging.getLogger(__name__)


def seal_legacy_store(ctx: StoreContext) -> None:
    """Give an older store its key and seal its operators (a no-op for a sealed store, a
    store not set up yet, and a store whose key file is lost: that one is refused later, by
    every write and by verify, rather than silently given a new key)."""
    try:
        store_id = ctx.store.id
        keys = ctx.keys
    except (NotInitialized, StoreKeyError):
        return
    if keys is not None and not _interrupted(ctx, keys):
        return
    with write_session(ctx.engine) as session:
        head, sealed_entries = session.execute(
            select(func.coalesce(func.max(LedgerEntry.store_seq), 0), func.count(LedgerEntry.mac))
        ).one()
        if keys is None:
            if sealed_entries:
                return  # a sealed ledger whose key is gone: never replace it
            keys = create_keys(ctx.key_dir, store_id, head + 1, ctx.now_iso())
            ctx.forget_store()
        elif head >= keys.keyed_from_seq:
            return
        new_head = _seal_operators(ctx, session, keys, "sealed")
    if new_head is not None and ctx.data_dir is not None:
        write_head(keys, ctx.data_dir, *new_head, ctx.now_iso())
    log.info("store %s sealed with its key from entry #%d", store_id, keys.keyed_from_seq)


def _interrupted(ctx: StoreContext, keys: StoreKeys) -> bool:
    """A key made but the sealing transaction never committed: nothing written since the key's
    first sealed entry, and operators still unsealed."""
    with read_session(ctx.engine) as session:
        head = session.scalar(select(func.coalesce(func.max(LedgerEntry.store_seq), 0))) or 0
        unsealed = session.scalar(select(func.count()).where(Operator.seal.is_(None))) or 0
    return head < keys.keyed_from_seq and unsealed > 0


def _seal_operators(
    ctx: StoreContext, session: Session, keys: StoreKeys, action: str
) -> tuple[int, str] | None:
    """Seal and record every operator; returns the new head of the chain."""
    operators = list(session.scalars(select(Operator).order_by(Operator.created_at)))
    admins = [op for op in operators if op.role == Role.ADMIN.value] or operators
    if not operators:
        return None
    version, rules = current_rules(session)
    ledger = LedgerWriter(
        session=session,
        store_id=ctx.store.id,
        operator_id=admins[0].id,
        rules_version=version,
        now_iso=ctx.now_iso(),
        mac_key=keys.ledger_mac,
        till_id=ctx.till_id,
    )
    uc = UseCase(ctx, session, ledger, rules, None, keys)
    for op in operators:
        if op.employee_card_hash is not None:
            op.employee_card_hash = key_legacy_card_hash(keys, op.employee_card_hash)
        record_operator_change(uc, op, action)
    return ledger.head_after
