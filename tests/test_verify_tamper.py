"""Tampering with the database behind the app's back, and what `verify_ledger` makes of it.

What verify detects, from the store's database, its key file and the head record beside it:

- any change to a ledger entry's hashed content (amount, kind, times, payload, ...): its
  hash no longer matches, reported at that entry's store_seq;
- an entry deleted or inserted in the middle: a sequence gap and a broken prev_hash link,
  reported at the entry after the hole;
- entries forged and re-hashed by someone who knows the (public) hash rule — one entry or
  the whole tail, with the projections edited to match: the MAC each entry carries is made
  with the store's key, which is not in the database, so every re-hashed entry is reported;
- the newest entries deleted (and the balances they moved put back): the head recorded
  beside the key after each write names an entry the ledger no longer reaches;
- any projection (card balances, state, PIN tries; member points, debt, tier; point lots)
  that differs from what replaying the entries gives, reported by card (masked number),
  member number or lot.

What it cannot detect: someone holding both the database and the store's key file can
rewrite history, MACs and head record alike, consistently. The key is kept apart from the
database for that reason; HQ's copy of the chain (the sync) is the check off the machine.
That limit is pinned down by a test below, so a change in what verify sees is noticed.

The append-only triggers are dropped first, as an attacker with the file would do; the
last tests show that, while they exist, UPDATE and DELETE on ledger_entry are refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.ledger_chain import GENESIS_HASH
from pos_app.services import members, points, stored_value
from pos_app.services.cards import issue_card, replace_card
from pos_app.services.chain_head import write_head
from pos_app.services.context import DB_FILENAME
from pos_app.services.verify import VerifyReport, verify_ledger
from tests.ledger_tampering import drop_triggers, rehash
from tests.services.support import buy

CARD_A, CARD_A2, CARD_B = "6222020000000001", "6222020000000009", "6222020000000002"
PIN = "246810"


@dataclass
class History:
    member_a: str
    member_b: str
    topup_b_seq: int
    payment_b_seq: int
    head_seq: int
    head_hash: str


def seq_of(conn: sqlite3.Connection, entry_id: str) -> int:
    return conn.execute(
        "SELECT store_seq FROM ledger_entry WHERE entry_id = ?", (entry_id,)
    ).fetchone()[0]


@contextmanager
def raw_db(store) -> Iterator[sqlite3.Connection]:
    """The store's database file, opened with plain sqlite3 (no app, no foreign keys)."""
    store.ctx.engine.dispose()
    conn = sqlite3.connect(store.data_dir / DB_FILENAME)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


def problems_text(report: VerifyReport) -> str:
    return "\n".join(f"{p.store_seq} {p.where}: {p.message}" for p in report.problems)


@pytest.fixture
def history(store) -> History:
    """Two members (B referred by A), a PIN card and a plain card, top-ups with bonus,
    payments, purchases earning points and the referral reward, a redemption, a refund and
    a card replacement."""
    ctx, cashier, manager = store.ctx, store.cashier, store.manager
    a = members.register_member(ctx, cashier, "13800000001", "张一")
    b = members.register_member(ctx, cashier, "13800000002", "李二", referrer_no=a.member_no)
    issue_card(ctx, cashier, a.member_no, CARD_A, pin=PIN)
    issue_card(ctx, cashier, b.member_no, CARD_B)
    store.at_till(cashier)
    stored_value.top_up(ctx, cashier, CARD_A, 100_000)  # +150 bonus, and silver
    top_b = stored_value.top_up(ctx, cashier, CARD_B, 50_000, tender="wechat")
    stored_value.pay_with_stored_value(ctx, cashier, CARD_A, 30_000, pin=PIN)
    pay_b = stored_value.pay_with_stored_value(ctx, cashier, CARD_B, 1_000)
    buy(store, 500, member_no=b.member_no)
    buy(store, 200, card_no=CARD_A)
    points.redeem_points(ctx, cashier, 100, "兑换礼品", member_no=a.member_no)
    replace_card(ctx, manager, CARD_A, CARD_A2)
    stored_value.pay_with_stored_value(ctx, cashier, CARD_A2, 5_000, pin=PIN)
    pay_b2 = stored_value.pay_with_stored_value(ctx, cashier, CARD_B, 2_000)
    stored_value.refund_stored_value_payment(ctx, manager, pay_b2.entry_id)
    stored_value.pay_with_stored_value(ctx, cashier, CARD_B, 500)
    report = verify_ledger(ctx)
    assert report.ok, problems_text(report)
    with raw_db(store) as conn:
        head_seq, head_hash = conn.execute(
            "SELECT store_seq, hash FROM ledger_entry ORDER BY store_seq DESC LIMIT 1"
        ).fetchone()
        return History(
            a.member_no,
            b.member_no,
            seq_of(conn, top_b.entry_id),
            seq_of(conn, pay_b.entry_id),
            head_seq,
            head_hash,
        )


