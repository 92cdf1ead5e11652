"""Signed sync requests: how a till proves to HQ that a request is its own, whole and fresh.

Both sides import this module: the till signs with `sign_request`, HQ checks with
`verify_request` and then `check_owner`. Nothing here does I/O; the clock is passed in, and
so is the nonce memory.

The signature (Ed25519, the till's own key) covers one canonical byte string: a version line,
then the method (upper-case), the path with its query string exactly as sent, the timestamp
(UTC, integer seconds), the nonce, the SHA-256 hex of the body and the till id, one per line.
Every field is checked to hold no line break or space first, so two different requests never
make the same string. The timestamp bounds how long a captured request stays usable (5 min
either way); the nonce, remembered for that long, makes it usable once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from pos_app.domain.errors import DomainError

HEADER_TILL = "X-POS-Till"
HEADER_TIMESTAMP = "X-POS-Timestamp"
HEADER_NONCE = "X-POS-Nonce"
HEADER_CONTENT_SHA256 = "X-POS-Content-SHA256"
HEADER_SIGNATURE = "X-POS-Signature"
SIGNED_HEADERS = (
    HEADER_TILL,
    HEADER_TIMESTAMP,
    HEADER_NONCE,
    HEADER_CONTENT_SHA256,
    HEADER_SIGNATURE,
)

MAX_SKEW_SECONDS = 5 * 60
NONCE_BYTES = 16
PUBLIC_KEY_BYTES = 32
_VERSION = b"pos-sync-request/v1"

_METHOD = re.compile(r"[A-Z]{1,16}")
# Printable ASCII without spaces: a path is sent percent-encoded, so this loses nothing.
_PATH = re.compile(r"/[\x21-\x7e]{0,4095}")
_TILL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{22,128}")  # 16+ random bytes, url-safe base64
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class SyncAuthError(DomainError):
    """HQ refuses a sync request; `http_status` is what it answers, `code` says why."""

    code = "sync_auth"
    http_status = 401


class SyncUnauthorized(SyncAuthError):
    """The request is not proven to come, unchanged and fresh, from an enrolled till (401).
    Codes: sync_header_missing, sync_header_malformed, sync_unknown_till, sync_clock_ahead,
    sync_clock_behind, sync_body_mismatch, sync_bad_signature."""

    code = "sync_unauthorized"
    http_status = 401


class SyncReplayed(SyncAuthError):
    """A validly signed request seen before: a copy, refused (401)."""

    code = "sync_replayed"
    http_status = 401


class SyncForbidden(SyncAuthError):
    """An enrolled till sends data of another till or store (403)."""

    code = "sync_forbidden"
    http_status = 403


class NonceRegistry(Protocol):
    """Remembers the nonces of accepted requests for at least the skew window."""

    def seen_before(self, till: str, nonce: str, timestamp: int) -> bool:
        """True if (till, nonce) was recorded before; otherwise records it and says False."""
        ...


class MemoryNonceRegistry:
    """Nonce memory in one process, bounded in time: a nonce is forgotten once its request
    could no longer pass the clock check anyway.

    It has no clock of its own; the newest timestamp recorded stands in for now. A request
    passes only with |timestamp - now| <= window, so the newest timestamp is at most
    now + window, and a nonce stamped t can be replayed only while now <= t + window; keeping
    everything newer than newest - 2 × window therefore forgets nothing that still matters.
    """

    def __init__(self, window_seconds: int = MAX_SKEW_SECONDS) -> None:
        self._window = window_seconds
        self._seen: dict[tuple[str, str], int] = {}
        self._by_time: list[tuple[int, str, str]] = []
        self._newest = 0

    def __len__(self) -> int:
        return len(self._seen)

    def seen_before(self, till: str, nonce: str, timestamp: int) -> bool:
        self._newest = max(self._newest, timestamp)
        horizon = self._newest - 2 * self._window
        while self._by_time and self._by_time[0][0] < horizon:
            _, old_till, old_nonce = heapq.heappop(self._by_time)
            self._seen.pop((old_till, old_nonce), None)
        key = (till, nonce)
        if key in self._seen:
            return True
        self._seen[key] = timestamp
        heapq.heappush(self._by_time, (timestamp, till, nonce))
        return False


def body_sha256(body: bytes) -> str:
    """The lower-case hex SHA-256 of a request body (empty body included)."""
    return hashlib.sha256(body).hexdigest()


def canonical_message(
    method: str, path: str, timestamp: int, nonce: str, content_sha256: str, till: str
) -> bytes:
    """The bytes a signature covers. Fields must already be valid (see `sign_request`)."""
    fields = (method, path, str(timestamp), nonce, content_sha256, till)
    return b"\n".join([_VERSION, *(f.encode("ascii") for f in fields)])


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key that HQ registers for the till."""
    return private_key.public_key().public_bytes_raw()


