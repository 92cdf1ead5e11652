"""Where this till's sync stands, for the status bar and `pos-app sync status`.

Cheap: the status bar polls it. One read transaction, a handful of indexed lookups (the
ledger's head by its unique (store, seq) index, the outbox rows by their id range), no
network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from db.engine import read_session
from db.models import SyncState
from pos_app.services.context import StoreContext
from pos_app.sync.outbox import pending_counts
from pos_app.sync.state import STATE_ID, this_till


@dataclass(frozen=True)
class SyncStatus:
    configured: bool
    till_id: str | None
    hq_url: str | None
    pending: int  # ledger entries and outbox rows HQ does not hold yet
    pending_entries: int
    pending_rows: int
    acked_seq: int  # the last entry HQ acknowledged
    head_seq: int  # the last entry of the local ledger
    last_ok: str | None  # UTC ISO time HQ last acknowledged
    last_attempt: str | None
    unreachable_since: str | None  # first failure of the current outage, or None
    fork_seq: int | None  # HQ holds a different entry here: pushing stopped
    last_error: str | None  # English
    last_error_zh: str | None
    last_error_code: str | None
    # The down feed: the last change applied, and when HQ was last heard from.
    feed_cursor: int = 0
    pulled_at: str | None = None
    pull_error: str | None = None  # English
    pull_error_zh: str | None = None


def sync_status(ctx: StoreContext) -> SyncStatus:
    """The till's sync status (never touches the network)."""
    store_id = ctx.store.id
    with read_session(ctx.engine) as session:
        state = session.get(SyncState, STATE_ID)
        till_id = this_till(session)
        acked_seq = state.acked_seq if state else 0
        acked_outbox_id = state.acked_outbox_id if state else 0
        head, entries, rows = pending_counts(session, store_id, acked_seq, acked_outbox_id)
        error = _error(state.last_error if state else None)
        pull_error = _error(state.pull_error if state else None)
        return SyncStatus(
            configured=state is not None,
            till_id=till_id,
            hq_url=state.hq_url if state else None,
            pending=entries + rows,
            pending_entries=entries,
            pending_rows=rows,
            acked_seq=acked_seq,
            head_seq=head,
            last_ok=state.last_ok_at if state else None,
            last_attempt=state.last_attempt_at if state else None,
            unreachable_since=state.unreachable_since if state else None,
            fork_seq=state.fork_seq if state else None,
            last_error=error.get("en"),
            last_error_zh=error.get("zh"),
            last_error_code=error.get("code"),
            feed_cursor=state.feed_cursor if state else 0,
            pulled_at=state.pulled_at if state else None,
            pull_error=pull_error.get("en"),
            pull_error_zh=pull_error.get("zh"),
        )


def _error(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {"en": text, "zh": text}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
