"""The hash chain over ledger entries: canonical bytes and SHA-256 links, and the keyed MAC
that seals each entry.

Shared by the store (when writing and verifying) and by HQ (when importing), so it lives
in the domain: pure, deterministic, no database.

The chain itself is public arithmetic: anyone holding the file and this module can re-hash a
rewritten history. So every entry also carries `mac` = HMAC-SHA256(store key, hash), made with
a key that lives outside the database (see `pos_app.services.store_secret`): re-hashing a
history then needs the key as well as the file. The plain hash stays the link between entries
so that a party without the key (HQ) can still check the chain's links and contiguity.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
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
# Hashed only when set: entries written before till identity (chain version 1) have no till
# and must hash as they always did; every entry since names the till that wrote it.
HASHED_WHEN_SET = ("till_id",)


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """UTF-8 JSON of the hashed fields with sorted keys and no whitespace."""
    body = {name: fields.get(name) for name in HASHED_FIELDS}
    for name in HASHED_WHEN_SET:
        if fields.get(name) is not None:
            body[name] = fields[name]
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """hash = SHA-256(prev_hash as ASCII || canonical bytes), hex."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_bytes(fields))
    return digest.hexdigest()


def entry_mac(key: bytes, entry_hash: str) -> str:
    """The MAC sealing one entry: HMAC-SHA256 over its hash (hex text), hex."""
    return hmac.new(key, entry_hash.encode("utf-8"), hashlib.sha256).hexdigest()


class MacChecker:
    """`entry_mac` for millions of entries: the key's inner and outer pads are hashed once,
    so each entry costs two SHA-256 compressions and no `hmac` object (verify's hot loop)."""

    def __init__(self, key: bytes) -> None:
        block = 64  # SHA-256's block size (RFC 2104)
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\0")
        # The states after the key's padded blocks: copied, never updated in place.
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def mac(self, entry_hash: str) -> str:
        inner = self.inner.copy()
        # utf-8, not ascii: a hash column someone filled with other text must give a wrong
        # MAC, not an exception (for the hex of a real hash the two are the same bytes).
        inner.update(entry_hash.encode("utf-8"))
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


@functools.lru_cache(maxsize=8)
def mac_checker(key: bytes) -> MacChecker:
    """The MacChecker of a key, made once: every write transaction needs one, and making it
    hashes the key's two padded blocks."""
    return MacChecker(key)
