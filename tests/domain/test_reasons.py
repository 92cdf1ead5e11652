"""A reason a person gives: required, one line, not too long."""

from __future__ import annotations

import pytest

from pos_app.domain.errors import InvalidInput
from pos_app.domain.reasons import check_reason


def test_a_reason_is_trimmed_and_kept() -> None:
    assert check_reason("  买胶带 ", 10) == "买胶带"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "Give a reason"),
        ("x" * 11, "The reason is too long (at most 10 characters)"),
        ("找零\x1b[31m", "control"),
        ("找零\u202e", "control"),
    ],
)
def test_a_missing_long_or_control_character_reason_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_reason(text, 10)
    assert message in refused.value.en


def test_the_thing_asked_for_is_named() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_reason("", 10, "开钱箱的原因", "reason for opening the drawer")
    assert (refused.value.zh, refused.value.en) == (
        "请填写开钱箱的原因",
        "Give a reason for opening the drawer",
    )
