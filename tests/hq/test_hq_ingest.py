"""POST /v1/tills/{till}/batches and the signed GETs: HQ's ingest rules (docs/sync-protocol.md),
on SQLite and PostgreSQL, through the real FastAPI app (and a real uvicorn for the happy path)."""

from __future__ import annotations

import json
import threading

import httpx
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hq.cli import main
from hq.ingest import MAX_BATCH_ITEMS
from hq.models import Fork, HqLedgerEntry, HqRow, Till
from hq.server import create_app
from pos_app.domain.ledger_chain import GENESIS_HASH
from tests.hq.conftest import Hq
from tests.hq.signing_till import OTHER_STORE_UUID, body_of, chain, rehash, served

SALE_ROW = {
    "outbox_id": 7,
    "table": "sale",
    "key": ["0190a1b2-0000-7000-8000-000000000001"],
    "op": "I",
    "data": {"id": "0190a1b2-0000-7000-8000-000000000001", "total_fen": 2_580, "kind": "sale"},
}


def held(hq: Hq) -> list[tuple[int, str]]:
    with Session(hq.engine) as session:
        return [
            (seq, digest)
            for seq, digest in session.execute(
                select(HqLedgerEntry.seq, HqLedgerEntry.hash).order_by(HqLedgerEntry.seq)
            )
        ]


def count(hq: Hq, model: type) -> int:
    with Session(hq.engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_batch_goes_up_over_real_http_and_comes_back_as_sent(hq: Hq):
    entries = chain(25)
    with served(create_app(hq.engine)) as base, httpx.Client(base_url=base) as client:
        path = "/v1/tills/SH01-01/batches"
        body = body_of({"entries": entries, "rows": [SALE_ROW]})
        answer = client.post(path, content=body, headers=hq.till.headers("POST", path, body))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "acked_seq": 25,
            "head_hash": entries[-1]["hash"],
            "acked_outbox_id": 7,
            "accepted": 25,
            "duplicates": 0,
            "rows": 1,
        }
        path = "/v1/tills/SH01-01/entries?after=10&limit=5"
        back = client.get(path, headers=hq.till.headers("GET", path))
        assert back.status_code == 200, back.text
        assert back.json() == {"entries": entries[10:15]}
        path = "/v1/tills/SH01-01/head"
        head = client.get(path, headers=hq.till.headers("GET", path)).json()
    assert head == {
        "till": "SH01-01",
        "store": "SH01",
        "acked_seq": 25,
        "head_hash": entries[-1]["hash"],
        "acked_outbox_id": 7,
        "forks": 0,
    }
    status = hq.status()["SH01-01"]
    assert (status["acked_seq"], status["entries"], status["forks"]) == (25, 25, 0)
    assert status["last_seen"] is not None
    verified = CliRunner().invoke(main, ["--db", hq.url, "--json", "verify"])
    assert verified.exit_code == 0, verified.output


def test_entries_arrive_in_consecutive_batches(hq: Hq):
    entries = chain(30)
    for start in range(0, 30, 10):
        answer = hq.push(entries[start : start + 10])
        assert answer.status_code == 200, answer.text
        assert answer.json()["acked_seq"] == start + 10
    assert held(hq) == [(e["seq"], e["hash"]) for e in entries]


def test_a_resent_batch_is_a_no_op_counted_as_duplicates(hq: Hq):
    entries = chain(10)
    assert hq.push(entries[:6]).status_code == 200
    again = hq.push(entries)  # 1-6 held, 7-10 new
    assert again.status_code == 200, again.text
    assert (again.json()["accepted"], again.json()["duplicates"]) == (4, 6)
    same = hq.push(entries)
    assert same.json() == {**again.json(), "accepted": 0, "duplicates": 10, "rows": 0}
    assert len(held(hq)) == 10


