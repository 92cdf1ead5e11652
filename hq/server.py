"""The HQ's HTTP application (FastAPI; its schema at /openapi.json): enrollment, and the
signed endpoints tills push to and restore from (docs/sync-protocol.md).

Every refusal is JSON `{"code", "zh", "en", …details}` with the protocol's status. Signed
requests are checked by a dependency that reads the raw body (the signature covers its
hash), looks the till's public key up in the database and records the nonce there.
Handlers are plain functions: FastAPI runs them in its thread pool, so database work never
blocks the event loop.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hq import migrate
from hq.authorization import place_hold, release_hold
from hq.console.pages import console_app
from hq.console.session_secret import session_secret
from hq.engine import open_engine
from hq.enrollment import redeem
from hq.feed import DEFAULT_LIMIT as DEFAULT_FEED_LIMIT
from hq.feed import MAX_LIMIT as MAX_FEED_LIMIT
from hq.feed import pulling_till, read_feed
from hq.ingest import MAX_BATCH_ITEMS, entries_after, ingest_batch, rows_after
from hq.models import Fork, Store, Till
from hq.nonce_registry import DatabaseNonceRegistry
from hq.sync_refusals import BatchTooLarge, InvalidRequest, SyncRefusal
from pos_app.domain.errors import DomainError
from pos_app.domain.sync_signing import (
    SyncAuthError,
    SyncReplayed,
    check_owner,
    verify_request,
)

# A full batch of 1,000 entries with large payloads stays well under this.
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_ENROLL_BYTES = 16 * 1024


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SignedRequest:
    till: str  # the till whose key signed the request
    body: bytes

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidRequest(
                "请求内容不是有效的 JSON", "The request body is not valid JSON"
            ) from None


def refusal_response(error: DomainError) -> JSONResponse:
    if isinstance(error, SyncReplayed):
        status = 409  # the protocol's answer to a replay: the request was seen before
    elif isinstance(error, SyncAuthError | SyncRefusal):
        status = error.http_status
    else:
        status = 422
    body: dict[str, Any] = {"code": error.code, "zh": error.zh, "en": error.en}
    if isinstance(error, SyncRefusal):
        body.update(error.details)
    return JSONResponse(body, status_code=status)


def _verify(
    engine: Engine, now: datetime, method: str, path: str, headers: dict[str, str], body: bytes
) -> str:
    """The signing till, with the nonce recorded in the database (committed at once: a
    replay is refused whatever becomes of the request itself).

    On PostgreSQL this commit does not wait for its WAL flush: any change the request then
    makes commits durably after it, and that flush carries the nonce too (the WAL is one
    sequence); only a request that changed nothing could lose its nonce in a crash."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

        def public_key(till: str) -> bytes | None:
            text = conn.scalar(select(Till.public_key).where(Till.code == till))
            return base64.b64decode(text) if text else None

        return verify_request(
            public_key, method, path, headers, body, now, DatabaseNonceRegistry(conn)
        )


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) past `limit` bytes whether or not a length was announced:
    it is read before anything proves who sent it."""
    too_large = BatchTooLarge("请求过大", "The request is too large")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _signed(request: Request) -> SignedRequest:
    """The dependency of every signed endpoint: reads the raw body and checks the signature."""
    body = await _read_body(request, MAX_BODY_BYTES)
    # The signature covers the path exactly as sent, with its query string.
    path = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    query = request.scope.get("query_string", b"")
    target = path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    state = request.app.state
    till = await run_in_threadpool(
        _verify, state.engine, state.clock(), request.method, target, dict(request.headers), body
    )
    return SignedRequest(till, body)


Signed = Annotated[SignedRequest, Depends(_signed)]
Limit = Annotated[int, Query(ge=1, le=MAX_BATCH_ITEMS)]
After = Annotated[int, Query(ge=0)]


DB_ENVIRONMENT = "POS_HQ_DB"
TLS_ENVIRONMENT = "POS_HQ_TLS"


def app_from_environment() -> FastAPI:
    """The app on the database named by POS_HQ_DB: the factory each worker process of
    `pos-hq serve --workers N` calls (nonces and till locks live in the database, so
    workers need share nothing else)."""
    return create_app(open_engine(os.environ[DB_ENVIRONMENT]))


def create_app(
    engine: Engine,
    clock: Callable[[], datetime] = _utc_now,
    *,
    console_secret: str | None = None,
    secure_cookies: bool | None = None,
) -> FastAPI:
    """The HQ app: the signed till API, and the HQ console at /console (its session key
    from `console_secret`, else hq.console.session_secret; its cookie marked Secure when
    served over TLS, which POS_HQ_TLS=1 says for `pos-hq serve --cert`)."""
    app = FastAPI(title="pos-hq", summary="The chain HQ: tills' ledgers, synced", version="1")
    app.state.engine = engine
    app.state.clock = clock
    if secure_cookies is None:
        secure_cookies = os.environ.get(TLS_ENVIRONMENT) == "1"
    app.mount(
        "/console",
        console_app(
            engine,
            clock,
            console_secret or session_secret(engine.url),
            secure_cookies=secure_cookies,
        ),
    )

    @app.exception_handler(DomainError)
    async def _refused(_request: Request, error: DomainError) -> JSONResponse:
        return refusal_response(error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        where = "; ".join(".".join(str(p) for p in e.get("loc", ())) for e in error.errors())
        return refusal_response(
            InvalidRequest(f"请求参数不对：{where}", f"The request's parameters are wrong: {where}")
        )

    @app.get("/health")
    def health() -> dict[str, object]:
        """Up, and whether the database is at the schema this server was built for."""
        revision = migrate.current_revision(engine)
        return {"status": "ok", "schema_current": revision == migrate.head_revision(engine)}

    @app.post("/v1/enroll")
    async def enroll(request: Request) -> dict[str, object]:
        """A till redeems its one-time token and registers its Ed25519 public key (not
        signed: the token is the credential)."""
        body = SignedRequest("", await _read_body(request, MAX_ENROLL_BYTES)).json()

        def run() -> dict[str, object]:
            with Session(engine) as session, session.begin():
                return redeem(session, body, clock())

        return await run_in_threadpool(run)

    @app.post("/v1/tills/{till}/batches")
    def push_batch(till: str, signed: Signed) -> dict[str, object]:
        """Up to 1,000 ledger entries and replicated rows of the signing till, taken in one
        transaction; answers HQ's high-water marks."""
        check_owner(signed.till, till=till)
        return ingest_batch(engine, till, signed.body, clock()).as_json()

    @app.get("/v1/tills/{till}/head")
    def head(till: str, signed: Signed) -> dict[str, object]:
        """What HQ holds of the till: ask first, so a lost answer costs one round trip."""
        check_owner(signed.till, till=till)
        forks = select(func.count()).select_from(Fork).where(Fork.till_id == Till.id)
        with engine.connect() as conn:
            row = conn.execute(
                select(
                    Store.code,
                    Till.acked_seq,
                    Till.head_hash,
                    Till.acked_outbox_id,
                    forks.scalar_subquery(),
                )
                .join(Store, Store.id == Till.store_id)
                .where(Till.code == till)
            ).one()
        store, acked_seq, head_hash, acked_outbox_id, n_forks = row
        return {
            "till": till,
            "store": store,
            "acked_seq": acked_seq,
            "head_hash": head_hash,
            "acked_outbox_id": acked_outbox_id,
            "forks": n_forks,
        }

    @app.post("/v1/tills/{till}/ping")
    def ping(till: str, signed: Signed) -> dict[str, object]:
        """A signed request that does nothing: the baseline an authorization's round trip is
        measured against (bench/card_authorization.py), and a till's check that HQ answers."""
        check_owner(signed.till, till=till)
        return {"till": till}

    @app.post("/v1/tills/{till}/holds")
    def hold(till: str, signed: Signed) -> dict[str, object]:
        """Authorize a spend of stored value, points or coupons and hold it for the till's
        sale (docs/chain-protocol.md, "Spending a card anywhere")."""
        check_owner(signed.till, till=till)
        return place_hold(engine, till, signed.body, clock())

    @app.post("/v1/tills/{till}/holds/{hold_id}/release")
    def release(till: str, hold_id: str, signed: Signed) -> dict[str, object]:
        """The till's sale failed after its hold: the hold stops counting."""
        check_owner(signed.till, till=till)
        return release_hold(engine, till, hold_id, clock())

    def till_id_of(conn: Any, till: str) -> int:
        till_id: int = conn.scalar(select(Till.id).where(Till.code == till))
        return till_id

    @app.get("/v1/tills/{till}/entries")
    def entries(
        till: str, signed: Signed, after: After = 0, limit: Limit = MAX_BATCH_ITEMS
    ) -> dict[str, object]:
        """The till's entries after seq `after`, as sent up (a restore reads these)."""
        check_owner(signed.till, till=till)
        with engine.connect() as conn:
            return {"entries": entries_after(conn, till_id_of(conn, till), after, limit)}

    @app.get("/v1/tills/{till}/rows")
    def rows(
        till: str, signed: Signed, after: After = 0, limit: Limit = MAX_BATCH_ITEMS
    ) -> dict[str, object]:
        """The newest version of each of the till's rows after outbox id `after`."""
        check_owner(signed.till, till=till)
        with engine.connect() as conn:
            return {"rows": rows_after(conn, till_id_of(conn, till), after, limit)}

    @app.get("/v1/tills/{till}/feed")
    def feed(
        till: str,
        signed: Signed,
        after: After = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_FEED_LIMIT)] = DEFAULT_FEED_LIMIT,
    ) -> dict[str, object]:
        """The down feed (docs/chain-protocol.md): the current state of everything in the
        till's scope that changed after change id `after`, one item per key, in id order."""
        check_owner(signed.till, till=till)
        with Session(engine) as session, session.begin():
            return read_feed(session, pulling_till(session, till), after, limit).as_json()

    return app
