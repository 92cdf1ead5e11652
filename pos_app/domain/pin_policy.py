"""Card PIN rules: format, and the lock after five wrong tries (PRODUCT §2).

The lock covers every member tender, not only stored value: points, service cards and the
member's own coupons are the member's value too, and a card whose PIN was being guessed is
not the member's word that they are at the till.
"""

from __future__ import annotations

import re

from pos_app.domain.errors import InvalidInput, PinLocked, WrongPin

MAX_WRONG_TRIES = 5
# ASCII digits only: \d would also take fullwidth digits, and $ a trailing newline.
_PIN = re.compile(r"[0-9]{6}")


def check_pin_format(pin: str) -> None:
    if not _PIN.fullmatch(pin):
        raise InvalidInput("密码必须是 6 位数字", "A card PIN is 6 digits")


def is_locked(failures: int) -> bool:
    return failures >= MAX_WRONG_TRIES


def pin_locked_error() -> PinLocked:
    """The refusal of any member tender on a card locked by wrong PINs."""
    return PinLocked(
        "密码错误次数过多，会员卡已锁定：储值、积分、次卡和会员券都不能使用，请店长重置密码",
        "Too many wrong PINs: the card is locked for stored value, points, service cards and "
        "member coupons until a manager resets the PIN",
    )


def check_not_locked(failures: int) -> None:
    if is_locked(failures):
        raise pin_locked_error()


def wrong_pin_error(failures_after: int) -> WrongPin | PinLocked:
    """The error for a wrong try, telling how many tries are left."""
    left = MAX_WRONG_TRIES - failures_after
    if left <= 0:
        return PinLocked(
            "密码错误 5 次，会员卡已锁定（储值、积分、次卡、会员券），请店长重置密码",
            "Wrong PIN 5 times: the card is locked for stored value, points, service cards and "
            "member coupons until a manager resets the PIN",
        )
    return WrongPin(f"密码错误，还可尝试 {left} 次", f"Wrong PIN; {left} tries left")
