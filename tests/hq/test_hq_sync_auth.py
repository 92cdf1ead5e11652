"""Every refusal of a signed request and of enrollment, with the protocol's status and code,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hq.cli import main
from hq.models import EnrollmentToken, FeedChange, HqLedgerEntry, HqNonce, HqRow, Store, Till
from hq.nonce_registry import DatabaseNonceRegistry
from hq.server import create_app
from pos_app.domain.sync_signing import HEADER_SIGNATURE, MAX_SKEW_SECONDS
from tests.hq.conftest import Hq
from tests.hq.signing_till import (
    STORE_UUID,
    SigningTill,
    add_store_and_till,
    body_of,
    chain,
    enroll,
)

NONCE = "n0nce-0f-a-test-request-0001"


def refused(response, status: int, code: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["zh"] and body["en"]
    return body  # type: ignore[no-any-return]


def entries_held(hq: Hq) -> int:
    with Session(hq.engine) as session:
        return int(session.scalar(select(func.count()).select_from(HqLedgerEntry)) or 0)


def test_an_unsigned_request_is_refused(hq: Hq):
    answer = hq.client.post("/v1/tills/SH01-01/batches", content=body_of({"entries": chain(1)}))
    refused(answer, 401, "sync_header_missing")
    refused(hq.client.get("/v1/tills/SH01-01/head"), 401, "sync_header_missing")
    assert entries_held(hq) == 0


def test_a_request_signed_with_another_key_is_refused(hq: Hq):
    impostor = SigningTill("SH01-01")  # the right name, a key HQ never saw
    refused(hq.push(chain(2), signer=impostor), 401, "sync_bad_signature")
    refused(hq.get("/v1/tills/SH01-01/entries", signer=impostor), 401, "sync_bad_signature")
    assert entries_held(hq) == 0


def test_a_changed_body_or_signature_is_refused(hq: Hq):
    path = "/v1/tills/SH01-01/batches"
    body = body_of({"entries": chain(2)})
    headers = hq.till.headers("POST", path, body)
    tampered = body.replace(b'"amount_fen": 1', b'"amount_fen": 9')
    assert tampered != body
    refused(hq.client.post(path, content=tampered, headers=headers), 401, "sync_body_mismatch")
    flipped = dict(headers)
    flipped[HEADER_SIGNATURE] = "A" + headers[HEADER_SIGNATURE][1:]
    refused(hq.client.post(path, content=body, headers=flipped), 401, "sync_bad_signature")
    # A signature for another path (the signed query differs) does not carry over.
    signed_for = hq.till.headers("GET", "/v1/tills/SH01-01/entries?after=0")
    answer = hq.client.get("/v1/tills/SH01-01/entries?after=5", headers=signed_for)
    refused(answer, 401, "sync_bad_signature")
    assert entries_held(hq) == 0


def test_an_unknown_till_is_refused(hq: Hq):
    stranger = SigningTill("SH09-01")
    refused(hq.push(chain(1, till="SH09-01"), signer=stranger), 401, "sync_unknown_till")


def test_a_till_enrolled_but_never_redeemed_is_unknown(hq: Hq):
    with Session(hq.engine) as session, session.begin():
        add_store_and_till(session)  # SH01-02 has a token but no key yet
    refused(hq.push(chain(1), signer=SigningTill("SH01-02")), 401, "sync_unknown_till")


def test_a_replayed_request_is_refused_even_by_a_restarted_hq(hq: Hq):
    entries = chain(2)
    assert hq.push(entries, nonce=NONCE).status_code == 200
    refused(hq.push(entries, nonce=NONCE), 409, "sync_replayed")
    with TestClient(create_app(hq.engine)) as restarted:  # the nonce lives in the database
        path = "/v1/tills/SH01-01/head"
        answer = restarted.get(path, headers=hq.till.headers("GET", path, nonce=NONCE))
        refused(answer, 409, "sync_replayed")
    # The same request with a fresh nonce is an ordinary duplicate.
    assert hq.push(entries).json()["duplicates"] == 2


def test_one_request_sent_twice_at_once_is_taken_once(hq: Hq):
    """Two copies of one signed request race: the nonce's primary key lets one through."""
    path = "/v1/tills/SH01-01/batches"
    body = body_of({"entries": chain(50), "rows": []})
    headers = hq.till.headers("POST", path, body, nonce=NONCE)
    answers: list[int] = []
    start = threading.Barrier(3)

    def send() -> None:
        start.wait()
        answers.append(hq.client.post(path, content=body, headers=headers).status_code)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409, 409]
    assert entries_held(hq) == 50