# ---- (a) an entry's content changed ------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        "amount_fen = amount_fen + 100000, principal_delta = principal_delta + 100000",
        "amount_fen = 1",
        "bonus_delta = bonus_delta + 5000",
        "tender = 'cash'",
        "business_time = '2026-01-01T00:00:00.000000+00:00'",
        'payload = \'{"reference":"forged"}\'',
    ],
)
def test_changed_entry_is_named_by_its_seq(store, history, change):
    with raw_db(store) as conn:
        drop_triggers(conn)
        conn.execute(
            f"UPDATE ledger_entry SET {change} WHERE store_seq = ?", (history.topup_b_seq,)
        )
    report = verify_ledger(store.ctx)
    assert not report.ok
    bad = report.first_bad_entry
    assert bad is not None and bad.store_seq == history.topup_b_seq, problems_text(report)
    assert "hash does not match" in bad.message
    # Only that entry is bad: the next one still links to its stored (unchanged) hash.
    assert {p.store_seq for p in report.problems if p.store_seq} == {history.topup_b_seq}


def test_changed_amount_also_shows_in_the_card_balance(store, history):
    with raw_db(store) as conn:
        drop_triggers(conn)
        conn.execute(
            "UPDATE ledger_entry SET principal_delta = principal_delta + 100000 "
            "WHERE store_seq = ?",
            (history.topup_b_seq,),
        )
    report = verify_ledger(store.ctx)
    card_problems = [p for p in report.problems if p.where == f"card {mask_card_no(CARD_B)}"]
    assert [p.message.split(" is ")[0] for p in card_problems] == ["principal_fen"]


# ---- (b) an entry deleted -----------------------------------------------------------------


def test_deleted_entry_breaks_sequence_and_link_at_the_next_seq(store, history):
    k = history.payment_b_seq
    with raw_db(store) as conn:
        drop_triggers(conn)
        conn.execute("DELETE FROM ledger_entry WHERE store_seq = ?", (k,))
    report = verify_ledger(store.ctx)
    assert not report.ok
    bad = report.first_bad_entry
    assert bad is not None and bad.store_seq == k + 1, problems_text(report)
    at_next = {p.message for p in report.problems if p.store_seq == k + 1}
    assert f"sequence gap: expected {k}" in at_next
    assert "prev_hash does not link to the previous entry" in at_next
    # The deleted payment's money is back on the card as far as the ledger is concerned.
    assert any(
        p.where == f"card {mask_card_no(CARD_B)}" and "principal_fen" in p.message
        for p in report.problems
    )


