"""Counting wrong passwords and locking a login, inside the caller's write transaction.

An operator's count lives on the operator row (not sealed: every wrong try writes it). A login
that names no operator is counted in `login_throttle` the same way, so the answers — "wrong
login or password", then "locked until …" — are the same whether the login exists or not.
The caller commits what this writes even when it refuses: a rolled-back count would not count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import LoginThrottle, Operator
from pos_app.domain.errors import AuthenticationFailed
from pos_app.domain.sign_in_lockout import lock_for, locked_error
from pos_app.services.audit import record
from pos_app.services.context import StoreContext, iso

# Counts of logins that name nobody are forgotten after a day without a try.
THROTTLE_KEPT = timedelta(days=1)
MAX_LOGIN_CHARS = 64

Counter = Operator | LoginThrottle


_WRONG = ("用户名或密码不正确", "The login or password is not correct")


def wrong_credentials() -> AuthenticationFailed:
    return AuthenticationFailed(*_WRONG)


def audit_reason(exc: AuthenticationFailed) -> str:
    """What the audit trail says of a refused try (never the password)."""
    return "bad credentials" if exc.en == _WRONG[1] else exc.en


def counter_for(ctx: StoreContext, session: Session, login: str, op: Operator | None) -> Counter:
    """Where this login's wrong tries are counted (created for an unknown login)."""
    if op is not None:
        return op
    key = login[:MAX_LOGIN_CHARS]
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(
            login=key, failed_logins=0, locked_until=None, last_try_at=ctx.now_iso()
        )
        session.add(row)
    return row


def lock_refusal(ctx: StoreContext, counter: Counter) -> AuthenticationFailed | None:
    """The refusal while the login is locked, or None: no password is checked meanwhile."""
    until = counter.locked_until
    if until is None or until <= ctx.now_iso():
        return None
    return locked_error(_local(ctx, until))


def count_failure(
    ctx: StoreContext, session: Session, counter: Counter, login: str, action: str
) -> AuthenticationFailed:
    """One more wrong password: count it, lock the login when it has earned a lock (audited
    as `operator.locked`), and return the refusal to give."""
    now = ctx.now()
    counter.failed_logins += 1
    if isinstance(counter, LoginThrottle):
        counter.last_try_at = iso(now)
        session.execute(
            delete(LoginThrottle).where(LoginThrottle.last_try_at < iso(now - THROTTLE_KEPT))
        )
    lock = lock_for(counter.failed_logins)
    if lock is None:
        return wrong_credentials()
    counter.locked_until = iso(now + lock)
    record(
        session,
        iso(now),
        counter.id if isinstance(counter, Operator) else None,
        "operator.locked",
        "refused",
        login[:80],
        {"failures": counter.failed_logins, "until": counter.locked_until, "by": action},
    )
    return locked_error(_local(ctx, counter.locked_until))


def clear(counter: Counter) -> None:
    """A right password (or an admin's reset): the count starts again."""
    if counter.failed_logins or counter.locked_until:
        counter.failed_logins = 0
        counter.locked_until = None


def _local(ctx: StoreContext, moment_iso: str) -> str:
    """The end of a lock as the store's clock shows it (with the date if not today)."""
    moment = datetime.fromisoformat(moment_iso).astimezone(ctx.tz)
    if moment.date() != ctx.business_day():
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.strftime("%H:%M:%S")


def operator_by_login(session: Session, login: str) -> Operator | None:
    """The operator with this login, if there is one."""
    return session.scalars(select(Operator).where(Operator.login == login)).first()
