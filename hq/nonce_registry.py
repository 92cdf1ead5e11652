"""The nonces of accepted signed requests, in the HQ database (the registry
`pos_app.domain.sync_signing.verify_request` asks), so that a restarted HQ or a second
worker refuses a replay as the first would."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Connection, Table, delete

from hq.dialect_insert import conflict_insert
from hq.models import HqNonce
from pos_app.domain.sync_signing import MAX_SKEW_SECONDS

NONCES = cast(Table, HqNonce.__table__)


class DatabaseNonceRegistry:
    """Records (till, nonce) on `connection`; the caller commits.

    A request passes the clock check only within the skew window of now, so a nonce stamped
    t can be replayed only until t + window, and every later request of the till is stamped
    after now - window: the till's nonces older than its newest request's stamp minus twice
    the window are forgotten on each call (an index on (till, seen_at) keeps that cheap).
    Two requests with one nonce at once: the primary key lets only one insert win.
    """

    def __init__(self, connection: Connection, window_seconds: int = MAX_SKEW_SECONDS) -> None:
        self._connection = connection
        self._window = window_seconds

    def seen_before(self, till: str, nonce: str, timestamp: int) -> bool:
        self._connection.execute(
            delete(HqNonce).where(
                HqNonce.till == till, HqNonce.seen_at < timestamp - 2 * self._window
            )
        )
        # RETURNING, not rowcount: psycopg 3 reports no rowcount for this statement.
        inserted = self._connection.execute(
            conflict_insert(self._connection, NONCES)
            .values(till=till, nonce=nonce, seen_at=timestamp)
            .on_conflict_do_nothing()
            .returning(NONCES.c.nonce)
        ).first()
        return inserted is None
