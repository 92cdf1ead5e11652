"""Setting up a store: the store row, its first admin, more operators."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from db.engine import write_session
from db.ledger import LedgerWriter, new_id
from db.models import Operator, Store, Till, own_store
from pos_app.domain.control_chars import refuse_control_chars
from pos_app.domain.errors import AlreadyExists, InvalidInput
from pos_app.domain.permissions import Permission, Role
from pos_app.domain.till_id import check_till_id, default_till_id
from pos_app.services.audit import record
from pos_app.services.auth import Actor
from pos_app.services.chain_head import write_head
from pos_app.services.context import StoreContext
from pos_app.services.credentials import hash_secret
from pos_app.services.operator_records import record_operator_change
from pos_app.services.rules_store import current_rules
from pos_app.services.store_secret import create_keys
from pos_app.services.use_case import UseCase, use_case

MIN_PASSWORD_LENGTH = 6


@dataclass(frozen=True)
class StoreInfo:
    store_id: str
    code: str
    name: str
    till_id: str | None = None


@dataclass(frozen=True)
class OperatorInfo:
    operator_id: str
    login: str
    name: str
    role: str


def _check_login(login: str) -> str:
    login = login.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{2,32}", login):
        raise InvalidInput(
            f"登录名不正确：{login!r}（2–32 位字母、数字、_ . -）",
            f"Not a valid login: {login!r} (2–32 letters, digits, _ . -)",
        )
    return login


def check_new_password(password: str) -> None:
    """The minimum a password must meet (at sign-up, a change or a reset)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"密码至少 {MIN_PASSWORD_LENGTH} 位",
            f"A password has at least {MIN_PASSWORD_LENGTH} characters",
        )


MAX_STORE_NAME_CHARS = 80  # the store row's column


def _check_store_name(name: str) -> str:
    """The store's name as it heads receipts: trimmed, 1 to 80 characters, one line."""
    new_name = refuse_control_chars(name.strip(), "门店名称", "store name")
    if not new_name:
        raise InvalidInput("门店名称不能为空", "The store name cannot be empty")
    if len(new_name) > MAX_STORE_NAME_CHARS:
        raise InvalidInput(
            f"门店名称太长（最多 {MAX_STORE_NAME_CHARS} 字）",
            f"The store name is too long (at most {MAX_STORE_NAME_CHARS} characters)",
        )
    return new_name


def init_store(
    ctx: StoreContext,
    store_code: str,
    store_name: str,
    admin_login: str,
    admin_password: str,
    admin_name: str = "管理员",
    timezone: str = "Asia/Shanghai",
    till_id: str | None = None,
) -> StoreInfo:
    """Create the store, this installation's till (`till_id`, by default the store's till
    01) and its first admin. Refused if the store is already set up."""
    code = store_code.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{2,12}", code):
        raise InvalidInput(
            f"门店编码不正确：{store_code!r}（2–12 位字母或数字）",
            f"Not a valid store code: {store_code!r} (2–12 letters or digits)",
        )
    till = check_till_id(code, till_id) if till_id is not None else default_till_id(code)
    store_name = _check_store_name(store_name)
    admin_name = refuse_control_chars(admin_name.strip(), "姓名", "name")
    login = _check_login(admin_login)
    check_new_password(admin_password)
    password_hash = hash_secret(admin_password)
    keys = None
    try:
        with write_session(ctx.engine) as session:
            existing = session.scalars(select(Store)).first()
            if existing is not None:
                raise AlreadyExists(
                    f"门店已初始化：{existing.code} {existing.name}",
                    f"This store is already set up: {existing.code} {existing.name}",
                )
            now = ctx.now_iso()
            store = Store(
                id=new_id(), code=code, name=store_name.strip(), timezone=timezone, created_at=now
            )
            admin = Operator(
                id=new_id(),
                login=login,
                name=admin_name,
                role=Role.ADMIN.value,
                password_hash=password_hash,
                active=True,
                created_at=now,
            )
            session.add_all([store, admin])
            session.flush()
            session.add(Till(id=till, store_id=store.id, created_at=now))
            session.flush()
            # The key is made with the store, before its first entry: a store set up by this
            # version never has an unsealed entry.
            keys = create_keys(ctx.key_dir, store.id, 1, now)
            version, rules = current_rules(session)
            ledger = LedgerWriter(
                session=session,
                store_id=store.id,
                operator_id=admin.id,
                rules_version=version,
                now_iso=now,
                mac_key=keys.ledger_mac,
                till_id=till,
            )
            uc = UseCase(ctx, session, ledger, rules, None, keys)
            record_operator_change(uc, admin, "added")
            record(session, now, admin.id, "store.init", target=code, detail={"till": till})
    except BaseException:
        if keys is not None:  # the key of a store that was never committed
            keys.path.unlink(missing_ok=True)
        raise
    ctx.forget_store()
    head = ledger.head_after
    if head is not None and ctx.data_dir is not None:
        write_head(keys, ctx.data_dir, head[0], head[1], now)
    return StoreInfo(store.id, store.code, store.name, till)


def add_operator(
    ctx: StoreContext, actor: Actor, login: str, name: str, role: str, password: str
) -> OperatorInfo:
    """An admin adds a cashier, manager or admin."""
    login = _check_login(login)
    try:
        role_value = Role(role)
    except ValueError:
        raise InvalidInput(
            f"角色不正确：{role}（cashier / manager / admin）",
            f"Not a role: {role} (cashier / manager / admin)",
        ) from None
    if not name.strip():
        raise InvalidInput("姓名不能为空", "The name cannot be empty")
    refuse_control_chars(name, "姓名", "name")
    check_new_password(password)
    with use_case(ctx, actor, Permission.OPERATOR_MANAGE, target=login) as uc:
        session = uc.session
        if session.scalars(select(Operator).where(Operator.login == login)).first():
            raise AlreadyExists(f"登录名已存在：{login}", f"The login is taken: {login}")
        op = Operator(
            id=new_id(),
            login=login,
            name=name.strip(),
            role=role_value.value,
            password_hash=hash_secret(password),
            active=True,
            created_at=ctx.now_iso(),
        )
        session.add(op)
        session.flush()
        record_operator_change(uc, op, "added")
        record(
            session,
            ctx.now_iso(),
            actor.operator_id,
            "operator.add",
            target=login,
            detail={"role": role_value.value},
        )
    return OperatorInfo(op.id, op.login, op.name, op.role)


def update_store_info(ctx: StoreContext, actor: Actor, name: str) -> StoreInfo:
    """An admin changes the store's name, which heads every receipt and report from now on
    (receipts already printed keep the old one). Audited with the old and the new name."""
    new_name = _check_store_name(name)
    with use_case(ctx, actor, Permission.STORE_EDIT, target="store") as uc:
        session = uc.session
        store = session.scalars(own_store()).one()
        old_name = store.name
        store.name = new_name
        record(
            session,
            uc.now_iso,
            actor.operator_id,
            "store.update",
            target=store.code,
            detail={"name": new_name, "was": old_name},
        )
        info = StoreInfo(store.id, store.code, store.name, ctx.till_id)
    ctx.forget_store()  # the cached row still has the old name
    return info
