"""What the pusher reads to send: entries as the protocol sends them, rows collapsed per key
to their newest change and read as they are now, batches of at most 1,000 items."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from db.engine import read_session
from db.models import LedgerEntry, Member, SyncOutbox
from pos_app.domain.ledger_chain import GENESIS_HASH, chain_hash
from pos_app.services import members
from pos_app.services.held_sales import discard_held, hold_sale
from pos_app.sync.outbox import (
    MAX_BATCH_ITEMS,
    entries_after,
    next_batch,
    pending_counts,
    rows_after,
)
from pos_app.sync.status import sync_status
from tests.conftest import StoreFixture
from tests.services.support import ensure_till, req
from tests.sync.support import add_entries


def _outbox_ids(store: StoreFixture, table: str) -> list[int]:
    with read_session(store.ctx.engine) as s:
        return list(
            s.scalars(
                select(SyncOutbox.id).where(SyncOutbox.table_name == table).order_by(SyncOutbox.id)
            )
        )


def test_entries_go_up_with_their_hash_fields_seq_and_no_mac(store: StoreFixture):
    members.register_member(store.ctx, store.cashier, "13800138000", "张三")
    with read_session(store.ctx.engine) as s:
        sent = entries_after(s, store.ctx.store.id, 0, 1000)
        head = s.scalar(select(func.max(LedgerEntry.store_seq)))
    assert [e["seq"] for e in sent] == list(range(1, head + 1))
    prev = GENESIS_HASH
    for entry in sent:
        assert "mac" not in entry and "store_seq" not in entry
        assert entry["prev_hash"] == prev
        # HQ re-hashes exactly what it receives: the wire form carries every hashed field.
        fields = {**entry, "store_seq": entry["seq"]}
        assert chain_hash(prev, fields) == entry["hash"]
        prev = entry["hash"]
    assert sent[-1]["kind"] == "member_registered"


def test_many_changes_of_a_row_go_up_once_as_it_is_now(store: StoreFixture):
    view = members.register_member(store.ctx, store.cashier, "13800138000", "张三")
    members.update_member(store.ctx, store.cashier, view.member_no, name="张三丰")
    members.update_member(store.ctx, store.cashier, view.member_no, email="z@example.com")
    ids = _outbox_ids(store, "member")
    assert len(ids) >= 3  # the trigger wrote one row per change
    with read_session(store.ctx.engine) as s:
        rows = [r for r in rows_after(s, 0, 1000) if r["table"] == "member"]
        member_id = s.scalar(select(Member.id))
    assert len(rows) == 1
    (row,) = rows
    assert row["outbox_id"] == ids[-1]  # collapsed into the newest change
    assert row["key"] == [member_id]
    assert row["op"] == "U"
    assert row["data"]["name"] == "张三丰" and row["data"]["email"] == "z@example.com"
    # Every column of the table, by its name.
    assert set(row["data"]) == {c.name for c in Member.__table__.columns}
    json.dumps(row)  # goes over the wire as JSON


def test_a_deleted_row_goes_up_as_a_delete_with_no_data(store: StoreFixture):
    ensure_till(store)
    held = hold_sale(store.ctx, store.cashier, req(("X001", 2)))
    discard_held(store.ctx, store.cashier, held.id)
    with read_session(store.ctx.engine) as s:
        (row,) = [r for r in rows_after(s, 0, 1000) if r["table"] == "held_sale"]
    assert len(_outbox_ids(store, "held_sale")) == 2  # the insert, then the delete
    assert (row["op"], row["data"], row["key"]) == ("D", None, [held.id])


def test_rows_after_an_acknowledged_id_only(store: StoreFixture):
    members.register_member(store.ctx, store.cashier, "13800138000", "张三")
    with read_session(store.ctx.engine) as s:
        everything = rows_after(s, 0, 1000)
        last = everything[-1]["outbox_id"]
        assert rows_after(s, last, 1000) == []
        later = rows_after(s, everything[0]["outbox_id"], 1000)
    assert later == everything[1:]


def test_batches_hold_at_most_1000_items_entries_first(store: StoreFixture):
    add_entries(store, 2500)
    with read_session(store.ctx.engine) as s:
        head, pending_entries, pending_rows = pending_counts(s, store.ctx.store.id, 0, 0)
        first = next_batch(s, store.ctx.store.id, 0, 0)
        assert len(first) == MAX_BATCH_ITEMS and not first.rows
        assert [e["seq"] for e in first.entries] == list(range(1, 1001))
        last = next_batch(s, store.ctx.store.id, 2000, 0)
        tail = head - 2000
        assert [e["seq"] for e in last.entries] == list(range(2001, head + 1))
        # The rows fill what the entries leave, one per changed row.
        keys = s.execute(select(SyncOutbox.table_name, SyncOutbox.row_key).distinct()).all()
        assert len(last.rows) == min(len(keys), MAX_BATCH_ITEMS - tail)
        assert pending_rows >= len(keys)
        assert len(last) <= MAX_BATCH_ITEMS
    assert head >= 2500 and pending_entries == head


def test_status_counts_what_hq_does_not_hold(store: StoreFixture):
    status = sync_status(store.ctx)
    assert not status.configured and status.acked_seq == 0
    with read_session(store.ctx.engine) as s:
        head = s.scalar(select(func.max(LedgerEntry.store_seq)))
        outbox = s.scalar(select(func.count()).select_from(SyncOutbox))
    assert status.head_seq == head
    assert status.pending == head + outbox
    members.register_member(store.ctx, store.cashier, "13800138000", "张三")
    after = sync_status(store.ctx)
    assert after.head_seq == head + 1
    assert after.pending > status.pending
