"""Whole numbers as people type them: quantities, counts, days, points."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.domain.errors import InvalidInput
from pos_app.domain.sale_request import MAX_QTY, parse_quantity
from pos_app.domain.typed_numbers import parse_whole_number


@pytest.mark.parametrize(
    ("text", "qty"),
    [("1", 1), ("3", 3), (" 12 ", 12), ("０３", 3), ("９９９９", 9999), ("007", 7), (5, 5)],
)
def test_a_quantity_is_a_positive_whole_number(text, qty):
    assert parse_quantity(text) == qty


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "-1",
        "+1",
        "1.5",
        "1e2",
        "1_0",
        "1 0",
        "²",  # str.isdigit() says yes, int() says no: once a traceback in `sale --line D001:²`
        "³",
        "١٢",  # Arabic-Indic
        "१२",  # Devanagari
        "0x10",
        "10000",
        "9" * 5000,
        "\x00",
        True,
    ],
)
def test_anything_else_is_refused_with_a_message(text):
    with pytest.raises(InvalidInput) as info:
        parse_quantity(text)
    assert "quantity" in info.value.en
    assert "数量" in info.value.zh
    assert str(MAX_QTY) in info.value.en


def test_the_field_and_its_range_are_named():
    with pytest.raises(InvalidInput) as info:
        parse_whole_number("400", minimum=1, maximum=365, what_zh="有效天数", what_en="valid days")
    assert info.value.zh == "有效天数必须在 1 到 365 之间：400"
    assert info.value.en == "The valid days must be from 1 to 365: 400"


@given(st.text(max_size=40))
def test_any_text_is_a_quantity_or_invalid_input(text):
    try:
        qty = parse_quantity(text)
    except InvalidInput:
        return
    assert 1 <= qty <= MAX_QTY
    assert parse_quantity(str(qty)) == qty


@pytest.mark.parametrize("text", ["-3", "－３", " -1 ", "−2"])
def test_a_negative_quantity_is_refused_and_points_to_returns(text):
    with pytest.raises(InvalidInput) as info:
        parse_quantity(text)
    assert "正数" in info.value.zh and "F9" in info.value.zh
    assert "positive" in info.value.en and "F9" in info.value.en


@pytest.mark.parametrize("text", ["10000", "100000", "１００００", "9" * 5000])
def test_a_quantity_above_the_limit_is_called_too_large_with_the_limit(text):
    with pytest.raises(InvalidInput) as info:
        parse_quantity(text)
    assert info.value.zh.startswith("数量太大") and f"最多 {MAX_QTY}" in info.value.zh
    assert "too large" in info.value.en and f"at most {MAX_QTY}" in info.value.en
    assert len(info.value.en) < 120  # the typed digits are cut, not echoed in full