def test_deleted_newest_entries_with_balances_put_back_are_caught_by_the_head_record(
    store, history
):
    """Cutting off the newest entries leaves a shorter chain, sealed and consistent once the
    balances they moved are put back; the head recorded after the last write does not."""
    with raw_db(store) as conn:
        drop_triggers(conn)
        # The last three entries: a payment of ¥5 on card B, its refund and another ¥20 one.
        conn.execute("DELETE FROM ledger_entry WHERE store_seq > ?", (history.head_seq - 3,))
        conn.execute(
            "UPDATE card SET principal_fen = principal_fen + 500 WHERE card_no = ?", (CARD_B,)
        )
    report = verify_ledger(store.ctx)
    assert not report.ok
    assert [p.where for p in report.problems] == ["ledger"], problems_text(report)
    assert f"entries #{history.head_seq - 2}…#{history.head_seq} are missing" in (
        report.problems[0].message
    )
    assert report.first_bad_entry is not None
    assert report.first_bad_entry.store_seq == history.head_seq - 2


# ---- (c) card projections changed -----------------------------------------------------------


@pytest.mark.parametrize(
    ("card_no", "change", "field"),
    [
        (CARD_B, "principal_fen = principal_fen + 100000", "principal_fen"),
        (CARD_B, "bonus_fen = 99900", "bonus_fen"),
        (CARD_A, "state = 'active'", "state"),  # a replaced card brought back to life
        (CARD_A, "principal_fen = 50000", "principal_fen"),
        (CARD_A2, "pin_failures = 0, state = 'frozen'", "state"),
    ],
)
def test_changed_card_projection_names_the_card_masked(store, history, card_no, change, field):
    with raw_db(store) as conn:
        conn.execute(f"UPDATE card SET {change} WHERE card_no = ?", (card_no,))
    report = verify_ledger(store.ctx)
    assert not report.ok
    assert report.first_bad_entry is None  # the chain itself is intact
    assert any(
        p.where == f"card {mask_card_no(card_no)}" and p.message.startswith(field)
        for p in report.problems
    ), problems_text(report)
    assert all(p.where.startswith("card ") for p in report.problems)
    assert card_no not in problems_text(report)  # card numbers are only shown masked


# ---- (d) points projections changed ---------------------------------------------------------


def test_changed_points_balance_names_the_member(store, history):
    with raw_db(store) as conn:
        conn.execute(
            "UPDATE member SET points_balance = points_balance + 5000 WHERE member_no = ?",
            (history.member_b,),
        )
    report = verify_ledger(store.ctx)
    assert not report.ok
    assert report.first_bad_entry is None
    messages = [p.message for p in report.problems if p.where == f"member {history.member_b}"]
    assert any(m.startswith("points_balance is") for m in messages), problems_text(report)


def test_changed_points_debt_and_tier_name_the_member(store, history):
    with raw_db(store) as conn:
        conn.execute(
            "UPDATE member SET points_debt = 7, tier_code = 'diamond' WHERE member_no = ?",
            (history.member_a,),
        )
    report = verify_ledger(store.ctx)
    fields = {
        p.message.split(" is ")[0]
        for p in report.problems
        if p.where == f"member {history.member_a}"
    }
    assert fields == {"points_debt", "tier_code"}, problems_text(report)


def test_changed_point_lot_names_the_lot_and_its_member(store, history):
    with raw_db(store) as conn:
        lot_id = conn.execute(
            "SELECT point_lot.id FROM point_lot JOIN member ON member.id = point_lot.member_id "
            "WHERE member.member_no = ? AND remaining > 0 ORDER BY seq LIMIT 1",
            (history.member_b,),
        ).fetchone()[0]
        conn.execute("UPDATE point_lot SET remaining = remaining + 1000 WHERE id = ?", (lot_id,))
    report = verify_ledger(store.ctx)
    assert not report.ok
    assert any(
        p.where == f"member {history.member_b}" and lot_id in p.message for p in report.problems
    ), problems_text(report)


def test_a_lot_no_entry_created_is_named(store, history):
    with raw_db(store) as conn:
        member_id = conn.execute(
            "SELECT id FROM member WHERE member_no = ?", (history.member_b,)
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO point_lot (id, member_id, seq, earned_at, expires_on, points, remaining)"
            " VALUES ('forged-lot', ?, 1, '2026-03-02T02:00:00.000000+00:00', NULL, 500, 500)",
            (member_id,),
        )
    report = verify_ledger(store.ctx)
    assert any(p.where == "points lot forged-lot" for p in report.problems), problems_text(report)


