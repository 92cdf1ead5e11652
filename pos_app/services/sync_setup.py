"""Connecting a till to HQ: `pos-app sync setup --hq URL --token T [--ca FILE]`.

The till makes its Ed25519 key pair (`sync_identity`; the private key never leaves the key
folder), registers the public key with HQ under a one-time enrollment token, and records
HQ's address only once HQ has said yes: a refused or unreachable enrollment leaves the till
as it was (a key made for it is kept and used by the next try, since it was never sent).

A manager or admin does it (who the store's data goes to is theirs to decide), and it is
audited. A till already connected is refused unless `reenroll` is asked for: then a new key
pair replaces the old one (kept aside, renamed) once HQ accepts it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from db.engine import read_session, write_session
from db.models import SyncState, Till
from pos_app.domain.errors import (
    AlreadyExists,
    ApprovalRequired,
    AuthenticationFailed,
    DomainError,
    InvalidInput,
    PermissionDenied,
)
from pos_app.domain.permissions import Permission
from pos_app.services.audit import record, record_refusal
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.sync_identity import (
    create_key_pair,
    load_private_key,
    public_key_text,
    sync_key_path,
)
from pos_app.sync.client import HqClient, check_hq_url, tls_context
from pos_app.sync.errors import HqRefused
from pos_app.sync.state import STATE_ID

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SetupResult:
    till_id: str
    store_code: str
    hq_url: str
    acked_seq: int
    reenrolled: bool


def setup(
    ctx: StoreContext,
    actor: Actor,
    hq_url: str,
    token: str,
    ca_file: str | Path | None = None,
    *,
    reenroll: bool = False,
) -> SetupResult:
    """Enroll this till with HQ and record where HQ is (see the module's doc)."""
    url = check_hq_url(hq_url)
    ca = str(Path(ca_file).expanduser().resolve()) if ca_file else None
    tls_context(ca)  # an unreadable CA file is refused before anything is made
    token = token.strip()
    if not token:
        raise InvalidInput(
            "缺少总部发的登记令牌 --token", "The enrollment --token from HQ is missing"
        )
    store = ctx.store
    refused: DomainError | None = None
    with read_session(ctx.engine) as session:
        try:
            authorize(session, actor, Permission.SYNC_SETUP)
        except (PermissionDenied, ApprovalRequired, AuthenticationFailed) as exc:
            refused = exc
        state = session.get(SyncState, STATE_ID)
        till_id = session.scalar(select(Till.id).order_by(Till.id).limit(1))
        connected_to = state.hq_url if state else None
    if refused is not None:
        record_refusal(ctx, actor.operator_id, Permission.SYNC_SETUP.value, url, refused.en)
        raise refused
    till_id = till_id or f"{store.code}-01"  # a store made before tills had ids is till 01
    if connected_to is not None and not reenroll:
        raise AlreadyExists(
            f"本收银机 {till_id} 已经连接总部 {connected_to}；如要重新登记（换新密钥），"
            "请加 --reenroll 并使用总部新发的令牌",
            f"This till {till_id} is already connected to HQ at {connected_to}; to enroll it "
            "again (with a new key), add --reenroll and use a new token from HQ",
            code="sync_already_setup",
        )
    retired = _retire_key(ctx, till_id, ctx.now().strftime("%Y%m%d%H%M%S")) if reenroll else None
    try:
        public_key = _key_for_enrollment(ctx, till_id)
        with HqClient(url, till_id, None, ca, clock=ctx.clock) as hq:
            answer = hq.enroll(token, public_key)
        _check_answer(answer, till_id, store.code)
    except BaseException:
        if retired is not None:  # HQ still knows the old key: keep using it
            path = sync_key_path(ctx.key_dir, till_id)
            path.unlink(missing_ok=True)
            os.replace(retired, path)
        raise
    acked_seq = _count(answer.get("acked_seq"))
    now = ctx.now_iso()
    with write_session(ctx.engine) as session:
        if session.get(Till, till_id) is None:
            session.add(Till(id=till_id, store_id=store.id, created_at=now))
        state = session.get(SyncState, STATE_ID)
        if state is None:
            state = SyncState(id=STATE_ID)
            session.add(state)
        state.hq_url = url
        state.ca_file = ca
        state.store_code = store.code
        state.enrolled_at = now
        state.acked_seq = acked_seq
        head_hash = answer.get("head_hash")
        state.acked_hash = head_hash if isinstance(head_hash, str) else None
        state.acked_outbox_id = _count(answer.get("acked_outbox_id"))
        state.unreachable_since = None
        state.last_error = None
        state.fork_seq = None
        state.fork_detected_at = None
        record(
            session,
            now,
            actor.operator_id,
            "sync.setup",
            target=till_id,
            detail={"hq": url, "reenroll": reenroll, "ca_file": ca},
        )
    log.info("till %s enrolled with HQ at %s", till_id, url)
    return SetupResult(till_id, store.code, url, acked_seq, reenroll)


def _key_for_enrollment(ctx: StoreContext, till_id: str) -> str:
    """The public key to register: a new pair, or the one a failed try made and never sent
    anywhere but HQ's enroll endpoint (the private half never left the key folder)."""
    if sync_key_path(ctx.key_dir, till_id).exists():
        return public_key_text(load_private_key(ctx.key_dir, till_id))
    return create_key_pair(ctx.key_dir, till_id)


def _retire_key(ctx: StoreContext, till_id: str, stamp: str) -> Path | None:
    path = sync_key_path(ctx.key_dir, till_id)
    if not path.exists():
        return None
    aside = path.with_name(f"{path.name}.retired-{stamp}")
    os.replace(path, aside)
    return aside


def _check_answer(answer: dict[str, object], till_id: str, store_code: str) -> None:
    if answer.get("till") != till_id or answer.get("store") != store_code:
        raise HqRefused(
            f"总部登记的是收银机 {answer.get('till')}（门店 {answer.get('store')}），"
            f"不是本收银机 {till_id}（门店 {store_code}）",
            f"HQ enrolled till {answer.get('till')} (store {answer.get('store')}), not this "
            f"till {till_id} (store {store_code})",
            code="enroll_till_mismatch",
            status=200,
            body=dict(answer),
        )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
