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
        ("1,000.5", 100050),
        ("1,234,567.89", 123456789),
        ("１２.５０", 1250),  # fullwidth digits, as a Chinese IME types them
        ("１，０００．５０", 100050),  # fullwidth comma and point too
        ("\u3000８８\u3000", 8800),  # ideographic spaces around
        ("12.", 1200),  # the till's field while the cashier is still typing
        (".5", 50),
        ("007", 700),
    ],
)
def test_parse_yuan_accepts_amounts_with_at_most_two_decimals(text, fen):
    assert parse_yuan(text) == fen
    assert isinstance(parse_yuan(text), int)


@pytest.mark.parametrize(
    "text",
    [
        "0.001",
        "12.345",
        "abc",
        "",
        " ",
        ".",
        "1.2.3",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "-1",
        "-5",
        "+5",
        "−5",  # U+2212 minus
        -5,
        True,
        "5 0",
        "5_0",
        "1e2",
        "1E2",
        "1e999999",
        "1e-2",
        "0x10",
        "١٢٣",  # Arabic-Indic digits
        "۱۲۳",  # Extended Arabic-Indic
        "१२३",  # Devanagari
        "²",
        "50,00",
        "5,0",
        "1,0000",
        "1,00,000",  # Indian grouping
        ",500",
        "0,500",
        "1,000,",
        "1.000,50",
        "¥ 5",
        "¥¥5",
        "5¥",
        "5\x00",
        "\x1b[2J5",
        "9" * 5000,
        "9" * 16,
        "1" + "0" * 30 + ".5",
    ],
)
def test_parse_yuan_refuses_bad_text(text):
    with pytest.raises(InvalidInput):
        parse_yuan(text)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("50,00", "only separates thousands"),
        ("-5", "without a sign"),
        ("+5", "without a sign"),
        ("1e2", "Not an amount"),
        ("12.345", "at most two decimals"),
        ("9" * 5000, "too large"),
    ],
)
def test_each_refusal_says_what_is_expected(text, said):
    with pytest.raises(InvalidInput) as info:
        parse_yuan(text)
    assert said in info.value.en
    assert len(info.value.en) < 300  # a pasted wall of digits is not echoed back in full


def test_a_refusal_shows_control_characters_as_escapes():
    with pytest.raises(InvalidInput) as info:
        parse_yuan("\x1b[2J5")
    assert "\x1b" not in info.value.en and "\x1b" not in info.value.zh
    assert "\\x1b[2J5" in info.value.en


def test_each_field_may_have_a_tighter_maximum():
    assert parse_yuan("1,000", max_fen=100_000) == 100_000
    with pytest.raises(InvalidInput) as info:
        parse_yuan("1,000.01", max_fen=100_000)
    assert "¥1000.00" in info.value.en and "¥1000.00" in info.value.zh
    assert parse_yuan("0", allow_zero=True, max_fen=100) == 0


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


def _grouped(fen: int) -> str:
    whole, part = divmod(fen, 100)
    return f"{whole:,}.{part:02d}"


@given(st.integers(min_value=1, max_value=MAX_AMOUNT_FEN))
def test_thousands_groups_parse_to_the_same_amount(fen):
    assert parse_yuan(_grouped(fen)) == fen


# Text that looks like an amount more often than random text does.
_AMOUNTISH = st.text(
    alphabet=st.sampled_from("0123456789０１２３４５６７８９.,．，¥￥ _eE+-٠١٢²\x00\u3000x"),
    max_size=30,
)


@given(st.one_of(st.text(max_size=60), _AMOUNTISH))
def test_any_text_is_an_amount_or_invalid_input_and_amounts_round_trip(text):
    try:
        fen = parse_yuan(text, allow_zero=True)
    except InvalidInput:
        return
    assert isinstance(fen, int) and 0 <= fen <= MAX_AMOUNT_FEN
    assert parse_yuan(fen_to_yuan_text(fen), allow_zero=True) == fen
