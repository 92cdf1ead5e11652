"""Looking after operators: the list, deactivating and reactivating, one's own password, an
admin's reset of someone else's. (Adding one is `store_setup.add_operator`.)

Every change goes through `operator_records.record_operator_change` in the same transaction —
it re-seals the row and writes an `operator_changed` ledger entry — and leaves an audit event.
A deactivated operator can neither sign in nor approve, and an operator already signed in
is refused at their next step (`auth.authorize` re-reads the row).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Operator
from pos_app.domain.errors import InvalidInput, NotFound
from pos_app.domain.permissions import Permission, Role
from pos_app.services.audit import record
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.credentials import hash_secret, verify_secret
from pos_app.services.login_lockout import clear, count_failure, lock_refusal
from pos_app.services.operator_records import record_operator_change
from pos_app.services.store_setup import check_new_password
from pos_app.services.use_case import UseCase, use_case


@dataclass(frozen=True)
class OperatorRow:
    """An operator as the admin's list shows them (never a password or card number)."""

    login: str
    name: str
    role: str
    active: bool
    failed_logins: int
    locked_until: str | None  # ISO UTC, only while the lock lasts
    has_employee_card: bool


def list_operators(ctx: StoreContext, actor: Actor) -> list[OperatorRow]:
    """Every operator, by login (admins)."""
    now = ctx.now_iso()
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.OPERATOR_MANAGE)
        return [_row(op, now) for op in s.scalars(select(Operator).order_by(Operator.login))]


def _operator(session: Session, login: str) -> Operator:
    op = session.scalars(select(Operator).where(Operator.login == login.strip())).first()
    if op is None:
        raise NotFound(f"没有这个操作员：{login.strip()}", f"No such operator: {login.strip()}")
    return op


def _not_hq_managed(op: Operator) -> None:
    """People of the chain are edited at HQ: a change here would be undone at the next pull
    and would let a store overrule HQ about who may do what."""
    if op.hq_managed:
        raise InvalidInput(
            f"{op.login} 由总部管理：请在总部修改（pos-hq operator …）",
            f"{op.login} is managed by HQ: change them at HQ (pos-hq operator …)",
            code="operator_hq_managed",
        )


def _not_yourself(actor: Actor, op: Operator, zh: str, en: str) -> None:
    if op.id == actor.operator_id:
        raise InvalidInput(zh, en)


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Operator)
            .where(Operator.role == Role.ADMIN.value, Operator.active.is_(True))
        )
        or 0
    )


def _audit(uc: UseCase, actor: Actor, action: str, login: str, detail: dict[str, object]) -> None:
    record(uc.session, uc.now_iso, actor.operator_id, action, target=login, detail=detail or None)


def deactivate_operator(
    ctx: StoreContext, actor: Actor, login: str, reason: str = ""
) -> OperatorRow:
    """停用: the operator can no longer sign in or approve (admins; never oneself, never the
    last active admin — the store would have no one left to manage it)."""
    with use_case(ctx, actor, Permission.OPERATOR_MANAGE, target=login.strip()) as uc:
        op = _operator(uc.session, login)
        _not_hq_managed(op)
        _not_yourself(actor, op, "不能停用自己", "You cannot deactivate yourself")
        if not op.active:
            raise InvalidInput(f"{op.login} 已经停用", f"{op.login} is already deactivated")
        if op.role == Role.ADMIN.value and _active_admins(uc.session) <= 1:
            raise InvalidInput(
                "不能停用最后一位管理员", "The last active admin cannot be deactivated"
            )
        op.active = False
        detail = {"reason": reason.strip()} if reason.strip() else {}
        record_operator_change(uc, op, "deactivated", detail)
        _audit(uc, actor, "operator.deactivate", op.login, detail)
        return _row(op, uc.now_iso)


def reactivate_operator(ctx: StoreContext, actor: Actor, login: str) -> OperatorRow:
    """启用: a deactivated operator may sign in again (admins); any lockout is lifted too."""
    with use_case(ctx, actor, Permission.OPERATOR_MANAGE, target=login.strip()) as uc:
        op = _operator(uc.session, login)
        _not_hq_managed(op)
        if op.active:
            raise InvalidInput(f"{op.login} 没有停用", f"{op.login} is not deactivated")
        op.active = True
        clear(op)
        record_operator_change(uc, op, "reactivated")
        _audit(uc, actor, "operator.reactivate", op.login, {})
        return _row(op, uc.now_iso)


def change_password(ctx: StoreContext, actor: Actor, old: str, new: str) -> None:
    """An operator changes their own password, giving the old one. A wrong old password
    counts towards the lockout, as at sign-in."""
    check_new_password(new)
    if new == old:
        raise InvalidInput("新密码不能与旧密码相同", "The new password must differ from the old")
    with use_case(ctx, actor, Permission.PASSWORD_CHANGE, target=actor.login) as uc:
        op = uc.session.get(Operator, actor.operator_id)
        assert op is not None  # authorize found it
        _not_hq_managed(op)
        locked = lock_refusal(ctx, op)
        if locked is not None:
            raise locked
        if not verify_secret(old, op.password_hash):
            refusal = count_failure(ctx, uc.session, op, op.login, "operator.password")
            record(
                uc.session,
                uc.now_iso,
                actor.operator_id,
                "operator.password",
                "refused",
                op.login,
                {"reason": "wrong old password"},
            )
            uc.refusal = refusal  # committed with the count, then raised
            return
        op.password_hash = hash_secret(new)
        clear(op)
        record_operator_change(uc, op, "password")
        _audit(uc, actor, "operator.password", op.login, {})


def reset_password(ctx: StoreContext, actor: Actor, login: str, new: str) -> OperatorRow:
    """An admin sets another operator's password (forgotten, or locked out): the lockout is
    lifted. One's own password is changed with the old one (`change_password`)."""
    check_new_password(new)
    with use_case(ctx, actor, Permission.OPERATOR_MANAGE, target=login.strip()) as uc:
        op = _operator(uc.session, login)
        _not_hq_managed(op)
        _not_yourself(
            actor,
            op,
            "请用「修改密码」修改自己的密码",
            "Change your own password with the old one (change password)",
        )
        op.password_hash = hash_secret(new)
        clear(op)
        record_operator_change(uc, op, "password_reset")
        _audit(uc, actor, "operator.password_reset", op.login, {})
        return _row(op, uc.now_iso)


def _row(op: Operator, now_iso: str) -> OperatorRow:
    return OperatorRow(
        login=op.login,
        name=op.name,
        role=op.role,
        active=bool(op.active),
        failed_logins=op.failed_logins,
        locked_until=op.locked_until if op.locked_until and op.locked_until > now_iso else None,
        has_employee_card=op.employee_card_hash is not None,
    )
