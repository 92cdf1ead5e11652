"""Scanned text to (kind, card number): AIM identifiers, heuristics, prefix/suffix, length."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.cards.scan_code import (
    LONG_SCAN,
    ScanCodeError,
    ScannedCode,
    guess_kind,
    parse_scan,
    split_aim,
    strip_affixes,
)


@pytest.mark.parametrize(
    ("text", "kind", "number", "aim", "name"),
    [
        ("]Q1VIP-0001\r", "qr", "VIP-0001", "]Q1", "QR Code"),
        ("]E06901234567892\r\n", "barcode", "6901234567892", "]E0", "EAN/UPC"),
        ("]E469012341", "barcode", "69012341", "]E4", "EAN/UPC"),
        ("]C1M123456\t", "barcode", "M123456", "]C1", "Code 128"),
        ("]A0CARD-77", "barcode", "CARD-77", "]A0", "Code 39"),
        ("]d2ABC123", "qr", "ABC123", "]d2", "Data Matrix"),
        ("]h0会员12345", "qr", "会员12345", "]h0", "Han Xin Code"),
    ],
)
def test_an_aim_identifier_decides_the_kind(text, kind, number, aim, name):
    code = parse_scan(text)
    assert (code.kind, code.number, code.symbology, code.symbology_name) == (
        kind,
        number,
        aim,
        name,
    )


def test_a_qr_code_with_only_digits_is_still_a_qr_code_when_the_scanner_says_so():
    assert parse_scan("]Q112345678").kind == "qr"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("6901234567892", "barcode"),
        ("VIP-000123", "barcode"),
        ("https://shop.example.cn/m?c=123", "qr"),
        ("会员卡 8888", "qr"),
        ("A" * LONG_SCAN, "barcode"),
        ("A" * (LONG_SCAN + 1), "qr"),
    ],
)
def test_without_an_identifier_the_text_decides(text, kind):
    code = parse_scan(text + "\r")
    assert code.kind == kind and code.symbology is None and code.symbology_name is None


def test_something_that_only_looks_like_an_identifier_is_data():
    assert split_aim("]Z1abc") == (None, "]Z1abc")
    assert split_aim("]Q") == (None, "]Q")
    code = parse_scan("]Z1abc")
    assert code.number == "]Z1abc" and code.kind == "qr"


def test_prefix_suffix_and_terminators_are_removed():
    assert parse_scan("STX12345678ETX\r\n", prefix="STX", suffix="ETX").number == "12345678"
    assert parse_scan("#]E06901234567892", prefix="#").symbology == "]E0"
    # a configured prefix that did not come is not an error: the code is still read
    assert parse_scan("12345678\r", prefix="#", suffix="$").number == "12345678"
    assert strip_affixes("\t#123$\r\n", "#", "$") == "123"


def test_too_short_is_a_bilingual_error():
    with pytest.raises(ScanCodeError) as caught:
        parse_scan("12\r", min_len=3)
    assert "至少 3 位" in caught.value.message("zh")
    assert "at least 3" in caught.value.message("en")
    assert parse_scan("123", min_len=3).number == "123"


def test_nothing_scanned_is_an_error():
    with pytest.raises(ScanCodeError) as caught:
        parse_scan("\r\n")
    assert "没有读到内容" in caught.value.zh
    with pytest.raises(ScanCodeError):
        parse_scan("]E0\r")  # an identifier and nothing after it


def test_the_number_stays_out_of_repr():
    assert "6901234567892" not in repr(parse_scan("6901234567892"))


@given(
    st.text(
        alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-",
        min_size=3,
        max_size=LONG_SCAN,
    )
)
def test_card_style_codes_are_barcodes_and_come_back_unchanged(code):
    scanned = parse_scan(f"PRE{code}SUF\r", prefix="PRE", suffix="SUF")
    assert scanned == ScannedCode(kind="barcode", number=code.strip())
    assert guess_kind(code) == "barcode"


@given(st.text(min_size=1, max_size=80))
def test_any_text_gives_a_code_or_a_scan_error(text):
    try:
        code = parse_scan(text)
    except ScanCodeError as exc:
        assert exc.zh and exc.en
    else:
        assert len(code.number) >= 3 and code.kind in ("barcode", "qr")