def sign_request(
    private_key: Ed25519PrivateKey,
    till: str,
    method: str,
    path: str,
    body: bytes,
    now: datetime,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers that sign one request. `path` is the path with its query string exactly
    as it will be sent; `now` is timezone-aware. A fresh random nonce is made unless one is
    given (tests give one)."""
    method = method.upper()
    timestamp = _epoch_seconds(now)
    if nonce is None:
        nonce = secrets.token_urlsafe(NONCE_BYTES)
    for value, pattern, name in (
        (method, _METHOD, "method"),
        (path, _PATH, "path"),
        (till, _TILL, "till"),
        (nonce, _NONCE, "nonce"),
    ):
        if not pattern.fullmatch(value):
            raise ValueError(f"cannot sign a request with this {name}: {value!r}")
    digest = body_sha256(body)
    signature = private_key.sign(canonical_message(method, path, timestamp, nonce, digest, till))
    return {
        HEADER_TILL: till,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_CONTENT_SHA256: digest,
        HEADER_SIGNATURE: base64.b64encode(signature).decode("ascii"),
    }


def verify_request(
    public_key_lookup: Callable[[str], bytes | None],
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    nonces: NonceRegistry,
) -> str:
    """The id of the till that signed this request, or a `SyncAuthError` saying why not.

    `public_key_lookup(till)` gives the till's raw 32-byte public key, or None when HQ does
    not know the till (or has revoked it). Header names are matched case-insensitively.
    The nonce is recorded only once the signature holds, so nobody can fill the memory or
    burn a till's nonces without its key.
    """
    given = {name.lower(): value for name, value in headers.items()}
    values: dict[str, str] = {}
    for name in SIGNED_HEADERS:
        value = given.get(name.lower())
        if value is None or value == "":
            raise SyncUnauthorized(
                f"同步请求缺少请求头 {name}",
                f"The sync request lacks the {name} header",
                code="sync_header_missing",
            )
        values[name] = value
    till = values[HEADER_TILL]
    nonce = values[HEADER_NONCE]
    claimed_digest = values[HEADER_CONTENT_SHA256]
    method = method.upper()
    checks = (
        (HEADER_TILL, till, _TILL),
        (HEADER_TIMESTAMP, values[HEADER_TIMESTAMP], _TIMESTAMP),
        (HEADER_NONCE, nonce, _NONCE),
        (HEADER_CONTENT_SHA256, claimed_digest, _SHA256_HEX),
        ("method", method, _METHOD),
        ("path", path, _PATH),
    )
    for name, value, pattern in checks:
        if not pattern.fullmatch(value):
            raise _malformed(name)
    signature = _decode_signature(values[HEADER_SIGNATURE])

    raw_key = public_key_lookup(till)
    if raw_key is None:
        raise SyncUnauthorized(
            f"总部不认识收银机 {till}（未登记或已停用）",
            f"HQ does not know till {till} (not enrolled, or revoked)",
            code="sync_unknown_till",
        )
    timestamp = int(values[HEADER_TIMESTAMP])
    _check_clock(timestamp, _epoch_seconds(now))
    if body_sha256(body) != claimed_digest:
        raise SyncUnauthorized(
            "同步请求的内容与其摘要不符（传输中被改动或截断）",
            "The sync request's body does not match its digest (changed or cut in transit)",
            code="sync_body_mismatch",
        )
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(
            signature, canonical_message(method, path, timestamp, nonce, claimed_digest, till)
        )
    except (InvalidSignature, ValueError):
        raise SyncUnauthorized(
            f"同步请求的签名不对（不是收银机 {till} 的密钥签的，或请求被改动）",
            f"The sync request's signature is wrong (not made with till {till}'s key, "
            "or the request was changed)",
            code="sync_bad_signature",
        ) from None
    if nonces.seen_before(till, nonce, timestamp):
        raise SyncReplayed(
            "同一个同步请求被重复发送（重放），已拒绝",
            "This sync request was sent before (a replay) and is refused",
        )
    return till


def store_of(till: str) -> str:
    """The store a till belongs to: its id up to the last hyphen ("SH01-01" → "SH01")."""
    store, hyphen, _ = till.rpartition("-")
    return store if hyphen else till


def check_owner(
    authenticated_till: str, *, till: str | None = None, store: str | None = None
) -> None:
    """Refuses (403) data that names another till, or another store, than the till that
    signed the request. Call it for every till and store a request carries."""
    if till is not None and till != authenticated_till:
        raise SyncForbidden(
            f"收银机 {authenticated_till} 不能发送收银机 {till} 的数据",
            f"Till {authenticated_till} may not send till {till}'s data",
        )
    if store is not None and store != store_of(authenticated_till):
        raise SyncForbidden(
            f"收银机 {authenticated_till} 不能发送门店 {store} 的数据",
            f"Till {authenticated_till} may not send store {store}'s data",
        )


def _epoch_seconds(now: datetime) -> int:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the time must be timezone-aware")
    return int(now.timestamp())


def _check_clock(timestamp: int, now: int) -> None:
    if timestamp - now > MAX_SKEW_SECONDS:
        raise SyncUnauthorized(
            f"收银机的时钟比总部快了 {timestamp - now} 秒（最多允许 {MAX_SKEW_SECONDS} 秒），"
            "请校准收银机时间",
            f"The till's clock is {timestamp - now} s ahead of HQ's (at most "
            f"{MAX_SKEW_SECONDS} s allowed); set the till's time right",
            code="sync_clock_ahead",
        )
    if now - timestamp > MAX_SKEW_SECONDS:
        raise SyncUnauthorized(
            f"收银机的时钟比总部慢了 {now - timestamp} 秒（最多允许 {MAX_SKEW_SECONDS} 秒），"
            "或请求在路上耽搁太久；请校准收银机时间",
            f"The till's clock is {now - timestamp} s behind HQ's (at most "
            f"{MAX_SKEW_SECONDS} s allowed), or the request was held up; set the till's time "
            "right",
            code="sync_clock_behind",
        )


def _decode_signature(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise _malformed(HEADER_SIGNATURE) from None
    if len(raw) != 64:
        raise _malformed(HEADER_SIGNATURE)
    return raw


def _malformed(name: str) -> SyncUnauthorized:
    return SyncUnauthorized(
        f"同步请求的 {name} 格式不对",
        f"The sync request's {name} is malformed",
        code="sync_header_malformed",
    )
