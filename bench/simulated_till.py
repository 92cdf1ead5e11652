"""A till made of nothing but its chain, for the fleet benchmark: enrolled at HQ with an
Ed25519 key of its own, it makes hash-chained top-up entries in memory (as the ledger would
write them) and signs each batch as `pos_app.sync` does."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hq import admin
from pos_app.domain.ledger_chain import GENESIS_HASH, chain_hash
from pos_app.domain.sync_signing import public_key_bytes

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


@dataclass
class SimulatedTill:
    code: str
    token: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    store_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    operator: str = field(default_factory=lambda: str(uuid.uuid4()))
    seq: int = 0
    head: str = GENESIS_HASH

    def enroll_body(self) -> bytes:
        public = base64.b64encode(public_key_bytes(self.key)).decode("ascii")
        return json.dumps({"token": self.token, "till": self.code, "public_key": public}).encode()

    def entries(self, count: int) -> list[dict[str, Any]]:
        """The next `count` entries of the chain, in wire form."""
        out = []
        for _ in range(count):
            self.seq += 1
            moment = (START + timedelta(seconds=self.seq)).isoformat()
            fields: dict[str, Any] = {
                "entry_id": str(uuid.uuid4()),
                "store_id": self.store_uuid,
                "store_seq": self.seq,
                "kind": "topup",
                "member_id": str(uuid.uuid4()),
                "card_id": str(uuid.uuid4()),
                "operator_id": self.operator,
                "approved_by_id": None,
                "business_time": moment,
                "wall_time": moment,
                "principal_delta": 10_000,
                "bonus_delta": 500,
                "points_delta": 0,
                "amount_fen": 10_000,
                "tender": "cash",
                "related_entry_id": None,
                "rules_version": 1,
                "payload": json.dumps({"shift_no": f"{self.code}-S0001"}),
                "till_id": self.code,
            }
            entry_hash = chain_hash(self.head, fields)
            wire = dict(fields)
            wire["seq"] = wire.pop("store_seq")
            wire.update(prev_hash=self.head, hash=entry_hash)
            self.head = entry_hash
            out.append(wire)
        return out


def enroll_fleet(engine: Engine, tills: int, tills_per_store: int = 3) -> list[SimulatedTill]:
    """`tills` tills at HQ, `tills_per_store` to a store, each with its one-time token."""
    out = []
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        for index in range(tills):
            store = f"FL{index // tills_per_store:04d}"
            if index % tills_per_store == 0:
                admin.add_store(session, store, f"模拟门店 Simulated {store}", now)
            enrollment = admin.enroll_till(session, store, now)
            out.append(SimulatedTill(enrollment.till, enrollment.token))
    return out
