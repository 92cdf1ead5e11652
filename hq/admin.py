"""HQ administration: regions, stores, till enrollment tokens, and the per-till status."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hq.errors import HqError, HqInvalidInput
from hq.models import EnrollmentToken, Fork, HqLedgerEntry, Region, Store, Till

STORE_CODE = re.compile(r"[A-Z0-9]{2,16}")
TOKEN_LIFETIME = timedelta(hours=24)
MAX_TILLS_PER_STORE = 99  # the till number is two digits: SH01-01 … SH01-99


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_code(code: str, what_zh: str, what_en: str) -> None:
    if not STORE_CODE.fullmatch(code):
        raise HqInvalidInput(
            f"{what_zh}代码应为 2–16 位大写字母或数字：{code!r}",
            f"A {what_en} code is 2-16 upper-case letters or digits: {code!r}",
        )


def _check_name(name: str, what_zh: str, what_en: str) -> str:
    name = name.strip()
    if not name or len(name) > 80 or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise HqInvalidInput(
            f"{what_zh}名称应为 1–80 个字符（一行）",
            f"A {what_en} name is 1-80 characters on one line",
        )
    return name


def add_region(session: Session, code: str, name: str, now: datetime) -> Region:
    """A region (大区): stores grouped under a region manager."""
    _check_code(code, "大区", "region")
    name = _check_name(name, "大区", "region")
    if session.scalar(select(Region.id).where(Region.code == code)) is not None:
        raise HqError("already_exists", f"大区 {code} 已存在", f"Region {code} already exists")
    region = Region(code=code, name=name, created_at=iso(now))
    session.add(region)
    session.flush()
    return region


def region_by_code(session: Session, code: str) -> Region:
    region = session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise HqError("not_found", f"没有大区 {code}", f"No region {code}")
    return region


def store_by_code(session: Session, code: str) -> Store:
    store = session.scalar(select(Store).where(Store.code == code))
    if store is None:
        raise HqError("not_found", f"没有门店 {code}", f"No store {code}")
    return store


def add_store(
    session: Session, code: str, name: str, now: datetime, region_code: str | None = None
) -> Store:
    """A store of the chain, in a region when `region_code` is given (its tills then hear
    what HQ publishes to that region)."""
    if not STORE_CODE.fullmatch(code):
        raise HqInvalidInput(
            f"门店代码应为 2–16 位大写字母或数字：{code!r}",
            f"A store code is 2-16 upper-case letters or digits: {code!r}",
        )
    name = name.strip()
    if not name or len(name) > 80:
        raise HqInvalidInput("门店名称应为 1–80 个字符", "A store name is 1-80 characters")
    region = region_by_code(session, region_code) if region_code is not None else None
    if session.scalar(select(Store.id).where(Store.code == code)) is not None:
        raise HqError("already_exists", f"门店 {code} 已存在", f"Store {code} already exists")
    store = Store(
        code=code,
        name=name,
        created_at=iso(now),
        region_id=region.id if region is not None else None,
    )
    session.add(store)
    session.flush()
    return store


@dataclass(frozen=True)
class Enrollment:
    till: str
    token: str  # shown once; HQ keeps only its hash
    expires_at: str


def enroll_till(
    session: Session, store_code: str, now: datetime, till_code: str | None = None
) -> Enrollment:
    """A new till of the store, numbered after its highest, and its one-time token.

    With `till_code`, a fresh token for an existing till of the store instead (a till whose
    disk died: redeeming the token replaces its public key). Its earlier unused tokens
    expire now, so only the newest one enrolls."""
    store = store_by_code(session, store_code)
    if till_code is not None:
        till = session.scalar(select(Till).where(Till.code == till_code, Till.store_id == store.id))
        if till is None:
            raise HqError(
                "not_found",
                f"门店 {store_code} 没有收银台 {till_code}",
                f"Store {store_code} has no till {till_code}",
            )
        session.execute(
            update(EnrollmentToken)
            .where(EnrollmentToken.till_id == till.id, EnrollmentToken.used_at.is_(None))
            .values(expires_at=iso(now))
        )
    else:
        till = _new_till(session, store, now)
    token = secrets.token_urlsafe(32)
    expires = iso(now + TOKEN_LIFETIME)
    session.add(
        EnrollmentToken(
            till_id=till.id, token_hash=token_hash(token), issued_at=iso(now), expires_at=expires
        )
    )
    session.flush()
    return Enrollment(till=till.code, token=token, expires_at=expires)


def _new_till(session: Session, store: Store, now: datetime) -> Till:
    codes = session.scalars(select(Till.code).where(Till.store_id == store.id)).all()
    number = max((int(code.rsplit("-", 1)[1]) for code in codes), default=0) + 1
    if number > MAX_TILLS_PER_STORE:
        raise HqError(
            "limit_reached",
            f"门店 {store.code} 的收银台已满 {MAX_TILLS_PER_STORE} 台",
            f"Store {store.code} already has {MAX_TILLS_PER_STORE} tills",
        )
    till = Till(code=f"{store.code}-{number:02d}", store_id=store.id, enrolled_at=iso(now))
    session.add(till)
    session.flush()
    return till


def till_status(session: Session) -> list[dict[str, object]]:
    """Every till, by store and till code, with what HQ holds of its chain."""
    entries = (
        select(func.count())
        .select_from(HqLedgerEntry)
        .where(HqLedgerEntry.till_id == Till.id)
        .scalar_subquery()
    )
    forks = select(func.count()).select_from(Fork).where(Fork.till_id == Till.id).scalar_subquery()
    rows = session.execute(
        select(
            Store.code, Till.code, Till.acked_seq, Till.head_hash, entries, forks, Till.last_seen
        )
        .join(Store, Store.id == Till.store_id)
        .order_by(Store.code, Till.code)
    ).all()
    return [
        {
            "store": store,
            "till": till,
            "acked_seq": acked,
            "head_hash": head,
            "entries": n_entries,
            "forks": n_forks,
            "last_seen": seen,
        }
        for store, till, acked, head, n_entries, n_forks, seen in rows
    ]
