"""`POST /v1/enroll`: a till redeems its one-time token and registers its public key."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hq.admin import iso, token_hash
from hq.models import EnrollmentToken, Store, Till
from hq.sync_refusals import EnrollTillMismatch, EnrollTokenInvalid, InvalidRequest
from pos_app.domain.sync_signing import PUBLIC_KEY_BYTES


def decode_public_key(text: object) -> bytes:
    """The raw 32 bytes of an Ed25519 public key sent as base64, or a refusal."""
    try:
        raw = base64.b64decode(str(text).encode("ascii"), validate=True)
        if len(raw) != PUBLIC_KEY_BYTES:
            raise ValueError("length")
        Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidRequest(
            "public_key 应为 Ed25519 公钥（32 字节，base64）",
            "public_key must be an Ed25519 public key (32 bytes, base64)",
        ) from None
    return raw


def redeem(session: Session, body: object, now: datetime) -> dict[str, object]:
    """Spends the token, registers the key (replacing an earlier one: a re-enrolled till),
    and answers what HQ already holds of the till's chain (a restore starts from there)."""
    if not isinstance(body, dict) or not all(
        isinstance(body.get(name), str) for name in ("token", "till", "public_key")
    ):
        raise InvalidRequest(
            "登记请求应含 token、till、public_key", "An enrollment needs token, till, public_key"
        )
    public_key = base64.b64encode(decode_public_key(body["public_key"])).decode("ascii")
    invalid = EnrollTokenInvalid(
        "登记令牌无效、已用过或已过期", "The enrollment token is unknown, used or expired"
    )
    found = session.execute(
        select(EnrollmentToken, Till, Store.code)
        .join(Till, Till.id == EnrollmentToken.till_id)
        .join(Store, Store.id == Till.store_id)
        .where(EnrollmentToken.token_hash == token_hash(body["token"]))
    ).one_or_none()
    now_text = iso(now)
    if found is None:
        raise invalid
    token, till, store_code = found
    if token.used_at is not None or token.expires_at <= now_text:
        raise invalid
    if till.code != body["till"]:
        raise EnrollTillMismatch(
            f"此令牌属于收银台 {till.code}，不是 {body['till']}",
            f"This token is for till {till.code}, not {body['till']}",
            till=till.code,
        )
    # Spent by exactly one request even if two arrive at once.
    spent = session.execute(
        update(EnrollmentToken)
        .where(EnrollmentToken.id == token.id, EnrollmentToken.used_at.is_(None))
        .values(used_at=now_text)
        .returning(EnrollmentToken.id)
        .execution_options(synchronize_session=False)
    ).first()
    if spent is None:
        raise invalid
    till.public_key = public_key
    till.last_seen = now_text
    return {
        "till": till.code,
        "store": store_code,
        "acked_seq": till.acked_seq,
        "head_hash": till.head_hash,
        "acked_outbox_id": till.acked_outbox_id,
    }
