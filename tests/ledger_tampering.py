"""What someone holding a store's database file can do to its ledger, for the tests of what
verify finds: drop the append-only triggers, re-hash entries with the public hash rule."""

from __future__ import annotations

import sqlite3

from pos_app.domain.ledger_chain import HASHED_FIELDS, HASHED_WHEN_SET, chain_hash, entry_mac


def drop_triggers(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TRIGGER ledger_entry_no_update")
    conn.execute("DROP TRIGGER ledger_entry_no_delete")


def rehash(
    conn: sqlite3.Connection, first: int, last: int | None = None, mac_key: bytes | None = None
) -> None:
    """Recompute hash (and, after the first, prev_hash) of entries first..last the way the
    app does — what an attacker who read ledger_chain.py can do; with `mac_key`, seal them
    with it too (the MACs are left alone otherwise)."""
    rows = conn.execute(
        "SELECT * FROM ledger_entry WHERE store_seq >= ? AND store_seq <= ? ORDER BY store_seq",
        (first, last if last is not None else 2**62),
    ).fetchall()
    prev = rows[0]["prev_hash"]
    for row in rows:
        fields = {name: row[name] for name in (*HASHED_FIELDS, *HASHED_WHEN_SET)}
        new_hash = chain_hash(prev, fields)
        mac = entry_mac(mac_key, new_hash) if mac_key else row["mac"]
        conn.execute(
            "UPDATE ledger_entry SET prev_hash = ?, hash = ?, mac = ? WHERE entry_id = ?",
            (prev, new_hash, mac, row["entry_id"]),
        )
        prev = new_hash
