"""Columns on a receipt printer: a Chinese character is two, a combining mark none."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.domain.text_width import (
    center,
    char_width,
    display_width,
    fit,
    pad_left,
    pad_right,
    wrap,
)

# Latin, digits, CJK, fullwidth forms, a combining accent, spaces: what product names hold.
MIXED = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 .-¥洗车卡牛奶可乐ＡＢ１（）。\u0301")),
    max_size=80,
)


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("", 0),
        ("abc", 3),
        ("牛奶", 4),
        ("Coca-Cola 可口可乐", 18),
        ("ＡＢＣ", 6),  # fullwidth Latin
        ("（）。", 6),  # CJK punctuation
        ("e\u0301", 1),  # e + combining acute
        ("a\u200bb", 2),  # zero-width space
        ("¥12.50", 6),  # the yen sign is narrow
        ("…", 1),  # ambiguous counts as narrow
        ("한국", 4),  # Hangul syllables are wide too
    ],
)
def test_display_width_counts_columns(text, width):
    assert display_width(text) == width


def test_char_width_of_single_characters():
    assert char_width("a") == 1
    assert char_width("中") == 2
    assert char_width("\u0301") == 0


def test_fit_leaves_short_text_alone():
    assert fit("牛奶", 4) == "牛奶"
    assert fit("milk", 10) == "milk"


def test_fit_cuts_latin_with_an_ellipsis():
    assert fit("Chocolate milk", 8) == "Chocola…"
    assert display_width(fit("Chocolate milk", 8)) == 8


def test_fit_never_splits_a_wide_character():
    # 5 columns: two characters (4) + "…" (1)
    assert fit("伊利纯牛奶", 5) == "伊利…"
    # 4 columns: only one character fits beside "…"; the half column stays empty
    assert fit("伊利纯牛奶", 4) == "伊…"
    assert display_width(fit("伊利纯牛奶", 4)) == 3


def test_fit_drops_trailing_space_before_the_ellipsis():
    assert fit("Coca Cola Zero", 6) == "Coca…"


def test_fit_marks_the_cut_only_when_the_ellipsis_fits():
    assert fit("abc", 0) == ""
    assert fit("牛奶", 1) == "…"
    assert fit("abc", 1) == "…"


def test_fit_keeps_a_combining_mark_with_its_letter():
    assert fit("cafe\u0301 noir", 5) == "cafe\u0301…"


@given(MIXED, st.integers(min_value=0, max_value=40))
def test_fit_is_never_wider_than_asked(text, width):
    result = fit(text, width)
    assert display_width(result) <= width
    if display_width(text) <= width:
        assert result == text


def test_pad_right_and_left_count_columns_not_characters():
    assert pad_right("牛奶", 6) == "牛奶  "
    assert pad_left("牛奶", 6) == "  牛奶"
    assert display_width(pad_right("奶a", 10)) == 10
    assert pad_left("¥3.50", 8) == "   ¥3.50"


def test_pad_never_cuts():
    assert pad_right("伊利纯牛奶", 4) == "伊利纯牛奶"
    assert pad_left("伊利纯牛奶", 4) == "伊利纯牛奶"


def test_center_counts_columns():
    assert center("销售单", 12) == "   销售单"
    assert center("SALE", 12) == "    SALE"


def test_wrap_breaks_latin_at_spaces():
    assert wrap("Tuesday vegetables 20% off", 20) == ["Tuesday vegetables", "20% off"]


def test_wrap_breaks_chinese_between_any_two_characters():
    lines = wrap("伊利纯牛奶早餐奶", 6)
    assert lines == ["伊利纯", "牛奶早", "餐奶"]


def test_wrap_never_splits_a_wide_character_at_an_odd_width():
    assert wrap("伊利纯牛奶", 5) == ["伊利", "纯牛", "奶"]


def test_wrap_keeps_latin_words_whole_in_mixed_text():
    assert wrap("可口可乐Coca-Cola 330ml", 12) == ["可口可乐", "Coca-Cola", "330ml"]


def test_wrap_cuts_a_word_longer_than_a_line():
    assert wrap("SH01-20260302-000123", 8) == ["SH01-202", "60302-00", "0123"]


def test_wrap_keeps_a_combining_mark_on_its_character():
    assert wrap("牛\u0301奶", 2) == ["牛\u0301", "奶"]


def test_wrap_of_empty_text_is_one_empty_line():
    assert wrap("", 10) == [""]


def test_wrap_starts_a_new_line_at_a_newline():
    assert wrap("第一行\n第二行", 20) == ["第一行", "第二行"]


def test_wrap_refuses_a_width_no_wide_character_fits_in():
    with pytest.raises(ValueError):
        wrap("牛奶", 1)


@given(MIXED, st.integers(min_value=2, max_value=48))
def test_wrapped_lines_fit_and_lose_nothing_but_spaces(text, width):
    lines = wrap(text, width)
    assert all(display_width(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
