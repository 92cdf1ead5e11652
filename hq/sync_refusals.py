"""What HQ answers when it refuses a till's request: an HTTP status, a stable code, a message
in Chinese and English, and the details the protocol names (docs/sync-protocol.md)."""

from __future__ import annotations

from typing import Any

from pos_app.domain.errors import DomainError


class SyncRefusal(DomainError):
    """A refused sync request. `details` go into the JSON answer next to code, zh and en."""

    code = "sync_refused"
    http_status = 400

    def __init__(self, zh: str, en: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(zh, en, code=code)
        self.details = details


class InvalidRequest(SyncRefusal):
    code = "invalid_input"
    http_status = 422


class BatchTooLarge(SyncRefusal):
    code = "sync_batch_too_large"
    http_status = 413


class BadEntry(SyncRefusal):
    """A malformed entry or one whose hash or link is wrong: nothing of the batch is kept."""

    code = "sync_bad_entry"
    http_status = 422


class ChainGap(SyncRefusal):
    """The batch starts after HQ's head: the till resends from `acked_seq`."""

    code = "sync_gap"
    http_status = 409


class ChainFork(SyncRefusal):
    """A different entry under a seq HQ holds: refused, kept aside in `fork`."""

    code = "sync_fork"
    http_status = 409
    entry: dict[str, Any]  # the refused entry, as HQ would have stored it


class EnrollTokenInvalid(SyncRefusal):
    code = "enroll_token_invalid"
    http_status = 401


class EnrollTillMismatch(SyncRefusal):
    code = "enroll_till_mismatch"
    http_status = 409


class TillNotFound(SyncRefusal):
    code = "not_found"
    http_status = 404
