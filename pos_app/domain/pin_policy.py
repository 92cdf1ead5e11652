"""Card PIN rules: format, and the lock after five wrong tries (PRODUCT §2)."""

from __future__ import annotations

import re

from pos_app.domain.errors import InvalidInput, PinLocked, WrongPin

MAX_WRONG_TRIES = 5
# ASCII digits only: \d would also take fullwidth digits, and $ a trailing newline.
_PIN = re.compile(r"[0-9]{6}")


def check_pin_format(pin: str) -> None:
    if not _PIN.fullmatch(pin):
        raise InvalidInput("密码必须是 6 位数字", "A card PIN is 6 digits")


def check_not_locked(failures: int) -> None:
    if failures >= MAX_WRONG_TRIES:
        raise PinLocked(
            "密码错误次数过多，储值支付已锁定，请店长重置密码",
            "Too many wrong PINs: stored-value payment is locked until a manager resets the PIN",
        )


def wrong_pin_error(failures_after: int) -> WrongPin | PinLocked:
    """The error for a wrong try, telling how many tries are left."""
    left = MAX_WRONG_TRIES - failures_after
    if left <= 0:
        return PinLocked(
            "密码错误 5 次，储值支付已锁定，请店长重置密码",
            "Wrong PIN 5 times: stored-value payment is locked until a manager resets the PIN",
        )
    return WrongPin(f"密码错误，还可尝试 {left} 次", f"Wrong PIN; {left} tries left")
