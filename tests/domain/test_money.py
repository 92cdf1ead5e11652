"""Money is integer fen inside; yuan text is parsed exactly and formatted with two decimals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import MAX_AMOUNT_FEN, fen_to_yuan_text, format_fen, parse_yuan


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("500", 50000),
        ("12.5", 1250),
        ("12.50", 1250),
        ("0.01", 1),
        (" 88 ", 8800),
        ("¥1,000.50", 100050),
        ("￥3", 300),
        (500, 50000),
    ],
)
def test_parse_yuan_accepts_amounts_with_at_most_two_decimals(text, fen):
    assert parse_yuan(text) == fen
    assert isinstance(parse_yuan(text), int)


@pytest.mark.parametrize("text", ["0.001", "12.345", "abc", "", "1.2.3", "NaN", "Infinity", "-1"])
def test_parse_yuan_refuses_bad_text(text):
    with pytest.raises(InvalidInput):
        parse_yuan(text)


def test_zero_is_refused_unless_allowed():
    with pytest.raises(InvalidInput):
        parse_yuan("0")
    assert parse_yuan("0", allow_zero=True) == 0
    assert parse_yuan("0.00", allow_zero=True) == 0


def test_too_large_an_amount_is_a_typing_mistake():
    assert parse_yuan(str(MAX_AMOUNT_FEN // 100)) == MAX_AMOUNT_FEN
    with pytest.raises(InvalidInput):
        parse_yuan(str(MAX_AMOUNT_FEN // 100 + 1))


def test_refusal_explains_itself_in_both_languages():
    with pytest.raises(InvalidInput) as info:
        parse_yuan("12.345")
    assert "两位小数" in info.value.message("zh")
    assert "two decimals" in info.value.message("en")


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (12345, "¥123.45"),
        (0, "¥0.00"),
        (5, "¥0.05"),
        (-5, "-¥0.05"),
        (100, "¥1.00"),
        (-123456, "-¥1234.56"),
    ],
)
def test_format_fen(fen, text):
    assert format_fen(fen) == text


def test_fen_to_yuan_text_has_no_symbol():
    assert fen_to_yuan_text(12345) == "123.45"
    assert fen_to_yuan_text(-1) == "-0.01"


@given(st.integers(min_value=1, max_value=MAX_AMOUNT_FEN))
def test_format_then_parse_round_trips(fen):
    assert parse_yuan(fen_to_yuan_text(fen)) == fen
    assert parse_yuan(format_fen(fen)) == fen
