"""Lockout after wrong passwords: five tries, then one minute doubling up to thirty."""

from __future__ import annotations

from datetime import timedelta

from pos_app.domain.sign_in_lockout import lock_for, locked_error


def test_five_wrong_passwords_lock_for_a_minute_then_it_doubles_to_half_an_hour():
    assert [lock_for(n) for n in range(5)] == [None] * 5
    minutes = [lock_for(n) // timedelta(minutes=1) for n in range(5, 12)]  # type: ignore[operator]
    assert minutes == [1, 2, 4, 8, 16, 30, 30]
    assert lock_for(10_000) == timedelta(minutes=30)


def test_the_refusal_says_until_when():
    error = locked_error("10:31:05")
    assert error.code == "sign_in_locked"
    assert "10:31:05" in error.zh and "10:31:05" in error.en
