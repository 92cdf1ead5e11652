"""`pos-hq verify` re-checks each till's chain as HQ holds it: exit 0 when whole, 3 when not."""

from __future__ import annotations

import json
import uuid

from click.testing import CliRunner, Result
from sqlalchemy import create_engine, delete, select, update
from sqlalchemy.orm import Session

from hq.cli import main
from hq.models import HqLedgerEntry, Till
from pos_app.domain.ledger_chain import GENESIS_HASH, chain_hash

STORE_UUID = str(uuid.uuid4())
OPERATOR = str(uuid.uuid4())


def hq(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", url, "--json", *args])


def till_with_chain(url: str, length: int) -> None:
    """SH01-01 holding `length` entries hashed as the till hashes them, acknowledged."""
    for args in (("init",), ("store", "add", "--code", "SH01", "--name", "徐汇店")):
        assert hq(url, *args).exit_code == 0
    assert hq(url, "till", "enroll", "--store", "SH01").exit_code == 0
    engine = create_engine(url)
    try:
        with Session(engine) as session, session.begin():
            till = session.scalars(select(Till).where(Till.code == "SH01-01")).one()
            prev = GENESIS_HASH
            for seq in range(1, length + 1):
                fields: dict[str, object] = {
                    "entry_id": str(uuid.uuid4()),
                    "store_id": STORE_UUID,
                    "store_seq": seq,
                    "kind": "sale",
                    "member_id": None,
                    "card_id": None,
                    "operator_id": OPERATOR,
                    "approved_by_id": None,
                    "business_time": f"2026-03-02T02:00:{seq:02d}.000000+00:00",
                    "wall_time": f"2026-03-02T02:00:{seq:02d}.000000+00:00",
                    "principal_delta": 0,
                    "bonus_delta": 0,
                    "points_delta": 0,
                    "amount_fen": 1_000 * seq,
                    "tender": "cash",
                    "related_entry_id": None,
                    "rules_version": 1,
                    "payload": '{"lines":1}',
                }
                digest = chain_hash(prev, fields)
                row = {k: v for k, v in fields.items() if k not in ("store_id", "store_seq")}
                session.add(
                    HqLedgerEntry(
                        till_id=till.id,
                        seq=seq,
                        source_store_id=STORE_UUID,
                        prev_hash=prev,
                        hash=digest,
                        received_at="2026-03-02T02:01:00.000000+00:00",
                        **row,
                    )
                )
                prev = digest
            till.acked_seq, till.head_hash = length, (prev if length else None)
    finally:
        engine.dispose()


def change(url: str, statement: object) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(statement)  # type: ignore[call-overload]
    finally:
        engine.dispose()


def problems(result: Result) -> list[tuple[int, str]]:
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False
    return [(p["seq"], p["problem"]) for p in data["problems"]]


def test_a_whole_chain_verifies(hq_url):
    till_with_chain(hq_url, 5)
    result = hq(hq_url, "verify")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "ok": True,
        "tills": 1,
        "entries": 5,
        "cards": 0,
        "problems": [],
    }


def test_a_till_without_entries_verifies(hq_url):
    till_with_chain(hq_url, 0)
    assert hq(hq_url, "verify").exit_code == 0


def test_a_changed_amount_is_a_bad_hash(hq_url):
    till_with_chain(hq_url, 5)
    change(hq_url, update(HqLedgerEntry).where(HqLedgerEntry.seq == 3).values(amount_fen=1))
    assert problems(hq(hq_url, "verify")) == [(3, "bad_hash")]


def test_a_missing_entry_is_a_gap_and_a_broken_link(hq_url):
    till_with_chain(hq_url, 5)
    change(hq_url, delete(HqLedgerEntry).where(HqLedgerEntry.seq == 3))
    assert problems(hq(hq_url, "verify")) == [(4, "gap"), (4, "broken_link")]


def test_a_truncated_tail_disagrees_with_the_acknowledged_head(hq_url):
    till_with_chain(hq_url, 5)
    change(hq_url, delete(HqLedgerEntry).where(HqLedgerEntry.seq == 5))
    assert problems(hq(hq_url, "verify")) == [(5, "head_mismatch")]