def test_a_fork_is_refused_kept_aside_and_counted(hq: Hq):
    entries = chain(5)
    assert hq.push(entries).status_code == 200
    forked = [dict(e) for e in entries[3:]]
    forked[0]["amount_fen"] += 1  # a different seq 4, re-hashed: a valid but other history
    forked = rehash(forked, entries[2]["hash"])
    answer = hq.push(forked)
    assert answer.status_code == 409
    assert answer.json()["code"] == "sync_fork"
    assert answer.json()["seq"] == 4
    assert answer.json()["held_hash"] == entries[3]["hash"]
    assert answer.json()["received_hash"] == forked[0]["hash"]
    assert {"zh", "en"} <= set(answer.json())
    assert held(hq) == [(e["seq"], e["hash"]) for e in entries]  # nothing replaced
    assert hq.push(forked).status_code == 409  # resent: still one fork row
    assert hq.status()["SH01-01"]["forks"] == 1
    with Session(hq.engine) as session:
        fork = session.scalars(select(Fork)).one()
        assert (fork.seq, fork.received_hash) == (4, forked[0]["hash"])
        assert json.loads(fork.received_record)["amount_fen"] == forked[0]["amount_fen"]
    head = hq.get("/v1/tills/SH01-01/head").json()
    assert (head["forks"], head["acked_seq"]) == (1, 5)


def test_a_new_entry_that_does_not_follow_hqs_head_is_a_fork(hq: Hq):
    assert hq.push(chain(3)).status_code == 200
    elsewhere = chain(1, start=4, prev_hash="a" * 64)  # restored from an old copy
    answer = hq.push(elsewhere)
    assert answer.status_code == 409 and answer.json()["code"] == "sync_fork"
    assert answer.json()["seq"] == 4
    assert hq.status()["SH01-01"]["forks"] == 1


def test_a_batch_after_a_gap_is_refused_with_hqs_head(hq: Hq):
    entries = chain(10)
    assert hq.push(entries[:3]).status_code == 200
    answer = hq.push(entries[5:])
    assert answer.status_code == 409
    assert answer.json()["code"] == "sync_gap"
    assert answer.json()["acked_seq"] == 3
    assert len(held(hq)) == 3
    assert hq.push(entries[3:]).status_code == 200


def test_a_bad_hash_in_the_middle_keeps_nothing_of_the_batch(hq: Hq):
    entries = chain(10)
    entries[6]["amount_fen"] += 100  # changed after hashing
    answer = hq.push(entries, [SALE_ROW])
    assert answer.status_code == 422
    assert answer.json()["code"] == "sync_bad_entry"
    assert answer.json()["seq"] == 7
    assert held(hq) == [] and count(hq, HqRow) == 0
    assert hq.status()["SH01-01"]["acked_seq"] == 0


def test_entries_of_another_store_are_forbidden_and_nothing_is_kept(hq: Hq):
    entries = chain(5)
    assert hq.push(entries[:2]).status_code == 200
    other_store = chain(3, start=3, prev_hash=entries[1]["hash"], store_id=OTHER_STORE_UUID)
    answer = hq.push(other_store, [SALE_ROW])
    assert answer.status_code == 403 and answer.json()["code"] == "sync_forbidden"
    assert len(held(hq)) == 2 and count(hq, HqRow) == 0


def test_a_failure_in_the_database_rolls_back_the_whole_batch(hq: Hq):
    """Entry 3 of the second till reuses an entry id HQ holds: the insert fails part-way
    through the batch, and neither its entries nor its rows are kept."""
    mine = chain(2)
    assert hq.push(mine).status_code == 200
    second = hq.new_till()
    theirs = chain(5, till="SH01-02")
    theirs[2]["entry_id"] = mine[0]["entry_id"]
    answer = hq.push(rehash(theirs, GENESIS_HASH), [SALE_ROW], signer=second)
    assert answer.status_code == 422
    assert answer.json()["code"] == "sync_bad_entry"
    assert len(held(hq)) == 2 and count(hq, HqRow) == 0
    assert hq.status()["SH01-02"]["acked_seq"] == 0


