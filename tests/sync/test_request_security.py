"""HQ refuses what a till did not sign, signed otherwise, already sent, or sent for another
till: real tills' records against `pos-hq serve` (a real process), on SQLite and PostgreSQL.
After every refusal HQ holds exactly what the honest pushes gave it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from db.engine import read_session
from hq.engine import open_engine
from pos_app.domain.ledger_chain import chain_hash
from pos_app.domain.sync_signing import sign_request
from pos_app.services.sync_identity import load_private_key
from pos_app.sync.outbox import next_batch
from tests.sync_support.fault_proxy import FaultProxy
from tests.sync_support.hq_process import HqProcess
from tests.sync_support.tills import SyncedTill, enroll_at_hq, hq_chain, hq_entry_count

A, B = "SH01-01", "SH01-02"


@pytest.fixture
def hq(hq_url, tmp_path) -> Iterator[HqProcess]:
    with HqProcess(hq_url, tmp_path / "hq.log") as server:
        yield server


@pytest.fixture
def hq_engine(hq) -> Iterator[Engine]:
    engine = open_engine(hq.db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def tills(hq, hq_engine, new_till) -> tuple[SyncedTill, SyncedTill]:
    """Two tills of SH01, enrolled, with records HQ does not hold yet. (HQ's admin side is
    called in-process here: the pos-hq commands have their own tests, and each process
    start would cost a second.)"""
    out = []
    for code in (A, B):
        till = new_till(code)
        till.enroll(hq.url, enroll_at_hq(hq_engine))
        till.trade(4)
        out.append(till)
    return out[0], out[1]


def pending_body(till: SyncedTill) -> dict[str, Any]:
    with read_session(till.ctx.engine) as session:
        return next_batch(session, till.ctx.store.id, till.acked_seq(), 0).body()


def post(
    hq: HqProcess,
    path: str,
    body: dict[str, Any] | bytes,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        hq.url + path,
        content=content,
        headers={"Content-Type": "application/json", **(headers or {})},
        timeout=30,
    )


def signed(key: Ed25519PrivateKey, till: str, path: str, body: dict[str, Any]) -> tuple:
    content = json.dumps(body).encode()
    return content, sign_request(key, till, "POST", path, content, datetime.now(UTC))


def refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_an_unsigned_batch_is_refused(hq, hq_engine, tills):
    a, _ = tills
    response = post(hq, f"/v1/tills/{A}/batches", pending_body(a))
    assert response.status_code == 401
    assert response.json()["code"].startswith("sync_")
    assert hq_entry_count(hq_engine) == 0


def test_a_batch_signed_with_a_key_hq_does_not_know_is_refused(hq, hq_engine, tills):
    a, _ = tills
    path = f"/v1/tills/{A}/batches"
    content, headers = signed(Ed25519PrivateKey.generate(), A, path, pending_body(a))
    assert post(hq, path, content, headers).status_code == 401
    assert hq_entry_count(hq_engine) == 0


def test_a_batch_changed_after_signing_is_refused(hq, hq_engine, tills):
    a, _ = tills
    path = f"/v1/tills/{A}/batches"
    body = pending_body(a)
    content, headers = signed(load_private_key(a.ctx.key_dir, A), A, path, body)
    body["entries"] = body["entries"][:1]
    assert post(hq, path, body, headers).status_code == 401
    assert hq_entry_count(hq_engine) == 0


def test_a_recorded_push_replayed_is_refused_even_after_hq_was_killed(hq, hq_engine, tills):
    """An eavesdropper records the till's real push and sends it again later: the nonce is
    remembered in HQ's database, so even a kill -9 and restart in between does not help."""
    a, _ = tills
    with FaultProxy("127.0.0.1", hq.port) as proxy:
        a.point_at(proxy.url)
        assert a.push().ok
        [batch] = [r for r in proxy.records if r.request_line.startswith("POST ")]
        held = hq_chain(hq_engine, A)
        assert held == a.chain()
        hq.restart()  # kill -9, then the same database and port
        again = proxy.resend(batch)
    assert again.status == 409
    assert json.loads(again.body)["code"] == "sync_replayed"
    assert hq_chain(hq_engine, A) == held


def test_a_till_may_not_push_to_another_tills_path(hq, hq_engine, tills):
    a, b = tills
    path = f"/v1/tills/{B}/batches"
    content, headers = signed(load_private_key(a.ctx.key_dir, A), A, path, pending_body(b))
    assert refusal(post(hq, path, content, headers)) == (403, "sync_forbidden")
    assert hq_chain(hq_engine, B) == []
    assert b.push().ok  # B's own push is untouched by the attempt
    assert hq_chain(hq_engine, B) == b.chain()


def test_a_till_may_not_read_another_tills_records(hq, tills):
    a, b = tills
    assert b.push().ok
    key = load_private_key(a.ctx.key_dir, A)
    for path in (f"/v1/tills/{B}/head", f"/v1/tills/{B}/entries?after=0&limit=10"):
        headers = sign_request(key, A, "GET", path, b"", datetime.now(UTC))
        response = httpx.get(hq.url + path, headers=headers, timeout=30)
        assert refusal(response) == (403, "sync_forbidden")


def test_a_till_may_not_send_entries_that_name_another_till(hq, hq_engine, tills):
    """Till A, signing as itself on its own path, sends entries that say they are B's
    (re-hashed so the chain itself is sound): refused, nothing kept."""
    a, _ = tills
    body = pending_body(a)
    prev = body["entries"][0]["prev_hash"]
    for entry in body["entries"]:
        entry["till_id"] = B
        fields = dict(entry, store_seq=entry["seq"])
        entry["prev_hash"], entry["hash"] = prev, chain_hash(prev, fields)
        prev = entry["hash"]
    path = f"/v1/tills/{A}/batches"
    content, headers = signed(load_private_key(a.ctx.key_dir, A), A, path, body)
    assert refusal(post(hq, path, content, headers)) == (403, "sync_forbidden")
    assert hq_entry_count(hq_engine) == 0
    assert a.push().ok
    assert hq_chain(hq_engine, A) == a.chain()


def test_a_till_may_not_switch_to_another_stores_entries(hq, hq_engine, tills):
    """After HQ holds A's chain, A sends entries of a different store (its own path, its own
    key, chained onto HQ's head): refused as another store's data."""
    a, _ = tills
    assert a.push().ok
    a.trade(2)
    body = pending_body(a)
    prev = body["entries"][0]["prev_hash"]
    for entry in body["entries"]:
        entry["store_id"] = "0190aaaa-0000-7000-8000-000000000000"
        fields = dict(entry, store_seq=entry["seq"])
        entry["prev_hash"], entry["hash"] = prev, chain_hash(prev, fields)
        prev = entry["hash"]
    path = f"/v1/tills/{A}/batches"
    content, headers = signed(load_private_key(a.ctx.key_dir, A), A, path, body)
    held = hq_chain(hq_engine, A)
    assert refusal(post(hq, path, content, headers)) == (403, "sync_forbidden")
    assert hq_chain(hq_engine, A) == held