# ---- (e) entries forged and re-hashed ---------------------------------------------------------


def test_forged_and_rehashed_entry_is_caught_by_its_mac(store, history):
    k = history.topup_b_seq
    with raw_db(store) as conn:
        drop_triggers(conn)
        conn.execute(
            "UPDATE ledger_entry SET amount_fen = amount_fen + 100000, "
            "principal_delta = principal_delta + 100000 WHERE store_seq = ?",
            (k,),
        )
        rehash(conn, k, k)  # its own hash now matches its content, but not its MAC
    report = verify_ledger(store.ctx)
    assert not report.ok
    bad = report.first_bad_entry
    assert bad is not None and bad.store_seq == k, problems_text(report)
    assert bad.message.startswith("MAC does not match")
    at_next = {p.message for p in report.problems if p.store_seq == k + 1}
    assert at_next == {"prev_hash does not link to the previous entry"}


# ---- (f) the whole tail forged consistently ------------------------------------------------------


def test_rehashed_tail_with_matching_projections_is_caught_by_the_macs(store, history):
    """A forged entry, the tail re-hashed after it and the card edited to match: a chain
    that links and projections that agree — but no re-hashed entry carries a MAC made with
    the store's key, so each of them is reported, the forged one first."""
    k = history.topup_b_seq
    with raw_db(store) as conn:
        drop_triggers(conn)
        conn.execute(
            "UPDATE ledger_entry SET amount_fen = amount_fen + 100000, "
            "principal_delta = principal_delta + 100000 WHERE store_seq = ?",
            (k,),
        )
        rehash(conn, k)
        conn.execute(
            "UPDATE card SET principal_fen = principal_fen + 100000 WHERE card_no = ?", (CARD_B,)
        )
    report = verify_ledger(store.ctx)
    assert not report.ok
    assert report.first_bad_entry is not None
    assert report.first_bad_entry.store_seq == k, problems_text(report)
    macs = {p.store_seq for p in report.problems if p.message.startswith("MAC does not match")}
    assert macs == set(range(k, history.head_seq + 1))
    assert not any("link" in p.message or "hash does not" in p.message for p in report.problems)


def test_rehashed_tail_with_macs_made_without_the_key_is_caught(store, history):
    """Re-sealing with a key of one's own (say, the key of another store) does not help."""
    k = history.topup_b_seq
    with raw_db(store) as conn:
        drop_triggers(conn)
        conn.execute("UPDATE ledger_entry SET amount_fen = 1 WHERE store_seq = ?", (k,))
        rehash(conn, k, mac_key=b"a key of my own, 32 bytes long!!")
    report = verify_ledger(store.ctx)
    assert report.first_bad_entry is not None and report.first_bad_entry.store_seq == k


def test_with_the_key_file_too_a_rewrite_is_invisible_to_verify(store, history):
    """The limit of a local check: whoever holds the database AND the key file can rewrite
    history consistently — entries, MACs, projections and the head record. That is why the
    key lives apart from the database; HQ's copy of entry #head (the sync) would differ."""
    k = history.topup_b_seq
    keys = store.ctx.keys
    with raw_db(store) as conn:
        drop_triggers(conn)
        conn.execute(
            "UPDATE ledger_entry SET amount_fen = amount_fen + 100000, "
            "principal_delta = principal_delta + 100000 WHERE store_seq = ?",
            (k,),
        )
        rehash(conn, k, mac_key=keys.ledger_mac)
        conn.execute(
            "UPDATE card SET principal_fen = principal_fen + 100000 WHERE card_no = ?", (CARD_B,)
        )
        head_seq, head_hash = conn.execute(
            "SELECT store_seq, hash FROM ledger_entry ORDER BY store_seq DESC LIMIT 1"
        ).fetchone()
    write_head(keys, store.data_dir, head_seq, head_hash, "2026-03-02T02:00:00+00:00")
    report = verify_ledger(store.ctx)
    assert report.ok, problems_text(report)  # verify cannot see it ...
    assert head_seq == history.head_seq
    assert head_hash != history.head_hash  # ... HQ's copy of entry #head would


