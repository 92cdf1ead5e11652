"""Member profile rules: mobile numbers, masking, names, birthdays, card numbers."""

from __future__ import annotations

from datetime import date

import pytest

from pos_app.domain.errors import InvalidInput
from pos_app.domain.members import (
    check_card_no,
    check_name,
    mask_mobile,
    normalize_mobile,
    parse_birthday,
)


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        " 138 0013 8000 ",
        "138-0013-8000",
        "+86 13800138000",
        "008613800138000",
        "+86-138-0013-8000",
        "１３８００１３８０００",  # fullwidth digits from a Chinese IME mean the same number
        "＋86 138 0013 8000",
    ],
)
def test_normalize_mobile(text):
    assert normalize_mobile(text) == "13800138000"


@pytest.mark.parametrize(
    "text",
    [
        "1380013800",
        "138001380001",
        "12800138000",
        "23800138000",
        "1380013800a",
        "",
        "+1 13800138000",
        "138.0013.8000",
        "1380013800٠",  # an Arabic-Indic zero: a digit to a regex's \\d, not in a mobile number
    ],
)
def test_bad_mobile_is_refused(text):
    with pytest.raises(InvalidInput, match="mobile"):
        normalize_mobile(text)


def test_mask_mobile():
    assert mask_mobile("13812341234") == "138****1234"
    assert mask_mobile("123") == "****"


def test_check_name():
    assert check_name("  张三 ") == "张三"
    for bad in ("", "   ", "张" * 41):
        with pytest.raises(InvalidInput):
            check_name(bad)
    assert check_name("张" * 40) == "张" * 40


def test_parse_birthday():
    today = date(2026, 3, 2)
    assert parse_birthday("1990-05-17", today) == date(1990, 5, 17)
    assert parse_birthday("2026-03-02", today) == today
    for bad in ("1990/05/17", "17-05-1990", "1990-02-30", "2026-03-03", "1899-12-31", "soon"):
        with pytest.raises(InvalidInput):
            parse_birthday(bad, today)


def test_check_card_no():
    assert check_card_no(" ab12cd34 ") == "AB12CD34"
    for bad in ("123", "8888-0001", "x" * 33, "卡号1234", ""):
        with pytest.raises(InvalidInput):
            check_card_no(bad)
