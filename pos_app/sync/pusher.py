"""Pushing the till's records up to HQ until HQ holds everything (docs/sync-protocol.md).

    outcome = push(ctx)

1. Ask HQ's head first: what HQ holds is the truth (a response lost last time costs one
   round trip, never a resend of everything). The local chain must contain HQ's head: if
   it does not (the till was put back to an older copy, or rewritten), that is a fork.
2. Send batches of at most 1,000 items (entries, then changed rows) after HQ's marks, and
   record each acknowledgement in a short write transaction of its own, after the network
   call: a sale never waits on HQ for the write lock.
3. `sync_gap`: HQ holds less than the till thought; resend from HQ's mark.
   `sync_fork`: record it and stop; pushing resumes only once someone has dealt with it.
   HQ unreachable: record since when, and try again later (the agent's back-off).

Every step is idempotent: HQ ignores what it already holds, so a push cut off anywhere is
finished by the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from db.engine import read_session
from db.models import LedgerEntry
from pos_app.services.context import StoreContext
from pos_app.services.sync_identity import load_private_key
from pos_app.sync import state
from pos_app.sync.client import HqClient, json_bytes
from pos_app.sync.errors import HqRefused, HqUnreachable, SyncError
from pos_app.sync.outbox import Batch, next_batch, pending_counts

log = logging.getLogger(__name__)

# A gap answer means HQ holds less than the till was told; more than a few in a row means
# something else is wrong, and the push stops rather than loop.
MAX_GAPS_IN_A_ROW = 3


class PushResult(StrEnum):
    DONE = "done"  # HQ holds everything the till had when the push began
    UNREACHABLE = "unreachable"  # no answer from HQ: try again later
    FORK = "fork"  # HQ holds a different history: stopped, someone must look
    REFUSED = "refused"  # HQ answered no (a signature, a bad entry): see error_code


@dataclass(frozen=True)
class PushOutcome:
    result: PushResult
    sent_entries: int = 0
    sent_rows: int = 0
    batches: int = 0
    duplicates: int = 0
    acked_seq: int = 0
    acked_outbox_id: int = 0
    pending: int = 0  # entries and outbox rows HQ does not hold yet, after the push
    fork_seq: int | None = None
    error_code: str | None = None
    error_zh: str | None = None
    error_en: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is PushResult.DONE


Progress = Callable[[int, int], None]  # (items sent so far, items pending at the start)


def push(ctx: StoreContext, progress: Progress | None = None) -> PushOutcome:
    """Send HQ everything it does not hold yet. Network faults and HQ's refusals come back
    in the outcome (and in `sync_state`), not as exceptions; a till not set up, or whose
    key file is missing, is refused with a `DomainError`."""
    config = state.read_config(ctx)
    if config.fork_seq is not None:
        return _finish(ctx, config, PushResult.FORK, _Tally(), fork_seq=config.fork_seq)
    key = load_private_key(ctx.key_dir, config.till_id)
    tally = _Tally()
    try:
        with HqClient(config.hq_url, config.till_id, key, config.ca_file, clock=ctx.clock) as hq:
            _push(ctx, config, hq, tally, progress)
    except HqUnreachable as exc:
        state.record_unreachable(ctx, exc)
        log.warning("sync: HQ unreachable: %s", exc.en)
        return _finish(ctx, config, PushResult.UNREACHABLE, tally, error=exc)
    except _Forked as fork:
        state.record_fork(ctx, fork.seq, fork.error)
        log.error("sync: fork at #%d: %s", fork.seq, fork.error.en)
        return _finish(ctx, config, PushResult.FORK, tally, fork_seq=fork.seq, error=fork.error)
    except HqRefused as exc:
        state.record_refusal(ctx, exc)
        log.error("sync: HQ refused (%s): %s", exc.code, exc.en)
        return _finish(ctx, config, PushResult.REFUSED, tally, error=exc)
    return _finish(ctx, config, PushResult.DONE, tally)


@dataclass
class _Tally:
    entries: int = 0
    rows: int = 0
    batches: int = 0
    duplicates: int = 0


class _Forked(Exception):
    def __init__(self, seq: int, error: SyncError) -> None:
        super().__init__(error.en)
        self.seq = seq
        self.error = error


def _push(
    ctx: StoreContext,
    config: state.SyncConfig,
    hq: HqClient,
    tally: _Tally,
    progress: Progress | None,
) -> None:
    acked_seq, acked_hash, acked_outbox_id = _hq_marks(ctx, config, hq)
    with read_session(ctx.engine) as session:
        _, entries, rows = pending_counts(session, config.store_id, acked_seq, acked_outbox_id)
    total = entries + rows
    if progress is not None:
        progress(0, total)
    gaps = 0
    path = f"/v1/tills/{config.till_id}/batches"
    # The next batch is read and encoded on a worker thread while HQ works on this one
    # (it assumes HQ takes this batch whole; any other answer throws it away).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-next-batch") as worker:
        upcoming = worker.submit(_prepare, ctx, config.store_id, acked_seq, acked_outbox_id)
        while True:
            batch, body = upcoming.result()
            if not len(batch):
                return
            expected = batch.marks_after(acked_seq, acked_outbox_id)
            upcoming = worker.submit(_prepare, ctx, config.store_id, *expected)
            try:
                answer = hq.post(path, body)
            except HqRefused as exc:
                if exc.code == "sync_fork":
                    raise _Forked(_int(exc.body, "seq"), exc) from None
                if exc.code == "sync_gap" and gaps < MAX_GAPS_IN_A_ROW:
                    # HQ holds less than it acknowledged (put back to an older copy): start
                    # again from what it holds now, rows included.
                    gaps += 1
                    log.warning(
                        "sync: HQ holds up to #%s only; resending", exc.body.get("acked_seq")
                    )
                    upcoming.exception()  # wait for it, and throw it away
                    acked_seq, acked_hash, acked_outbox_id = _hq_marks(ctx, config, hq)
                    upcoming = worker.submit(
                        _prepare, ctx, config.store_id, acked_seq, acked_outbox_id
                    )
                    continue
                raise
            gaps = 0
            new_seq = _int(answer, "acked_seq")
            new_outbox_id = _int(answer, "acked_outbox_id")
            if new_seq <= acked_seq and new_outbox_id <= acked_outbox_id:
                raise HqRefused(
                    "总部收下了这批记录却没有前移确认位置，同步已停止",
                    "HQ took the batch but its acknowledged marks did not move; sync stopped",
                    code="sync_no_progress",
                    status=200,
                    body=answer,
                )
            acked_seq, acked_hash, acked_outbox_id = new_seq, answer.get("head_hash"), new_outbox_id
            state.record_ack(ctx, acked_seq, acked_hash, acked_outbox_id)
            tally.batches += 1
            tally.entries += len(batch.entries)
            tally.rows += len(batch.rows)
            tally.duplicates += _int(answer, "duplicates")
            if progress is not None:
                progress(tally.entries + tally.rows, total)
            if (acked_seq, acked_outbox_id) != expected:
                upcoming.exception()  # read after other marks than HQ answered: throw away
                upcoming = worker.submit(_prepare, ctx, config.store_id, acked_seq, acked_outbox_id)


def _prepare(
    ctx: StoreContext, store_id: str, acked_seq: int, acked_outbox_id: int
) -> tuple[Batch, bytes]:
    with read_session(ctx.engine) as session:
        batch = next_batch(session, store_id, acked_seq, acked_outbox_id)
    return batch, json_bytes(batch.body())


def _hq_marks(ctx: StoreContext, config: state.SyncConfig, hq: HqClient) -> tuple[int, Any, int]:
    """HQ's head, checked against the local chain and recorded. If HQ holds fewer rows than
    it once acknowledged (the till deleted those outbox rows), every replicated row is
    queued again: the rows' only other copy is the till's own tables."""
    head = hq.get(f"/v1/tills/{config.till_id}/head")
    acked_seq = _int(head, "acked_seq")
    acked_hash = head.get("head_hash")
    acked_outbox_id = _int(head, "acked_outbox_id")
    _check_contains(ctx, config.store_id, acked_seq, acked_hash)
    if acked_outbox_id < state.read_config(ctx).acked_outbox_id:
        queued = state.requeue_all_rows(ctx)
        log.warning("sync: HQ lost rows it had acknowledged; %d rows queued again", queued)
    state.record_ack(ctx, acked_seq, acked_hash, acked_outbox_id)
    return acked_seq, acked_hash, acked_outbox_id


def _check_contains(ctx: StoreContext, store_id: str, seq: int, entry_hash: Any) -> None:
    """The local chain must hold HQ's head, unchanged; otherwise the two histories differ."""
    if seq == 0:
        return
    with read_session(ctx.engine) as session:
        local = session.scalar(
            select(LedgerEntry.hash).where(
                LedgerEntry.store_id == store_id, LedgerEntry.store_seq == seq
            )
        )
    if local == entry_hash:
        return
    if local is None:
        error = SyncError(
            f"总部已有本收银机到 #{seq} 的账本，本机的账本却更短（可能换回了旧的数据库副本）；"
            "同步已停止，请联系总部",
            f"HQ holds this till's ledger up to #{seq} but the local ledger is shorter (an "
            "older copy of the database put back?); sync stopped, call HQ",
            code="sync_fork",
        )
    else:
        error = SyncError(
            f"本机账本的第 #{seq} 条与总部收到的不同（账本分叉）；同步已停止，请联系总部",
            f"Local entry #{seq} differs from the one HQ holds (a fork); sync stopped, call HQ",
            code="sync_fork",
        )
    raise _Forked(seq, error)


def _int(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise HqRefused(
            f"总部的应答不对：缺少 {name}",
            f"HQ's answer is malformed: {name} missing or not a count",
            code="sync_bad_answer",
            status=200,
            body={},
        )
    return value


def _finish(
    ctx: StoreContext,
    config: state.SyncConfig,
    result: PushResult,
    tally: _Tally,
    *,
    fork_seq: int | None = None,
    error: SyncError | None = None,
) -> PushOutcome:
    now = state.read_config(ctx)
    with read_session(ctx.engine) as session:
        _, entries, rows = pending_counts(
            session, config.store_id, now.acked_seq, now.acked_outbox_id
        )
    return PushOutcome(
        result=result,
        sent_entries=tally.entries,
        sent_rows=tally.rows,
        batches=tally.batches,
        duplicates=tally.duplicates,
        acked_seq=now.acked_seq,
        acked_outbox_id=now.acked_outbox_id,
        pending=entries + rows,
        fork_seq=fork_seq,
        error_code=error.code if error else None,
        error_zh=error.zh if error else None,
        error_en=error.en if error else None,
    )
