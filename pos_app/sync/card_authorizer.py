"""Asking HQ to authorize a card spend before a sale (docs/chain-protocol.md, "Spending a card
anywhere"): `POST /v1/tills/{till}/holds`, and its release when the sale then fails.

Three outcomes: HQ held the amount (`Authorized`, with the card's and member's external
values to mirror), HQ could not be asked (`StandIn`: unreachable, too slow, or the card not
known there yet; the till then decides by its offline limits), or HQ declined (`HqDeclined`
raised: the sale is refused with HQ's reason, never stood in for).

The cashier waits for this call, so it gives up after 1.5 s; it runs before the sale's write
transaction, never under the till's write lock. Clients are kept per HQ and key, so a sale
does not pay for a new connection and TLS context each time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from pos_app.domain.errors import DomainError
from pos_app.services.sync_identity import load_private_key, sync_key_path
from pos_app.sync.client import HqClient
from pos_app.sync.errors import HqRefused, HqUnreachable, SyncError
from pos_app.sync.state import SyncConfig

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1.5
AUTH_TIMEOUT = httpx.Timeout(TIMEOUT_SECONDS)
# HQ's refusals that decline the spend: the sale is refused with HQ's reason.
DECLINE_CODES = frozenset(
    {"card_blocked", "insufficient_balance", "insufficient_points", "coupon_used"}
)


class HqDeclined(DomainError):
    """HQ said no to the spend; `code` is HQ's (card_blocked, insufficient_balance, …) and
    `details` its JSON answer's details (state, available_fen, coupon_id, till)."""

    def __init__(self, zh: str, en: str, *, code: str, details: dict[str, Any]) -> None:
        super().__init__(zh, en, code=code)
        self.details = details


@dataclass(frozen=True)
class HoldAsk:
    """What one sale takes from the chain, and the till's own position of the card and the
    member (from its ledger, pushed or not: HQ trusts it over its own copy)."""

    card_id: str | None
    member_id: str | None
    amount_fen: int
    points: int
    coupon_ids: tuple[str, ...]
    receipt_no: str | None = None
    own_principal_fen: int | None = None
    own_bonus_fen: int | None = None
    own_points: int | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "card_id": self.card_id,
            "member_id": self.member_id,
            "amount_fen": self.amount_fen,
            "points": self.points,
            "coupon_ids": list(self.coupon_ids),
            "receipt_no": self.receipt_no,
        }
        for name in ("own_principal_fen", "own_bonus_fen", "own_points"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body


@dataclass(frozen=True)
class Authorized:
    hold_id: str
    card: dict[str, Any] | None  # the card item (state, external_principal_fen, …)
    external_points: int | None
    coupon_holds: dict[str, str] = field(default_factory=dict)  # coupon id → its hold id


@dataclass(frozen=True)
class StandIn:
    """HQ could not authorize: why (for the log and the stand-in entries)."""

    reason: str


def authorize(
    config: SyncConfig, key_dir: Path, clock: Callable[[], datetime], ask: HoldAsk
) -> Authorized | StandIn:
    """Ask HQ to hold the spend. Raises `HqDeclined` when HQ says no."""
    try:
        answer = _client(config, key_dir, clock).post(
            f"/v1/tills/{config.till_id}/holds", ask.body()
        )
    except HqUnreachable as exc:
        log.warning("authorization: HQ unreachable, standing in: %s", exc.en)
        return StandIn(exc.code)
    except HqRefused as exc:
        if exc.code in DECLINE_CODES:
            details = {k: v for k, v in exc.body.items() if k not in ("code", "zh", "en")}
            raise HqDeclined(
                str(exc.body.get("zh") or exc.zh),
                str(exc.body.get("en") or exc.en),
                code=exc.code,
                details=details,
            ) from None
        # Anything else (a signature HQ no longer takes, an HQ without this endpoint) is not
        # the card's doing: the till stands in, within its offline limits, as when HQ is down.
        log.error("authorization: HQ refused (%s), standing in: %s", exc.code, exc.en)
        return StandIn(exc.code)
    try:
        return _authorized(answer)
    except (KeyError, TypeError, ValueError):
        log.error("authorization: HQ's answer is malformed, standing in")
        return StandIn("malformed_answer")


def release(config: SyncConfig, key_dir: Path, clock: Callable[[], datetime], hold_id: str) -> bool:
    """Release a hold whose sale failed (best effort: an unreleased hold expires at HQ by
    itself). True when HQ took the release."""
    try:
        _client(config, key_dir, clock).post(
            f"/v1/tills/{config.till_id}/holds/{hold_id}/release", {}
        )
    except (SyncError, DomainError) as exc:
        log.warning("authorization: could not release hold %s: %s", hold_id, exc.en)
        return False
    return True


def ping(config: SyncConfig, key_dir: Path, clock: Callable[[], datetime]) -> None:
    """A signed request that does nothing, over the same kept client: whether HQ answers,
    and the baseline an authorization's round trip is measured against."""
    _client(config, key_dir, clock).post(f"/v1/tills/{config.till_id}/ping", {})


def _authorized(answer: dict[str, Any]) -> Authorized:
    hold_id = answer["hold_id"]
    if not isinstance(hold_id, str) or not hold_id:
        raise ValueError("hold_id")
    card = answer.get("card")
    if card is not None:
        int(card["external_principal_fen"]), int(card["external_bonus_fen"])
    member = answer.get("member")
    points = int(member["external_points"]) if isinstance(member, dict) else None
    coupons = answer.get("coupon_holds") or {}
    return Authorized(hold_id, card, points, {str(k): str(v) for k, v in coupons.items()})


class _KeptClient:
    """One HQ client kept across sales; it signs with the clock of the store asking now."""

    def __init__(self, config: SyncConfig, key_dir: Path, clock: Callable[[], datetime]):
        self.clock = clock
        self.client = HqClient(
            config.hq_url,
            config.till_id,
            load_private_key(key_dir, config.till_id),
            config.ca_file,
            clock=lambda: self.clock(),
            timeout=AUTH_TIMEOUT,
        )


_kept: dict[tuple[str, str, str | None, str, int], _KeptClient] = {}
_kept_lock = threading.Lock()


def _client(config: SyncConfig, key_dir: Path, clock: Callable[[], datetime]) -> HqClient:
    """The kept client for this HQ and key file (a new key, e.g. after enrolling again,
    makes a new one)."""
    path = sync_key_path(key_dir, config.till_id)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = 0  # load_private_key explains what is wrong with the file
    cache_key = (config.hq_url, config.till_id, config.ca_file, str(path), stamp)
    with _kept_lock:
        kept = _kept.get(cache_key)
        if kept is None:
            kept = _kept[cache_key] = _KeptClient(config, key_dir, clock)
        kept.clock = clock
        return kept.client
