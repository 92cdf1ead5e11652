"""Test helpers that talk to HQ as a till does: an Ed25519 key, requests signed with
`pos_app.domain.sync_signing.sign_request`, and chains of ledger entries hashed with the
till's own rule (`ledger_chain.chain_hash`), shaped like the till's entries on the wire."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from hq import admin
from hq.models import Store
from pos_app.domain.ledger_chain import GENESIS_HASH, chain_hash
from pos_app.domain.sync_signing import public_key_bytes, sign_request

STORE_UUID = "0b1e4c52-6c1f-4f7e-9a77-3f2d8a1c0001"
OTHER_STORE_UUID = "0b1e4c52-6c1f-4f7e-9a77-3f2d8a1c0002"
CASHIER = "5d0c7f8e-1111-4a2b-8c3d-000000000001"
MEMBER = "7a9b0c1d-2222-4e3f-8a4b-000000000001"
CARD = "9c8d7e6f-3333-4a5b-9c6d-000000000001"


@dataclass
class SigningTill:
    """A till's identity: its code and private key (the public half goes to HQ)."""

    code: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def public_key(self) -> str:
        return base64.b64encode(public_key_bytes(self.key)).decode("ascii")

    def headers(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        now: datetime | None = None,
        nonce: str | None = None,
        till: str | None = None,
    ) -> dict[str, str]:
        signed = sign_request(
            self.key, till or self.code, method, path, body, now or datetime.now(UTC), nonce
        )
        return {**signed, "Content-Type": "application/json"}


def body_of(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def entry_fields(seq: int, till: str | None, store_id: str) -> dict[str, Any]:
    """Hashed fields of a realistic entry: sales, top-ups and card payments in turn."""
    moment = datetime(2026, 3, 2, 1, 0, tzinfo=UTC) + timedelta(seconds=37 * seq)
    kind = ("purchase", "topup", "sv_payment")[seq % 3]
    amount = 1_000 + (seq * 137) % 50_000
    on_card = kind != "purchase"
    principal = {"purchase": 0, "topup": amount, "sv_payment": -amount // 2}[kind]
    return {
        "entry_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{store_id}/{till}/{seq}")),
        "store_id": store_id,
        "store_seq": seq,
        "till_id": till,
        "kind": kind,
        "member_id": MEMBER if on_card else None,
        "card_id": CARD if on_card else None,
        "operator_id": CASHIER,
        "approved_by_id": None,
        "business_time": moment.isoformat(timespec="microseconds"),
        "wall_time": moment.isoformat(timespec="microseconds"),
        "principal_delta": principal,
        "bonus_delta": 0,
        "points_delta": amount // 100 if kind == "purchase" else 0,
        "amount_fen": amount,
        "tender": {"purchase": "cash", "topup": "wechat", "sv_payment": "stored_value"}[kind],
        "related_entry_id": None,
        "rules_version": 1,
        "payload": json.dumps(
            {"receipt_no": f"SH01-01-260302-{seq:04d}", "lines": seq % 5 + 1},
            sort_keys=True,
            separators=(",", ":"),
        ),
    }


def to_wire(fields: dict[str, Any], prev_hash: str) -> dict[str, Any]:
    """An entry as the till sends it: `store_seq` as `seq`, with its links."""
    wire = {k: v for k, v in fields.items() if k != "store_seq"}
    wire.update(seq=fields["store_seq"], prev_hash=prev_hash, hash=chain_hash(prev_hash, fields))
    return wire


def chain(
    count: int,
    *,
    start: int = 1,
    prev_hash: str = GENESIS_HASH,
    till: str | None = "SH01-01",
    store_id: str = STORE_UUID,
) -> list[dict[str, Any]]:
    entries = []
    for seq in range(start, start + count):
        entry = to_wire(entry_fields(seq, till, store_id), prev_hash)
        prev_hash = entry["hash"]
        entries.append(entry)
    return entries


def rehash(entries: list[dict[str, Any]], prev_hash: str) -> list[dict[str, Any]]:
    """The entries with their hashes made right again after a test changed one."""
    out = []
    for entry in entries:
        fields = {k: v for k, v in entry.items() if k not in ("seq", "prev_hash", "hash")}
        fields["store_seq"] = entry["seq"]
        fixed = to_wire(fields, prev_hash)
        prev_hash = fixed["hash"]
        out.append(fixed)
    return out


def add_store_and_till(session: Session, store: str = "SH01") -> str:
    """A store (added if new) with one more till; the till's one-time enrollment token."""
    now = datetime.now(UTC)
    if session.scalar(select(Store.id).where(Store.code == store)) is None:
        admin.add_store(session, store, f"门店 {store}", now)
    return admin.enroll_till(session, store, now).token


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port in a thread; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def enroll(client: httpx.Client, till: SigningTill, token: str) -> httpx.Response:
    return client.post(
        "/v1/enroll", json={"token": token, "till": till.code, "public_key": till.public_key}
    )