@pytest.mark.parametrize("seconds", [MAX_SKEW_SECONDS + 5, -(MAX_SKEW_SECONDS + 5)])
def test_a_request_from_a_clock_off_by_more_than_five_minutes_is_refused(hq: Hq, seconds):
    stamped = datetime.now(UTC) + timedelta(seconds=seconds)
    code = "sync_clock_ahead" if seconds > 0 else "sync_clock_behind"
    refused(hq.push(chain(1), now=stamped), 401, code)
    assert entries_held(hq) == 0
    within = datetime.now(UTC) + timedelta(seconds=seconds // 2)
    assert hq.push(chain(1), now=within).status_code == 200


def test_a_till_may_not_use_another_tills_path(hq: Hq):
    second = hq.new_till()
    refused(hq.push(chain(1, till="SH01-02"), path_till="SH01-02"), 403, "sync_forbidden")
    refused(hq.get("/v1/tills/SH01-02/head"), 403, "sync_forbidden")
    refused(hq.get("/v1/tills/SH01-02/entries"), 403, "sync_forbidden")
    refused(hq.get("/v1/tills/SH01-02/rows"), 403, "sync_forbidden")
    assert hq.get("/v1/tills/SH01-02/head", signer=second).status_code == 200


def test_a_till_may_not_send_another_tills_entries(hq: Hq):
    hq.new_till()
    refused(hq.push(chain(3, till="SH01-02")), 403, "sync_forbidden")
    refused(hq.push(chain(3, till="BJ01-01")), 403, "sync_forbidden")
    assert entries_held(hq) == 0


def test_a_till_may_not_send_another_tills_or_stores_rows(hq: Hq):
    till_row = {"outbox_id": 1, "table": "till", "key": ["SH01-02"], "op": "I"}
    refused(hq.push(rows=[{**till_row, "data": {"id": "SH01-02"}}]), 403, "sync_forbidden")
    store_row = {"outbox_id": 2, "table": "store", "key": ["u"], "op": "U"}
    refused(hq.push(rows=[{**store_row, "data": {"code": "BJ01"}}]), 403, "sync_forbidden")
    assert hq.push(rows=[{**store_row, "data": {"code": "SH01"}}]).status_code == 200


def test_a_till_sends_its_copy_of_another_stores_row_once_hq_knows_its_own(hq: Hq):
    """The down feed makes another store's row on a till (for its members); the till sends
    it up as its copy, to be restored from. Its own store it may not rename to another's."""
    assert hq.push(chain(1)).status_code == 200  # HQ now knows SH01-01's store id
    copy = {"outbox_id": 3, "table": "store", "key": ["bj"], "op": "I"}
    assert hq.push(rows=[{**copy, "data": {"id": "bj", "code": "BJ01"}}]).status_code == 200
    renamed = {"outbox_id": 4, "table": "store", "key": [STORE_UUID], "op": "U"}
    answer = hq.push(rows=[{**renamed, "data": {"id": STORE_UUID, "code": "BJ01"}}])
    refused(answer, 403, "sync_forbidden")
    with Session(hq.engine) as session:
        assert session.scalar(select(Store.id).where(Store.code == "BJ01")) is None
        rows = session.execute(select(HqRow.row_key, HqRow.outbox_id)).all()
        assert rows == [('["bj"]', 3)]
        assert not session.scalars(select(FeedChange).where(FeedChange.kind == "store")).all()


def test_nonces_older_than_twice_the_window_are_pruned(hq: Hq):
    with hq.engine.begin() as conn:
        registry = DatabaseNonceRegistry(conn)
        base = 1_800_000_000
        assert registry.seen_before("SH01-01", "a" * 22, base) is False
        assert registry.seen_before("SH01-01", "a" * 22, base + 10) is True
        assert registry.seen_before("SH01-02", "a" * 22, base) is False  # per till
        assert registry.seen_before("SH01-01", "b" * 22, base + 2 * MAX_SKEW_SECONDS + 1) is False
        held = conn.execute(select(HqNonce.till, HqNonce.nonce).order_by(HqNonce.till)).all()
    assert held == [("SH01-01", "b" * 22), ("SH01-02", "a" * 22)]


# Enrollment -----------------------------------------------------------------------------


def issue_token(hq: Hq) -> str:
    with Session(hq.engine) as session, session.begin():
        return add_store_and_till(session)  # SH01-02


def test_enrollment_answers_what_hq_holds_and_spends_the_token(hq: Hq):
    token = issue_token(hq)
    till = SigningTill("SH01-02")
    answer = enroll(hq.client, till, token)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "till": "SH01-02",
        "store": "SH01",
        "acked_seq": 0,
        "head_hash": None,
        "acked_outbox_id": 0,
    }
    refused(enroll(hq.client, till, token), 401, "enroll_token_invalid")
    refused(enroll(hq.client, till, "no-such-token"), 401, "enroll_token_invalid")
    assert hq.get("/v1/tills/SH01-02/head", signer=till).status_code == 200