def test_rehashed_tail_whose_amount_and_balance_change_disagree_is_caught(store, history):
    """Bonus money added to a top-up without changing its paid amount, the tail re-hashed
    and re-sealed with the key and the card edited to match: the chain and the projections
    agree, but the top-up's amount no longer matches its principal change."""
    k = history.topup_b_seq
    with raw_db(store) as conn:
        drop_triggers(conn)
        conn.execute(
            "UPDATE ledger_entry SET principal_delta = principal_delta + 100000 "
            "WHERE store_seq = ?",
            (k,),
        )
        rehash(conn, k, mac_key=store.ctx.keys.ledger_mac)
        conn.execute(
            "UPDATE card SET principal_fen = principal_fen + 100000 WHERE card_no = ?", (CARD_B,)
        )
        head_seq, head_hash = conn.execute(
            "SELECT store_seq, hash FROM ledger_entry ORDER BY store_seq DESC LIMIT 1"
        ).fetchone()
    write_head(store.ctx.keys, store.data_dir, head_seq, head_hash, "2026-03-02T02:00:00+00:00")
    report = verify_ledger(store.ctx)
    assert not report.ok
    assert report.first_bad_entry is not None
    assert report.first_bad_entry.store_seq == k, problems_text(report)
    assert "amounts do not agree" in report.first_bad_entry.message


def test_rehashed_genesis_cannot_hide_a_deleted_first_entry(store, history):
    """Deleting entry 1 and re-linking entry 2 to the genesis hash still leaves seq 2 first."""
    with raw_db(store) as conn:
        drop_triggers(conn)
        conn.execute("DELETE FROM ledger_entry WHERE store_seq = 1")
        conn.execute("UPDATE ledger_entry SET prev_hash = ? WHERE store_seq = 2", (GENESIS_HASH,))
        rehash(conn, 2)
    report = verify_ledger(store.ctx)
    bad = report.first_bad_entry
    assert bad is not None and bad.store_seq == 2
    assert bad.message == "sequence gap: expected 1"


# ---- the triggers, while they exist -------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET amount_fen = amount_fen + 1 WHERE store_seq = 3",
        "UPDATE ledger_entry SET hash = hash",
        "DELETE FROM ledger_entry WHERE store_seq = 3",
        "DELETE FROM ledger_entry",
    ],
)
def test_triggers_refuse_update_and_delete(store, history, statement):
    with raw_db(store) as conn:
        before = conn.execute("SELECT count(*), max(hash) FROM ledger_entry").fetchone()
        with pytest.raises(sqlite3.DatabaseError, match="ledger_entry is append-only"):
            conn.execute(statement)
        conn.rollback()
        assert conn.execute("SELECT count(*), max(hash) FROM ledger_entry").fetchone() == before
    assert verify_ledger(store.ctx).ok


def test_the_chain_checked_in_a_worker_process_finds_the_same(store, history):
    """A large ledger's chain is checked in a child process (db/chain_check.py) while this
    one replays the balances: forced here on a small one, it must find exactly what the
    in-process check finds."""
    k = history.topup_b_seq
    with raw_db(store) as conn:
        drop_triggers(conn)
        conn.execute("UPDATE ledger_entry SET amount_fen = 1 WHERE store_seq = ?", (k,))
        rehash(conn, k)
    here = verify_ledger(store.ctx)
    there = verify_ledger(store.ctx, parallel_from=1)
    assert there.problems == here.problems and there.problem_count == here.problem_count
    assert there.first_bad_entry is not None and there.first_bad_entry.store_seq == k
    assert "chain" in there.phases and there.entries == here.entries == history.head_seq
