"""Appending to the ledger: UUIDv7 ids, gap-free sequence, SHA-256 hash chain, each entry
naming the till that wrote it and sealed with a MAC made with the store's key (`mac_key`).

The database is one till's: its sequence and chain are the till's own (the column keeps its
older name, `store_seq`).

Callers hold a write transaction (BEGIN IMMEDIATE), so reading the head and appending after
it cannot race another writer. The writer caches the head for the rest of its transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from uuid6 import uuid7

from db.models import LedgerEntry
from pos_app.domain.ledger_chain import GENESIS_HASH, MacChecker, chain_hash, mac_checker


def new_id() -> str:
    """A UUIDv7: time-ordered, so ids made on different tills sort by creation time."""
    return str(uuid7())


def canonical_payload(payload: dict[str, Any] | None) -> str | None:
    if payload is None:
        return None
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class LedgerWriter:
    """Writes the entries of one transaction on behalf of one operator."""

    session: Session
    store_id: str
    operator_id: str
    rules_version: int
    now_iso: str
    approved_by_id: str | None = None
    # The store's ledger key; None only for a store that has no key yet (never written to by
    # this version: `open_store` gives every store a key before its first write).
    mac_key: bytes | None = None
    # Called with each entry's kind before it is written; raises to refuse it (a store under
    # an integrity alarm records no more money moves).
    guard: Callable[[str], None] | None = None
    # The till writing ("SH01-01"), stamped on and hashed with every entry. None only where
    # no till exists yet (never in the app: a store's till is made with the store).
    till_id: str | None = None
    _head: tuple[int, str] | None = field(default=None, init=False)
    _start: int | None = field(default=None, init=False)
    _macs: MacChecker | None = field(default=None, init=False, repr=False)

    def head(self) -> tuple[int, str]:
        if self._head is None:
            row = self.session.execute(
                select(LedgerEntry.store_seq, LedgerEntry.hash)
                .where(LedgerEntry.store_id == self.store_id)
                .order_by(LedgerEntry.store_seq.desc())
                .limit(1)
            ).first()
            self._head = (row[0], row[1]) if row else (0, GENESIS_HASH)
            self._start = self._head[0]
        return self._head

    def append(
        self,
        kind: str,
        *,
        member_id: str | None = None,
        card_id: str | None = None,
        principal_delta: int = 0,
        bonus_delta: int = 0,
        points_delta: int = 0,
        amount_fen: int = 0,
        tender: str | None = None,
        related_entry_id: str | None = None,
        payload: dict[str, Any] | None = None,
        entry_id: str | None = None,
        business_time: str | None = None,
    ) -> LedgerEntry:
        """Append one entry after the current head and return it (already in the session)."""
        (fields,) = self.append_rows(
            [
                {
                    "kind": kind,
                    "member_id": member_id,
                    "card_id": card_id,
                    "principal_delta": principal_delta,
                    "bonus_delta": bonus_delta,
                    "points_delta": points_delta,
                    "amount_fen": amount_fen,
                    "tender": tender,
                    "related_entry_id": related_entry_id,
                    "payload": payload,
                    "entry_id": entry_id,
                    "business_time": business_time,
                }
            ]
        )
        entry = LedgerEntry(**fields)
        self.session.add(entry)
        return entry

    def append_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk form of `append` for imports: returns complete row dicts for an executemany."""
        out = []
        seq, prev_hash = self.head()
        if self._macs is None and self.mac_key is not None:
            self._macs = mac_checker(self.mac_key)
        for row in rows:
            if self.guard is not None:
                self.guard(str(row["kind"]))
            seq += 1
            fields: dict[str, Any] = {
                "entry_id": row.get("entry_id") or new_id(),
                "store_id": self.store_id,
                "store_seq": seq,
                "kind": str(row["kind"]),
                "member_id": row.get("member_id"),
                "card_id": row.get("card_id"),
                "operator_id": self.operator_id,
                "approved_by_id": self.approved_by_id,
                "business_time": row.get("business_time") or self.now_iso,
                "wall_time": self.now_iso,
                "principal_delta": row.get("principal_delta", 0),
                "bonus_delta": row.get("bonus_delta", 0),
                "points_delta": row.get("points_delta", 0),
                "amount_fen": row.get("amount_fen", 0),
                "tender": row.get("tender"),
                "related_entry_id": row.get("related_entry_id"),
                "rules_version": self.rules_version,
                "payload": canonical_payload(row.get("payload")),
                "till_id": self.till_id,
            }
            fields["hash"] = chain_hash(prev_hash, fields)
            fields["prev_hash"] = prev_hash
            fields["mac"] = self._macs.mac(fields["hash"]) if self._macs else None
            prev_hash = fields["hash"]
            out.append(fields)
        self._head = (seq, prev_hash)
        return out

    @property
    def appended(self) -> bool:
        """Whether this transaction wrote any entry (its head moved)."""
        return self._head is not None and self._start is not None and self._head[0] > self._start

    @property
    def head_after(self) -> tuple[int, str] | None:
        """(seq, hash) of the last entry this transaction wrote, or None."""
        return self._head if self.appended else None