def test_malformed_entries_are_refused(hq: Hq):
    good = chain(2)
    broken_link = [good[0], {**good[1], "prev_hash": "b" * 64}]
    for entries in (
        [{**good[0], "seq": "1"}],
        [{**good[0], "amount_fen": 1.5}],
        [{**good[0], "amount_fen": True}],
        [{k: v for k, v in good[0].items() if k != "kind"}],
        [{**good[0], "hash": "X" * 64}],
        [{**good[0], "kind": "x" * 33}],
        [{**good[0], "payload": "nul\x00"}],
        [good[1], good[0]],
        broken_link,
        ["not an object"],
    ):
        answer = hq.push(entries)
        assert answer.status_code == 422, (entries, answer.text)
        assert answer.json()["code"] == "sync_bad_entry"
    assert held(hq) == []


def test_a_batch_over_a_thousand_records_is_refused(hq: Hq):
    entries = chain(MAX_BATCH_ITEMS)
    answer = hq.push(entries, [SALE_ROW])
    assert answer.status_code == 413
    assert answer.json()["code"] == "sync_batch_too_large"
    assert hq.push(entries).status_code == 200
    assert hq.status()["SH01-01"]["entries"] == MAX_BATCH_ITEMS


def test_rows_keep_their_newest_version_and_come_back_in_outbox_order(hq: Hq):
    card_v1 = {"outbox_id": 3, "table": "card", "key": ["c1"], "op": "I", "data": {"id": "c1"}}
    card_v2 = {**card_v1, "outbox_id": 9, "op": "U", "data": {"id": "c1", "principal_fen": 50}}
    line = {"outbox_id": 5, "table": "sale_line", "key": ["s1", 1], "op": "I", "data": {"q": 2}}
    gone = {"outbox_id": 11, "table": "held_sale", "key": ["h1"], "op": "D", "data": None}
    answer = hq.push(rows=[card_v1, line, card_v2, gone])
    assert answer.status_code == 200, answer.text
    assert answer.json()["acked_outbox_id"] == 11
    assert hq.push(rows=[card_v1]).status_code == 200  # an older version, resent: no change
    rows = hq.get("/v1/tills/SH01-01/rows?after=0").json()["rows"]
    assert rows == [line, card_v2, gone]
    assert hq.get("/v1/tills/SH01-01/rows?after=5&limit=1").json()["rows"] == [card_v2]
    assert hq.get("/v1/tills/SH01-01/head").json()["acked_outbox_id"] == 11


def test_malformed_rows_are_refused(hq: Hq):
    for row in (
        {**SALE_ROW, "outbox_id": 0},
        {**SALE_ROW, "table": "Sale; drop"},
        {**SALE_ROW, "key": []},
        {**SALE_ROW, "op": "X"},
        {**SALE_ROW, "op": "D"},
        {**SALE_ROW, "data": None},
    ):
        answer = hq.push(rows=[row])
        assert answer.status_code == 422, row
        assert answer.json()["code"] == "invalid_input"
    assert count(hq, HqRow) == 0


def test_the_query_limits_are_checked(hq: Hq):
    for query in ("limit=0", "limit=1001", "after=-1", "after=x"):
        answer = hq.get(f"/v1/tills/SH01-01/entries?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["code"] == "invalid_input"


def test_two_pushes_of_one_till_at_once_append_once(hq: Hq):
    entries = chain(400)
    assert hq.push(entries[:1]).status_code == 200
    answers: list[httpx.Response] = []
    start = threading.Barrier(4)

    def push() -> None:
        start.wait()
        answers.append(hq.push(entries))

    threads = [threading.Thread(target=push) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert sorted(a.json()["accepted"] for a in answers) == [0, 0, 0, 399]
    assert held(hq) == [(e["seq"], e["hash"]) for e in entries]
    with Session(hq.engine) as session:
        till = session.scalars(select(Till)).one()
        assert (till.acked_seq, till.head_hash) == (400, entries[-1]["hash"])


def test_a_second_till_of_the_store_keeps_its_own_chain(hq: Hq):
    second = hq.new_till()
    assert second.code == "SH01-02"
    mine, theirs = chain(3), chain(4, till="SH01-02")
    assert hq.push(mine).status_code == 200
    assert hq.push(theirs, signer=second).status_code == 200
    status = hq.status()
    assert (status["SH01-01"]["entries"], status["SH01-02"]["entries"]) == (3, 4)
    assert theirs[0]["prev_hash"] == GENESIS_HASH
