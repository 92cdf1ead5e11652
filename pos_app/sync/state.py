"""The till's record of its sync (`sync_state`, one row): reading it, and each change to it
in a short write transaction of its own.

Every write here is quick and touches no network: the pusher calls HQ first and records the
answer afterwards, so a sale waiting for the write lock never waits on HQ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from db.engine import read_session, write_session
from db.models import Base, SyncOutbox, SyncState, Till
from pos_app.domain.errors import DomainError
from pos_app.services.context import StoreContext
from pos_app.sync.errors import not_configured

STATE_ID = 1


@dataclass(frozen=True)
class SyncConfig:
    """What the pusher needs to start: where HQ is and what it holds, as last recorded."""

    till_id: str
    store_id: str
    hq_url: str
    ca_file: str | None
    acked_seq: int
    acked_hash: str | None
    acked_outbox_id: int
    fork_seq: int | None


def this_till(session: Session) -> str | None:
    """This installation's till id ("SH01-01"), or None for a store without one yet."""
    return session.scalar(select(Till.id).order_by(Till.id).limit(1))


def read_config(ctx: StoreContext) -> SyncConfig:
    """The sync configuration, or `SyncNotConfigured` before `pos-app sync setup`."""
    store_id = ctx.store.id
    with read_session(ctx.engine) as session:
        state = session.get(SyncState, STATE_ID)
        till_id = this_till(session)
        if state is None or till_id is None:
            raise not_configured()
        return SyncConfig(
            till_id=till_id,
            store_id=store_id,
            hq_url=state.hq_url,
            ca_file=state.ca_file,
            acked_seq=state.acked_seq,
            acked_hash=state.acked_hash,
            acked_outbox_id=state.acked_outbox_id,
            fork_seq=state.fork_seq,
        )


def error_text(error: DomainError) -> str:
    """How `last_error` keeps an error: its code and both messages, as JSON."""
    return json.dumps(
        {"code": error.code, "zh": error.zh, "en": error.en}, ensure_ascii=False, sort_keys=True
    )


def record_ack(
    ctx: StoreContext, acked_seq: int, acked_hash: str | None, acked_outbox_id: int
) -> None:
    """HQ holds everything up to these marks: record them, clear any outage, and drop the
    outbox rows HQ holds."""
    now = ctx.now_iso()
    with write_session(ctx.engine) as session:
        _set_state(
            session,
            acked_seq=acked_seq,
            acked_hash=acked_hash,
            acked_outbox_id=acked_outbox_id,
            last_ok_at=now,
            last_attempt_at=now,
            unreachable_since=None,
            last_error=None,
        )
        session.execute(delete(SyncOutbox).where(SyncOutbox.id <= acked_outbox_id))


def _set_state(session: Session, **values: object) -> None:
    """One UPDATE of the till's sync_state row (in the caller's write transaction)."""
    session.execute(update(SyncState).where(SyncState.id == STATE_ID).values(**values))


def requeue_all_rows(ctx: StoreContext) -> int:
    """Queue every row of every replicated table again (HQ lost rows it had acknowledged).
    The replicated tables are those the outbox triggers watch (migration 0007)."""
    with write_session(ctx.engine) as session:
        tables = session.scalars(
            text(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND name = 'sync_outbox_' || tbl_name || '_insert' ORDER BY tbl_name"
            )
        ).all()
        queued = 0
        for name in tables:
            table = Base.metadata.tables[name]
            key = ", ".join(c.name for c in table.primary_key.columns)
            # Names from the schema itself, checked against the models above.
            result = session.connection().execute(
                text(
                    f"INSERT INTO sync_outbox (table_name, row_key, op) "
                    f"SELECT '{name}', json_array({key}), 'I' FROM {name}"
                )
            )
            queued += result.rowcount
        return queued


def record_unreachable(ctx: StoreContext, error: DomainError) -> None:
    """HQ could not be reached: keep when the outage began (its first failure only)."""
    now = ctx.now_iso()
    with write_session(ctx.engine) as session:
        state = session.get(SyncState, STATE_ID)
        if state is None:
            return
        if state.unreachable_since is None:
            state.unreachable_since = now
        state.last_attempt_at = now
        state.last_error = error_text(error)


def record_refusal(ctx: StoreContext, error: DomainError) -> None:
    """HQ answered but refused: reachable, yet not in sync."""
    now = ctx.now_iso()
    with write_session(ctx.engine) as session:
        _set_state(
            session, last_attempt_at=now, unreachable_since=None, last_error=error_text(error)
        )


def record_fork(ctx: StoreContext, seq: int, error: DomainError) -> None:
    """HQ holds a different entry under `seq`: the till stops pushing until someone looks."""
    now = ctx.now_iso()
    with write_session(ctx.engine) as session:
        _set_state(
            session,
            fork_seq=seq,
            fork_detected_at=now,
            last_attempt_at=now,
            unreachable_since=None,
            last_error=error_text(error),
        )
