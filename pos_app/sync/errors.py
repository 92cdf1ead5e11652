"""Why a sync request did not go through, each with a code and a message in Chinese and English.

Two kinds matter to the pusher: `HqUnreachable` (the network or HQ is down: try again later,
nothing is wrong with the data) and `HqRefused` (HQ answered and said no: its JSON code says
why, e.g. `sync_gap`, `sync_fork`, `sync_bad_signature`).
"""

from __future__ import annotations

from typing import Any

from pos_app.domain.errors import DomainError


class SyncError(DomainError):
    code = "sync"


class SyncNotConfigured(SyncError):
    """This till is not enrolled with HQ yet."""

    code = "sync_not_configured"


class HqAddressRefused(SyncError):
    """An HQ address the till will not talk to (plain http off the machine, not a URL)."""

    code = "sync_hq_url"


class HqUnreachable(SyncError):
    """No answer from HQ: refused connection, timeout, cut connection, TLS failure, or an
    answer that is not HQ's (a proxy's 502). Retrying later is the cure."""

    code = "sync_unreachable"


class HqRefused(SyncError):
    """HQ answered with a refusal: `code` is HQ's (sync_gap, sync_fork, enroll_token_invalid,
    …), `status` the HTTP status and `body` HQ's JSON object (seq, acked_seq, …)."""

    code = "sync_refused"

    def __init__(self, zh: str, en: str, *, code: str, status: int, body: dict[str, Any]):
        super().__init__(zh, en, code=code)
        self.status = status
        self.body = body


def not_configured() -> SyncNotConfigured:
    return SyncNotConfigured(
        "本收银机还没有连接总部：请先运行 pos-app sync setup --hq URL --token T",
        "This till is not connected to HQ yet: run pos-app sync setup --hq URL --token T first",
    )
