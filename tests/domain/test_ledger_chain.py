"""The ledger's hash chain: canonical bytes and SHA-256 links."""

from __future__ import annotations

import hashlib
import json

from pos_app.domain.ledger_chain import GENESIS_HASH, HASHED_FIELDS, canonical_bytes, chain_hash

ENTRY = {
    "entry_id": "0190f5f0-0000-7000-8000-000000000001",
    "store_id": "s1",
    "store_seq": 1,
    "kind": "topup",
    "member_id": "m1",
    "card_id": "c1",
    "operator_id": "o1",
    "approved_by_id": None,
    "business_time": "2026-03-02T02:00:00.000001+00:00",
    "wall_time": "2026-03-02T02:00:00.000001+00:00",
    "principal_delta": 50000,
    "bonus_delta": 5000,
    "points_delta": 0,
    "amount_fen": 50000,
    "tender": "cash",
    "related_entry_id": None,
    "rules_version": 1,
    "payload": '{"reference":"收据1"}',
}


def test_canonical_bytes_are_sorted_compact_utf8_json_of_the_hashed_fields():
    raw = canonical_bytes({**ENTRY, "hash": "ignored", "prev_hash": "ignored"})
    body = json.loads(raw)
    assert list(body) == sorted(HASHED_FIELDS)
    assert b" " not in raw
    assert "收据1".encode() in raw  # not \u escapes
    assert canonical_bytes(dict(reversed(list(ENTRY.items())))) == raw


def test_missing_fields_hash_as_null():
    assert json.loads(canonical_bytes({"kind": "x"}))["member_id"] is None


def test_an_entry_without_a_till_hashes_as_before_till_identity():
    # The chain version 1 bytes of ENTRY, fixed: stores made before tills keep verifying.
    assert chain_hash(GENESIS_HASH, ENTRY) == chain_hash(GENESIS_HASH, {**ENTRY, "till_id": None})
    assert b"till_id" not in canonical_bytes(ENTRY)


def test_the_till_is_hashed_once_set():
    with_till = {**ENTRY, "till_id": "SH01-01"}
    assert json.loads(canonical_bytes(with_till))["till_id"] == "SH01-01"
    assert chain_hash(GENESIS_HASH, with_till) != chain_hash(GENESIS_HASH, ENTRY)
    assert chain_hash(GENESIS_HASH, with_till) != chain_hash(
        GENESIS_HASH, {**ENTRY, "till_id": "SH01-02"}
    )


def test_chain_hash_is_sha256_of_prev_hash_then_canonical_bytes():
    expected = hashlib.sha256(GENESIS_HASH.encode() + canonical_bytes(ENTRY)).hexdigest()
    assert chain_hash(GENESIS_HASH, ENTRY) == expected
    assert len(expected) == 64


def test_any_change_of_a_hashed_field_changes_the_hash():
    base = chain_hash(GENESIS_HASH, ENTRY)
    for name in HASHED_FIELDS:
        altered = {**ENTRY, name: f"{ENTRY[name]}x"}
        assert chain_hash(GENESIS_HASH, altered) != base, name
    assert chain_hash("1" * 64, ENTRY) != base


def test_each_link_depends_on_the_whole_history():
    first = chain_hash(GENESIS_HASH, ENTRY)
    second = chain_hash(first, {**ENTRY, "store_seq": 2})
    tampered_first = chain_hash(GENESIS_HASH, {**ENTRY, "amount_fen": 1})
    assert chain_hash(tampered_first, {**ENTRY, "store_seq": 2}) != second
