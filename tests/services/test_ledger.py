"""The ledger: UUIDv7 ids, a gap-free sequence, the hash chain, append-only, all-or-nothing."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing

import pytest

from pos_app.domain.errors import InsufficientBalance
from pos_app.domain.ledger_chain import GENESIS_HASH, HASHED_FIELDS, chain_hash
from pos_app.services import cards, points, stored_value
from pos_app.services.context import DB_FILENAME
from pos_app.services.verify import verify_ledger
from tests.services.support import (
    buckets,
    buy,
    entries,
    member_row,
    member_with_card,
    snapshot,
)

# Money moves only inside the cashier's own shift (see the `till` fixture).
pytestmark = pytest.mark.usefixtures("till")

CARD = "88880001"


@pytest.fixture
def busy_store(store):
    """A few days of ordinary work: members, cards, top-ups, payments, purchases, a refund."""
    m = member_with_card(store, CARD, topup_fen=50000)
    member_with_card(store, "88880002", mobile="13900139000", name="李四", topup_fen=100000)
    paid = stored_value.pay_with_stored_value(store.ctx, store.cashier, CARD, 1234)
    buy(store, 12, member_no=m.member_no)
    store.clock.advance(days=1)
    stored_value.refund_stored_value_payment(store.ctx, store.manager, paid.entry_id)
    cards.report_card_lost(store.ctx, store.cashier, "88880002")
    cards.replace_card(store.ctx, store.manager, "88880002", "88880003")
    return store


def test_entry_ids_are_uuid7(busy_store):
    rows = entries(busy_store)
    assert len(rows) > 10
    for row in rows:
        parsed = uuid.UUID(row.entry_id)
        assert parsed.version == 7
        assert row.entry_id[14] == "7"  # the version nibble
        assert parsed.variant == uuid.RFC_4122
    assert len({row.entry_id for row in rows}) == len(rows)


def test_store_seq_is_gap_free_and_the_chain_links(busy_store):
    rows = entries(busy_store)
    assert [row.store_seq for row in rows] == list(range(1, len(rows) + 1))
    assert {row.store_id for row in rows} == {busy_store.ctx.store.id}
    # Every entry names the till that wrote it, and the hash covers it.
    assert {row.till_id for row in rows} == {"SH01-01"}
    prev = GENESIS_HASH
    for row in rows:
        assert row.prev_hash == prev
        fields = {name: getattr(row, name) for name in HASHED_FIELDS}
        assert row.hash != chain_hash(row.prev_hash, fields)  # without its till: not the hash
        fields["till_id"] = row.till_id
        assert row.hash == chain_hash(row.prev_hash, fields)
        prev = row.hash
    report = verify_ledger(busy_store.ctx)
    assert report.ok, report.problems
    assert report.entries == len(rows)


def raw_connection(store):
    return closing(sqlite3.connect(store.data_dir / DB_FILENAME))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET principal_delta = principal_delta + 100 WHERE store_seq = 3",
        "UPDATE ledger_entry SET payload = NULL",
        "DELETE FROM ledger_entry WHERE store_seq = (SELECT MAX(store_seq) FROM ledger_entry)",
        "DELETE FROM ledger_entry",
    ],
)
def test_the_database_refuses_update_and_delete_of_entries(busy_store, statement):
    before = [(r.entry_id, r.hash, r.payload) for r in entries(busy_store)]
    with (
        raw_connection(busy_store) as conn,
        pytest.raises(sqlite3.DatabaseError, match="append-only"),
    ):
        conn.execute(statement)
    assert [(r.entry_id, r.hash, r.payload) for r in entries(busy_store)] == before


def test_an_entry_altered_behind_the_triggers_back_is_found(busy_store):
    target = entries(busy_store)[4]
    with raw_connection(busy_store) as conn:
        conn.execute("DROP TRIGGER ledger_entry_no_update")
        conn.execute(
            "UPDATE ledger_entry SET amount_fen = amount_fen + 1 WHERE entry_id = ?",
            (target.entry_id,),
        )
        conn.commit()
    report = verify_ledger(busy_store.ctx)
    assert not report.ok
    assert report.first_bad_entry.store_seq == target.store_seq
    assert report.first_bad_entry.entry_id == target.entry_id


def test_a_use_case_failing_half_way_leaves_nothing_behind(store, monkeypatch):
    member_with_card(store, CARD, topup_fen=50000)
    before = snapshot(store)
    head = entries(store)[-1].store_seq

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    # after the top-up entry was appended and the card's balance changed
    monkeypatch.setattr(stored_value, "upgrade_if_qualified", crash)
    with pytest.raises(RuntimeError):
        stored_value.top_up(store.ctx, store.cashier, CARD, 100000)
    # after the purchase entry and the points lot were written
    monkeypatch.setattr(points, "upgrade_if_qualified", crash)
    with pytest.raises(RuntimeError):
        points.record_manual_purchase(
            store.ctx, store.manager, card_no=CARD, amount_fen=5000, reason="补录"
        )
    assert snapshot(store) == before
    assert buckets(store, CARD) == (50000, 5000)
    monkeypatch.undo()

    # the sequence carries on without a gap
    stored_value.top_up(store.ctx, store.cashier, CARD, 10000)
    assert entries(store)[-1].store_seq == head + 1
    assert verify_ledger(store.ctx).ok


def test_a_domain_refusal_half_way_leaves_nothing_behind(store):
    # the payment passes the card and PIN checks, then is refused by the balance check
    m = member_with_card(store, CARD, topup_fen=5000)
    before = snapshot(store)
    with pytest.raises(InsufficientBalance):
        stored_value.pay_with_stored_value(store.ctx, store.cashier, CARD, 5001)
    assert snapshot(store) == before
    assert member_row(store, m.member_no).points_balance == 0
