"""Weighed goods: weights in thousandths of the unit, prices rounded half up to the fen."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.domain.errors import InvalidInput
from pos_app.domain.sale_request import LineRequest, split_quantity, typed_line
from pos_app.domain.weighed_goods import (
    milli_from_grams,
    parse_weight,
    weighed_gross,
    weight_from_price,
    weight_text,
    weight_unit,
)


@pytest.mark.parametrize(
    ("price", "milli", "gross"),
    [
        (1280, 500, 640),  # ¥12.80/kg × 0.5 kg
        (1280, 333, 426),  # 426.24 → 426
        (1280, 125, 160),
        (99, 500, 50),  # 49.5 → 50: half up
        (99, 1500, 149),  # 148.5 → 149
        (349, 1, 0),  # 0.349 fen → 0
        (1000, 999_999, 999_999),
    ],
)
def test_gross_is_price_times_weight_rounded_half_up(price, milli, gross):
    assert weighed_gross(price, milli) == gross


@given(st.integers(0, 10_000_00), st.integers(1, 999_999))
def test_gross_is_never_more_than_half_a_fen_off(price, milli):
    exact = price * milli
    assert abs(weighed_gross(price, milli) * 1000 - exact) <= 500


@pytest.mark.parametrize(
    ("text", "milli"),
    [("0.5", 500), ("1.25", 1250), ("２", 2000), ("０．７５", 750), ("999.999", 999_999)],
)
def test_weights_as_typed(text, milli):
    assert parse_weight(text, "kg") == milli


@pytest.mark.parametrize("text", ["0", "0.000", "-1", "1.2345", "1e3", "1000", "", "abc", "1,5"])
def test_weights_refused(text):
    with pytest.raises(InvalidInput):
        parse_weight(text, "kg")


def test_scale_grams_in_the_products_unit():
    assert milli_from_grams(750, "kg") == 750
    assert milli_from_grams(750, "斤") == 1500  # 750 g is 1.5 斤
    assert milli_from_grams(1, "斤") == 2


def test_units_a_catalogue_may_write():
    assert weight_unit("公斤") == weight_unit("千克") == weight_unit("KG") == "kg"
    assert weight_unit("斤") == "斤"
    assert weight_unit("件") is None and weight_unit("袋") is None


def test_weight_from_a_labels_price_rounds_half_up():
    assert weight_from_price(640, 1280) == 500
    assert weight_from_price(100, 300) == 333  # 333.33
    assert weight_from_price(200, 300) == 667  # 666.67


def test_weight_text():
    assert weight_text(1250, "kg") == "1.250kg"
    assert weight_text(-500, "斤") == "-0.500斤"


def test_split_quantity():
    assert split_quantity("0.5*F005") == ("0.5", "F005")
    assert split_quantity(" 3 × D001 ") == ("3", "D001")
    assert split_quantity("１．２５＊APPLE") == ("１．２５", "APPLE")
    assert split_quantity("F005") == (None, "F005")


def test_typed_lines_weigh_weighed_goods_and_count_pieces():
    apple = {"name": "苹果", "unit": "kg", "sold_by_weight": True}
    water = {"name": "矿泉水", "unit": "瓶", "sold_by_weight": False}
    assert typed_line("F005", "0.5", **apple) == LineRequest("F005", 1, weight_milli=500)
    assert typed_line("F005", "2", **apple) == LineRequest("F005", 1, weight_milli=2000)
    assert typed_line("D001", "3", **water) == LineRequest("D001", 3)
    assert typed_line("D001", None, **water) == LineRequest("D001", 1)
    with pytest.raises(InvalidInput) as exc:
        typed_line("D001", "1.5", **water)
    assert "必须是整数" in exc.value.zh and "whole number" in exc.value.en
    with pytest.raises(InvalidInput) as exc:
        typed_line("F005", None, **apple)
    assert "称重" in exc.value.zh


def test_weighed_lines_merge_by_adding_weights():
    a = LineRequest("F005", 1, weight_milli=500)
    assert a.merged(LineRequest("F005", 1, weight_milli=250)).weight_milli == 750
    labelled = LineRequest("F005", 1, weight_milli=500, label_fen=640)
    both = labelled.merged(LineRequest("F005", 1, weight_milli=250, label_fen=320))
    assert (both.weight_milli, both.label_fen) == (750, 960)
    with pytest.raises(InvalidInput):
        labelled.merged(a)
    assert LineRequest("D001", 2).merged(LineRequest("D001", 3)).qty == 5


def test_a_weighed_line_request_is_one_line_with_a_weight():
    with pytest.raises(InvalidInput):
        LineRequest("F005", 2, weight_milli=500)
    with pytest.raises(InvalidInput):
        LineRequest("F005", 1, weight_milli=0)
    with pytest.raises(InvalidInput):
        LineRequest("D001", 1, label_fen=100)  # a label price without a weight
