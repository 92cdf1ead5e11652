"""Employee cards (员工卡): an operator signs in, and a manager approves, by tapping a card.

An admin assigns a card to an operator. The operator table keeps only a keyed hash of the
card's (normalized) number — HMAC with the store's key over its SHA-256 — so the number
itself is never stored, and a copied table cannot be searched for the short card numbers
without the key, which lives outside the database; a tap is looked up by the same hash.
A card cannot be both a member card and an employee card: the reader could not tell which
one the cashier meant.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import write_session
from db.models import Card, Operator
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.errors import (
    AlreadyExists,
    ApprovalRequired,
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from pos_app.domain.members import check_card_no
from pos_app.domain.permissions import Permission, Role, check_approver
from pos_app.services.audit import record, record_refusal
from pos_app.services.auth import Actor, Approval
from pos_app.services.context import StoreContext
from pos_app.services.operator_records import record_operator_change, seal_matches
from pos_app.services.operator_records import tampered_operator as _tampered
from pos_app.services.store_secret import StoreKeys, key_path, missing_key_error
from pos_app.services.use_case import use_case


def key_legacy_card_hash(keys: StoreKeys, sha256_hex: str) -> str:
    """The keyed form of a card hash stored by an older version (a bare SHA-256 hex): keying
    the SHA-256 rather than the number lets a store be sealed without knowing the numbers."""
    return hmac.new(keys.employee_card, sha256_hex.encode("ascii"), hashlib.sha256).hexdigest()


def employee_card_hash(keys: StoreKeys, card_no: str) -> str:
    """The stored form of an employee card's number: HMAC (store key) of the SHA-256 hex of
    the normalized number."""
    plain = hashlib.sha256(check_card_no(card_no).encode("utf-8")).hexdigest()
    return key_legacy_card_hash(keys, plain)


def _keys(ctx: StoreContext) -> StoreKeys:
    keys = ctx.keys
    if keys is None:
        raise missing_key_error(key_path(ctx.key_dir, ctx.store.id))
    return keys


def _unknown_card() -> AuthenticationFailed:
    return AuthenticationFailed("无效的员工卡", "Unknown employee card")


def _masked(card_no: str) -> str:
    return mask_card_no(card_no.strip().upper())


def assign_employee_card(ctx: StoreContext, actor: Actor, login: str, card_no: str) -> None:
    """An admin gives an operator an employee card; it replaces the operator's earlier card
    (a lost one stops working at once). Refused for a card another operator holds and for
    a member card's number."""
    card_hash = employee_card_hash(_keys(ctx), card_no)
    number = check_card_no(card_no)
    login = login.strip()
    with use_case(ctx, actor, Permission.OPERATOR_MANAGE, target=login) as uc:
        session = uc.session
        operator = session.scalars(select(Operator).where(Operator.login == login)).first()
        if operator is None:
            raise NotFound(f"没有这个操作员：{login}", f"No such operator: {login}")
        if session.scalars(select(Card.id).where(Card.card_no == number)).first() is not None:
            masked = mask_card_no(number)
            raise InvalidInput(
                f"{masked} 是会员卡，不能用作员工卡",
                f"{masked} is a member card: it cannot be an employee card",
            )
        holder = _holder(session, card_hash)
        if holder is not None and holder.id != operator.id:
            raise AlreadyExists(
                f"这张员工卡已分配给 {holder.login}，请先给 {holder.login} 换卡",
                f"This employee card belongs to {holder.login}: give {holder.login} "
                "another card first",
            )
        operator.employee_card_hash = card_hash
        record_operator_change(uc, operator, "employee_card", {"card": mask_card_no(number)})
        record(
            session,
            uc.now_iso,
            actor.operator_id,
            "operator.employee_card",
            target=login,
            detail={"card": mask_card_no(number)},
        )


def _holder(session: Session, card_hash: str) -> Operator | None:
    return session.scalars(select(Operator).where(Operator.employee_card_hash == card_hash)).first()


def _card_operator(ctx: StoreContext, session: Session, card_no: str) -> Operator:
    keys = _keys(ctx)
    try:
        card_hash = employee_card_hash(keys, card_no)
    except InvalidInput:
        raise _unknown_card() from None  # a tap of something that is no card at all
    operator = _holder(session, card_hash)
    if operator is None or not operator.active:
        raise _unknown_card()
    if not seal_matches(keys, operator):
        raise _tampered()
    return operator


def sign_in_by_card(ctx: StoreContext, card_no: str) -> Actor:
    """An operator signs in by tapping their employee card; failures are audited."""
    try:
        with write_session(ctx.engine) as session:
            op = _card_operator(ctx, session, card_no)
            record(session, ctx.now_iso(), op.id, "sign_in", detail={"by": "employee_card"})
            return Actor.sealed(op.id, op.login, op.name, Role(op.role))
    except AuthenticationFailed:
        record_refusal(ctx, None, "sign_in", _masked(card_no), "unknown employee card")
        raise


def approve_by_card(ctx: StoreContext, card_no: str, permission: Permission) -> Approval:
    """A manager (or admin) approves one privileged action by tapping their employee card;
    a cashier's card, or an unknown one, is refused and the refusal audited."""
    try:
        with write_session(ctx.engine) as session:
            op = _card_operator(ctx, session, card_no)
            check_approver(Role(op.role), permission)
            return Approval.sealed(op.id, op.login, Role(op.role), permission)
    except (AuthenticationFailed, PermissionDenied, ApprovalRequired) as exc:
        record_refusal(ctx, None, f"approve:{permission.value}", _masked(card_no), exc.en)
        raise