def test_an_expired_token_is_refused(hq: Hq):
    token = issue_token(hq)
    later = datetime.now(UTC) + timedelta(hours=24, seconds=1)
    with TestClient(create_app(hq.engine, clock=lambda: later)) as client:
        refused(enroll(client, SigningTill("SH01-02"), token), 401, "enroll_token_invalid")


def test_a_token_for_another_till_is_refused_and_not_spent(hq: Hq):
    token = issue_token(hq)
    body = refused(enroll(hq.client, SigningTill("SH01-03"), token), 409, "enroll_till_mismatch")
    assert body["till"] == "SH01-02"
    assert enroll(hq.client, SigningTill("SH01-02"), token).status_code == 200


def test_a_malformed_enrollment_is_invalid_input(hq: Hq):
    token = issue_token(hq)
    for body in ({"token": token}, {"token": token, "till": "SH01-02", "public_key": "abc"}):
        refused(hq.client.post("/v1/enroll", json=body), 422, "invalid_input")
    answer = hq.client.post("/v1/enroll", content=b"{not json")
    refused(answer, 422, "invalid_input")


def test_re_enrolling_a_till_replaces_its_key_and_keeps_its_chain(hq: Hq):
    entries = chain(4)
    assert hq.push(entries).status_code == 200
    result = CliRunner().invoke(
        main, ["--db", hq.url, "--json", "till", "enroll", "--store", "SH01", "--till", "SH01-01"]
    )
    assert result.exit_code == 0, result.output
    issued = json.loads(result.stdout)
    assert issued["till"] == "SH01-01"
    rebuilt = SigningTill("SH01-01")  # a new disk, a new key
    answer = enroll(hq.client, rebuilt, issued["token"])
    assert answer.status_code == 200, answer.text
    assert (answer.json()["acked_seq"], answer.json()["head_hash"]) == (4, entries[-1]["hash"])
    refused(hq.push(chain(5)[4:]), 401, "sync_bad_signature")  # the old key no longer works
    assert hq.push(chain(5)[4:], signer=rebuilt).json()["acked_seq"] == 5
    with Session(hq.engine) as session:
        assert session.scalar(select(func.count()).select_from(Till)) == 1


def test_re_issuing_a_token_revokes_the_earlier_unused_one(hq: Hq):
    first = issue_token(hq)
    args = ["--db", hq.url, "--json", "till", "enroll", "--store", "SH01", "--till", "SH01-02"]
    assert CliRunner().invoke(main, args).exit_code == 0
    refused(enroll(hq.client, SigningTill("SH01-02"), first), 401, "enroll_token_invalid")
    unknown = CliRunner().invoke(main, [*args[:-1], "SH01-09"])
    assert unknown.exit_code == 1


def test_two_redemptions_of_one_token_at_once_enroll_one_key(hq: Hq):
    token = issue_token(hq)
    tills = [SigningTill("SH01-02") for _ in range(4)]
    answers: dict[int, int] = {}
    start = threading.Barrier(len(tills))

    def redeem(index: int) -> None:
        start.wait()
        answers[index] = enroll(hq.client, tills[index], token).status_code

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(len(tills))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) == [200, 401, 401, 401]
    winner = tills[next(i for i, status in answers.items() if status == 200)]
    with Session(hq.engine) as session:
        key = session.scalar(select(Till.public_key).where(Till.code == "SH01-02"))
    assert key == winner.public_key
    with Session(hq.engine) as session:
        token_row = session.scalars(select(EnrollmentToken).order_by(EnrollmentToken.id)).all()
    assert token_row[-1].used_at is not None
