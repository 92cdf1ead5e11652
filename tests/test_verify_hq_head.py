"""Local verify checks HQ's acknowledged head (issue 13): the chain must still hold the entry
HQ acknowledged, unchanged. A tail cut short, or rewritten and re-sealed with the store's key,
with the head record beside the key gone too, passes every local check; only the copy off
the machine tells. Also: an entry naming another till, and a fork HQ reported."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pos_app.services.chain_head import head_record_path
from pos_app.services.checkout import sell
from pos_app.services.context import DB_FILENAME
from pos_app.services.verify import VerifyReport, verify_ledger
from tests.conftest import StoreFixture
from tests.ledger_tampering import drop_triggers, rehash
from tests.services.support import ensure_till, req
from tests.test_cli import Cli, one_json


@contextmanager
def raw(store: StoreFixture) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(store.data_dir / DB_FILENAME)
    con.row_factory = sqlite3.Row
    try:
        yield con
        con.commit()
    finally:
        con.close()


def head(store: StoreFixture) -> tuple[int, str]:
    with raw(store) as con:
        row = con.execute(
            "SELECT store_seq, hash FROM ledger_entry ORDER BY store_seq DESC LIMIT 1"
        ).fetchone()
    return int(row[0]), str(row[1])


def acknowledge(store: StoreFixture, seq: int, entry_hash: str) -> None:
    """What the pusher records after HQ's 200: HQ holds the chain up to (seq, hash)."""
    with raw(store) as con:
        con.execute(
            "INSERT INTO sync_state (id, hq_url, store_code, enrolled_at, acked_seq, acked_hash, "
            "acked_outbox_id) VALUES (1, 'https://hq.example:8443', 'SH01', ?, ?, ?, 0)",
            (store.ctx.now_iso(), seq, entry_hash),
        )


def forget_sync(store: StoreFixture) -> None:
    with raw(store) as con:
        con.execute("DELETE FROM sync_state")


def lose_head_record(store: StoreFixture) -> None:
    """The head record beside the key is gone (a moved data folder, or deleted with intent)."""
    keys = store.ctx.keys
    assert keys is not None
    head_record_path(keys, store.data_dir).unlink(missing_ok=True)


def codes(report: VerifyReport) -> set[str | None]:
    return {p.code for p in report.problems}


@pytest.fixture
def synced(store: StoreFixture) -> tuple[StoreFixture, int]:
    """A till that sold twice for cash since its last acknowledged head…: HQ holds everything.
    Returns the store and the head before the last sale."""
    ensure_till(store)
    sell(store.ctx, store.cashier, req(("X001", 3)))
    before_last, _ = head(store)
    sell(store.ctx, store.cashier, req(("X001", 2)))
    assert head(store)[0] > before_last
    acknowledge(store, *head(store))
    report = verify_ledger(store.ctx)
    assert report.ok, report.problems
    assert report.hq_acked_seq == head(store)[0]
    return store, before_last


def test_a_tail_cut_below_hqs_head_is_found_only_by_hqs_head(
    synced: tuple[StoreFixture, int],
) -> None:
    store, keep = synced
    with raw(store) as con:
        drop_triggers(con)
        # The last sale, gone without a trace in this file: its rows and its entries.
        (sale_id,) = con.execute("SELECT id FROM sale ORDER BY receipt_no DESC LIMIT 1").fetchone()
        for table, column in (
            ("sale_tender", "sale_id"),
            ("sale_line", "sale_id"),
            ("receipt_document", "sale_id"),
            ("sale", "id"),
        ):
            con.execute(f"DELETE FROM {table} WHERE {column} = ?", (sale_id,))  # noqa: S608
        con.execute("DELETE FROM ledger_entry WHERE store_seq > ?", (keep,))
    lose_head_record(store)
    report = verify_ledger(store.ctx)
    assert not report.ok
    assert codes(report) == {"hq_head_missing"}, report.problems
    (problem,) = report.problems
    assert problem.store_seq == keep + 1
    assert problem.zh and "总部" in problem.zh and "HQ holds" in problem.message
    # The same file without HQ's head passes every local check: the acked head caught it.
    forget_sync(store)
    assert verify_ledger(store.ctx).ok


def test_a_tail_rehashed_with_the_key_is_found_only_by_hqs_head(
    synced: tuple[StoreFixture, int],
) -> None:
    store, keep = synced
    keys = store.ctx.keys
    assert keys is not None
    with raw(store) as con:
        drop_triggers(con)
        # Someone with the file and the key moves the last sale's entries in time and
        # re-seals the chain from there: links, hashes and MACs all check out.
        con.execute(
            "UPDATE ledger_entry SET wall_time = '2026-03-01T00:00:00.000000+00:00' "
            "WHERE store_seq > ?",
            (keep,),
        )
        rehash(con, keep + 1, mac_key=keys.ledger_mac)
    lose_head_record(store)
    report = verify_ledger(store.ctx)
    assert codes(report) == {"hq_head_rewritten"}, report.problems
    (problem,) = report.problems
    assert problem.store_seq == head(store)[0]
    assert problem.zh and "总部" in problem.zh
    forget_sync(store)
    assert verify_ledger(store.ctx).ok


def test_an_entry_naming_another_till_is_a_problem(store: StoreFixture) -> None:
    keys = store.ctx.keys
    assert keys is not None
    seq, _ = head(store)
    with raw(store) as con:
        drop_triggers(con)
        con.execute("UPDATE ledger_entry SET till_id = 'SH01-02' WHERE store_seq = ?", (seq,))
        rehash(con, seq, mac_key=keys.ledger_mac)
    lose_head_record(store)
    report = verify_ledger(store.ctx)
    assert codes(report) == {"foreign_till"}, report.problems
    (problem,) = report.problems
    assert problem.store_seq == seq
    assert "SH01-02" in problem.message and "SH01-01" in problem.message
    assert problem.zh and "其他收银机" in problem.zh


def test_a_fork_hq_reported_fails_verify_through_the_cli(store: StoreFixture) -> None:
    acknowledge(store, *head(store))
    c = Cli(store.data_dir)
    assert c.json("verify")["ok"]
    with raw(store) as con:
        con.execute(
            "UPDATE sync_state SET fork_seq = ?, fork_detected_at = ?",
            (head(store)[0], "2026-03-02T02:00:00+00:00"),
        )
    result = c.run("verify", json=True)
    assert result.exit_code == 3
    data = one_json(result.stdout)
    assert [p["code"] for p in data["problems"]] == ["hq_fork"]
    assert data["hq_acked_seq"] == head(store)[0] and data["till"] == "SH01-01"
    shown = c.run("verify")
    assert shown.exit_code == 3
    assert "分叉" in shown.stdout and "fork" in shown.stdout
    assert "收银机 Till" in shown.stdout and "SH01-01" in shown.stdout


def test_hqs_head_still_in_the_chain_passes(store: StoreFixture) -> None:
    """HQ acknowledged an earlier entry; the till has written more since: all fine."""
    seq, entry_hash = head(store)
    acknowledge(store, seq, entry_hash)
    ensure_till(store)
    sell(store.ctx, store.cashier, req(("X001", 1)))
    report = verify_ledger(store.ctx)
    assert report.ok, report.problems
    assert report.hq_acked_seq == seq < report.head_seq
