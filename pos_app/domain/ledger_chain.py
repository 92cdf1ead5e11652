"""The hash chain over ledger entries: canonical bytes and SHA-256 links.

Shared by the store (when writing and verifying) and by HQ (when importing), so it lives
in the domain: pure, deterministic, no database.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64

# The fields covered by the hash, in the order they are documented. Adding a field means a
# new chain version; never change the meaning of an existing one.
HASHED_FIELDS = (
    "entry_id",
    "store_id",
    "store_seq",
    "kind",
    "member_id",
    "card_id",
    "operator_id",
    "approved_by_id",
    "business_time",
    "wall_time",
    "principal_delta",
    "bonus_delta",
    "points_delta",
    "amount_fen",
    "tender",
    "related_entry_id",
    "rules_version",
    "payload",
)


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """UTF-8 JSON of the hashed fields with sorted keys and no whitespace."""
    body = {name: fields.get(name) for name in HASHED_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """hash = SHA-256(prev_hash as ASCII || canonical bytes), hex."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_bytes(fields))
    return digest.hexdigest()
