"""People of the chain (HQ operators): added, listed, their password set, deactivated.

An operator has a till role (cashier, manager, admin) and a scope: the whole chain (`hq`), one
region or one store. Tills of the scope receive the operator through the down feed and seal
it with their own key; the same login and password sign in to the HQ console
(`verify_password`). The password is kept as the till keeps it (pos_app.domain.secret_hash),
so the hash that goes down works at every till unchanged.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from uuid6 import uuid7

from hq.admin import iso, region_by_code, store_by_code
from hq.errors import HqError, HqInvalidInput
from hq.feed_changes import Change, record_changes
from hq.models import HqAudit, HqOperator, Region, Store
from pos_app.domain.secret_hash import SALT_BYTES, scrypt_hash, verify_secret

ROLES = ("cashier", "manager", "admin")
SCOPES = ("hq", "region", "store")
LOGIN = re.compile(r"[A-Za-z0-9_.\-]{2,32}")  # as a till's logins
MIN_PASSWORD_LENGTH = 6  # as a till's passwords
# The tills' own operator for what HQ sends down (docs/chain-protocol.md): never a person.
RESERVED_LOGINS = frozenset({"hq-sync"})
_DUMMY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise HqInvalidInput(
            f"密码至少 {MIN_PASSWORD_LENGTH} 位",
            f"A password has at least {MIN_PASSWORD_LENGTH} characters",
        )


def _hash(password: str) -> str:
    return scrypt_hash(password, os.urandom(SALT_BYTES))


def feed_change(op: HqOperator) -> Change:
    """The feed change telling the operator's tills (and only those) about them."""
    return Change("operator", op.id, store_id=op.store_id, region_id=op.region_id)


def _audit(session: Session, now: str, action: str, target: str, detail: Any = None) -> None:
    session.add(
        HqAudit(at=now, actor=None, action=action, outcome="ok", target=target, detail=detail)
    )


def add_operator(
    session: Session,
    login: str,
    name: str,
    role: str,
    scope: str,
    password: str,
    now: datetime,
    region_code: str | None = None,
    store_code: str | None = None,
) -> HqOperator:
    """A person of the chain, with a till role over the whole chain, a region or a store."""
    login = login.strip()
    if not LOGIN.fullmatch(login) or login in RESERVED_LOGINS:
        raise HqInvalidInput(
            f"登录名不正确：{login!r}（2–32 位字母、数字、_ . -）",
            f"Not a valid login: {login!r} (2-32 letters, digits, _ . -)",
        )
    name = name.strip()
    if not name or len(name) > 40 or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise HqInvalidInput(
            "姓名应为 1–40 个字符（一行）", "A name is 1-40 characters on one line"
        )
    if role not in ROLES:
        raise HqInvalidInput(
            f"角色不正确：{role}（cashier / manager / admin）",
            f"Not a role: {role} (cashier / manager / admin)",
        )
    region: Region | None = None
    store: Store | None = None
    if scope == "hq":
        if region_code or store_code:
            raise HqInvalidInput(
                "总部范围的操作员不指定大区或门店",
                "An operator of scope hq names no region or store",
            )
    elif scope == "region":
        if not region_code or store_code:
            raise HqInvalidInput(
                "大区范围的操作员须用 --region 指定大区（不指定门店）",
                "An operator of scope region needs --region (and no --store)",
            )
        region = region_by_code(session, region_code)
    elif scope == "store":
        if not store_code or region_code:
            raise HqInvalidInput(
                "门店范围的操作员须用 --store 指定门店（不指定大区）",
                "An operator of scope store needs --store (and no --region)",
            )
        store = store_by_code(session, store_code)
    else:
        raise HqInvalidInput(
            f"范围不正确：{scope}（hq / region / store）",
            f"Not a scope: {scope} (hq / region / store)",
        )
    _check_password(password)
    if session.scalar(select(HqOperator.id).where(HqOperator.login == login)) is not None:
        raise HqError("already_exists", f"登录名已存在：{login}", f"The login is taken: {login}")
    at = iso(now)
    op = HqOperator(
        id=str(uuid7()),
        login=login,
        name=name,
        role=role,
        scope=scope,
        region_id=region.id if region else None,
        store_id=store.id if store else None,
        password_hash=_hash(password),
        active=True,
        created_at=at,
        updated_at=at,
    )
    session.add(op)
    session.flush()
    record_changes(session, [feed_change(op)], at)
    _audit(session, at, "operator.add", login, {"role": role, "scope": scope})
    return op


def operator_by_login(session: Session, login: str) -> HqOperator:
    op = session.scalar(select(HqOperator).where(HqOperator.login == login.strip()))
    if op is None:
        raise HqError("not_found", f"没有这个操作员：{login}", f"No such operator: {login}")
    return op


def set_password(session: Session, login: str, password: str, now: datetime) -> HqOperator:
    """A new password, at HQ and (at their next pull) at every till of the operator's scope."""
    _check_password(password)
    op = operator_by_login(session, login)
    op.password_hash = _hash(password)
    op.updated_at = iso(now)
    record_changes(session, [feed_change(op)], op.updated_at)
    _audit(session, op.updated_at, "operator.password", op.login)
    return op


def deactivate_operator(session: Session, login: str, now: datetime) -> HqOperator:
    """The operator signs in nowhere any more: not at HQ, and not at the tills once they pull."""
    op = operator_by_login(session, login)
    if not op.active:
        raise HqError(
            "already_inactive", f"{op.login} 已经停用", f"{op.login} is already deactivated"
        )
    op.active = False
    op.updated_at = iso(now)
    record_changes(session, [feed_change(op)], op.updated_at)
    _audit(session, op.updated_at, "operator.deactivate", op.login)
    return op


def list_operators(session: Session) -> list[dict[str, Any]]:
    """Every operator by login, with the region or store of their scope (never a hash)."""
    rows = session.execute(
        select(HqOperator, Region.code, Store.code)
        .outerjoin(Region, Region.id == HqOperator.region_id)
        .outerjoin(Store, Store.id == HqOperator.store_id)
        .order_by(HqOperator.login)
    ).all()
    return [
        {
            "login": op.login,
            "name": op.name,
            "role": op.role,
            "scope": op.scope,
            "region": region,
            "store": store,
            "active": op.active,
        }
        for op, region, store in rows
    ]


def verify_password(session: Session, login: str, password: str) -> HqOperator | None:
    """The active operator with this login and password, or None. An unknown login is
    checked against a dummy hash, so the time taken does not tell which logins exist."""
    op = session.scalar(select(HqOperator).where(HqOperator.login == login.strip()))
    ok = verify_secret(password, op.password_hash if op is not None else _DUMMY_HASH)
    if op is None or not ok or not op.active:
        return None
    return op


def reaches_till(op: HqOperator, store: Store) -> bool:
    """Whether the operator's scope covers a till of `store`."""
    if op.scope == "hq":
        return True
    if op.scope == "region":
        return op.region_id is not None and op.region_id == store.region_id
    return op.store_id == store.id
