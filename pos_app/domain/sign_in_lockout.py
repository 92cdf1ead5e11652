"""How long wrong passwords lock a login (sign-in and a manager's approval alike).

The fifth wrong password in a row locks the login for a minute, and each further wrong one
(after the lock ends) doubles it, up to half an hour. A right password clears the count.
While a login is locked its password is not even checked, so guessing gains nothing.
"""

from __future__ import annotations

from datetime import timedelta

from pos_app.domain.errors import SignInLocked

LOCK_AFTER = 5  # wrong passwords in a row that lock the login
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(minutes=30)


def lock_for(failures: int) -> timedelta | None:
    """The lock a login earns after `failures` wrong passwords in a row, or None."""
    if failures < LOCK_AFTER:
        return None
    doublings = min(failures - LOCK_AFTER, 16)  # 16 doublings are far past the cap
    lock: timedelta = FIRST_LOCK * (1 << doublings)
    return min(lock, MAX_LOCK)


def locked_error(until_text: str) -> SignInLocked:
    """The refusal while a login is locked; `until_text` is the local time it ends."""
    return SignInLocked(
        f"密码错误次数过多，已锁定至 {until_text}，请稍后再试或请管理员重置密码",
        f"Too many wrong passwords: locked until {until_text}; try again then, or ask an "
        "admin to reset the password",
    )
