"""Scale labels (条码秤): 13- and 18-digit codes with a PLU and a price and/or a weight."""

from __future__ import annotations

import pytest

from pos_app.domain.errors import InvalidInput
from pos_app.domain.scale_barcode import (
    ScaleBarcodeFormat,
    ScaleLabel,
    check_digit,
    format_problem,
    read_scale_barcode,
)

PRICE_13 = ScaleBarcodeFormat("FFPPPPP$$$$$C", ("27", "28"))
WEIGHT_13 = ScaleBarcodeFormat("FFPPPPPWWWWWC", ("29",))
BOTH_18 = ScaleBarcodeFormat("FFPPPPP$$$$$WWWWWC", ("27", "28", "29"))
FORMATS = (PRICE_13, WEIGHT_13, BOTH_18)


def coded(body: str) -> str:
    return body + str(check_digit(body))


def test_the_check_digit_is_ean13s():
    # 6921168509256 is a real EAN-13 (农夫山泉 550ml).
    assert check_digit("692116850925") == 6
    assert check_digit("400638133393") == 1  # 4006381333931, the GS1 textbook example


def test_a_price_embedded_13_digit_label():
    code = coded("271000501234")  # PLU 10005, ¥12.34
    assert read_scale_barcode(code, FORMATS) == ScaleLabel("10005", 1234, None)


def test_a_weight_embedded_13_digit_label():
    code = coded("291000500750")  # PLU 10005, 0.750 kg
    assert read_scale_barcode(code, FORMATS) == ScaleLabel("10005", None, 750)


def test_an_18_digit_label_carries_price_and_weight():
    code = coded("28100050096000750")  # PLU 10005, ¥9.60, 0.750 kg
    assert len(code) == 18
    assert read_scale_barcode(code, FORMATS) == ScaleLabel("10005", 960, 750)


def test_a_wrong_check_digit_is_a_misread_not_another_product():
    good = coded("271000501234")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(InvalidInput) as exc:
        read_scale_barcode(bad, FORMATS)
    assert "校验位" in exc.value.zh and "check digit" in exc.value.en


@pytest.mark.parametrize(
    "code",
    [
        "6921168509256",  # an ordinary EAN-13: prefix 69 is no scale's
        coded("20100050123"),  # 12 digits: no format of that length
        coded("2610005012345"),  # 14 digits
        "27100050A1234",  # not all digits
        coded("2010005012345678"),  # 17 digits
    ],
)
def test_codes_no_format_fits_are_ordinary_codes(code):
    assert read_scale_barcode(code, FORMATS) is None


def test_no_formats_configured_reads_nothing():
    assert read_scale_barcode(coded("271000501234"), ()) is None


def test_decimals_scale_the_values():
    # A scale printing whole jiao and tens of grams.
    fmt = ScaleBarcodeFormat("FFPPPPP$$$$$WWWWWC", ("21",), price_decimals=1, weight_decimals=2)
    label = read_scale_barcode(coded("21000120012300075"), [fmt])
    assert label == ScaleLabel("00012", 1230, 750)  # ¥12.3, 0.75 kg


def test_a_layout_with_ignored_digits():
    # Some scales print a check digit of the price: X positions are skipped.
    fmt = ScaleBarcodeFormat("FFPPPPX$$$$$C", ("22",))
    assert read_scale_barcode(coded("221234901234"), [fmt]) == ScaleLabel("1234", 1234, None)


@pytest.mark.parametrize(
    ("fmt", "words"),
    [
        (ScaleBarcodeFormat("FFPPPPP$$$$C"), "13 或 18"),
        (ScaleBarcodeFormat("FFPPPPPXXXXXC"), "既没有价格"),
        (ScaleBarcodeFormat("PPFFPPP$$$$$C"), "看不懂"),
        (ScaleBarcodeFormat("FFPPPPP$$$$$C", ("2",)), "2 位数字"),
        (ScaleBarcodeFormat("FFPPPPP$$$$$C", ("2a",)), "必须是数字"),
        (ScaleBarcodeFormat("FFPPPPP$$$$$C", price_decimals=3), "两位小数"),
    ],
)
def test_a_layout_that_cannot_be_read_is_explained(fmt, words):
    problem = format_problem(fmt)
    assert problem is not None and words in problem[0]


def test_the_common_layouts_are_fine():
    assert all(format_problem(f) is None for f in FORMATS)
