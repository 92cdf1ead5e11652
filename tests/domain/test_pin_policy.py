"""Card PINs: six digits; five wrong tries lock stored-value payment."""

from __future__ import annotations

import pytest

from pos_app.domain.errors import InvalidInput, PinLocked, WrongPin
from pos_app.domain.pin_policy import (
    MAX_WRONG_TRIES,
    check_not_locked,
    check_pin_format,
    wrong_pin_error,
)


def test_pin_format():
    check_pin_format("012345")
    # fullwidth or other scripts' digits, and a trailing newline, are not a PIN
    for bad in ("12345", "1234567", "12345a", "", "１２３４５６", "123456\n", "12345٦"):
        with pytest.raises(InvalidInput):
            check_pin_format(bad)


def test_five_wrong_tries_lock():
    assert MAX_WRONG_TRIES == 5
    for failures in range(5):
        check_not_locked(failures)
    with pytest.raises(PinLocked):
        check_not_locked(5)


def test_wrong_pin_counts_down_then_locks():
    messages = [wrong_pin_error(n) for n in range(1, 6)]
    assert [type(m) for m in messages] == [WrongPin] * 4 + [PinLocked]
    assert messages[0].en == "Wrong PIN; 4 tries left"
    assert messages[3].en == "Wrong PIN; 1 tries left"
    assert "锁定" in messages[4].zh
