"""`pos-hq verify`: re-check every till's chain as HQ holds it.

Per till: the sequence runs 1, 2, 3 … with no gap, each entry's hash is the SHA-256 of its
predecessor's hash and its own fields (the till's own rule, pos_app.domain.ledger_chain), and
the till's acknowledged head is the last entry held. The till's MACs are not checked: their
key stays on the till. Entries are streamed in seq order, so memory does not grow with the
ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hq.models import HqLedgerEntry, Store, Till
from pos_app.domain.ledger_chain import GENESIS_HASH, HASHED_FIELDS, chain_hash


@dataclass(frozen=True)
class ChainProblem:
    till: str
    seq: int
    code: str  # "gap", "broken_link", "bad_hash", "head_mismatch"
    zh: str
    en: str


@dataclass(frozen=True)
class TillChain:
    till: str
    entries: int
    problems: tuple[ChainProblem, ...]


def hashed_fields(entry: HqLedgerEntry) -> dict[str, object]:
    """The fields the till hashed, by the till's names (its store_seq is HQ's seq; the
    till id it names, hashed when set, is HQ's source_till_id)."""
    renamed = {"store_id": "source_store_id", "store_seq": "seq"}
    fields = {name: getattr(entry, renamed.get(name, name)) for name in HASHED_FIELDS}
    fields["till_id"] = entry.source_till_id
    return fields


def verify_tills(session: Session) -> list[TillChain]:
    tills = session.execute(
        select(Till).join(Store, Store.id == Till.store_id).order_by(Store.code, Till.code)
    ).scalars()
    return [_verify_till(session, till) for till in tills.all()]


def _verify_till(session: Session, till: Till) -> TillChain:
    problems: list[ChainProblem] = []

    def problem(seq: int, code: str, zh: str, en: str) -> None:
        problems.append(ChainProblem(till.code, seq, code, zh, en))

    prev, expected, count = GENESIS_HASH, 1, 0
    rows = session.scalars(
        select(HqLedgerEntry)
        .where(HqLedgerEntry.till_id == till.id)
        .order_by(HqLedgerEntry.seq)
        .execution_options(yield_per=1000)
    )
    for entry in rows:
        count += 1
        if entry.seq != expected:
            problem(
                entry.seq,
                "gap",
                f"序号不连续：应为 {expected}，实为 {entry.seq}",
                f"Sequence gap: expected {expected}, found {entry.seq}",
            )
        if entry.prev_hash != prev:
            problem(
                entry.seq,
                "broken_link",
                "与前一条记录的哈希链接断开",
                "The link to the previous entry's hash is broken",
            )
        if chain_hash(entry.prev_hash, hashed_fields(entry)) != entry.hash:
            problem(
                entry.seq,
                "bad_hash",
                "记录内容与其哈希不符",
                "The entry's content does not match its hash",
            )
        prev, expected = entry.hash, entry.seq + 1
    last_seq = expected - 1
    head = prev if count else None
    if (till.acked_seq, till.head_hash) != (last_seq, head):
        problem(
            till.acked_seq,
            "head_mismatch",
            f"已确认的链头（{till.acked_seq}）与所存记录（{last_seq}）不符",
            f"The acknowledged head ({till.acked_seq}) is not the last entry held ({last_seq})",
        )
    return TillChain(till.code, count, tuple(problems))
