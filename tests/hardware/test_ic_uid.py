"""IC card numbers from UIDs and from sector blocks (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.cards.ic_uid import CardDataError, normalize_uid, number_from_block, uid_hex

UID4 = bytes.fromhex("04A1B2C3")
UID7 = bytes.fromhex("04A1B2C3D4E5F6")


@pytest.mark.parametrize(
    ("uid", "byte_order", "number_format", "expected"),
    [
        (UID4, "normal", "hex", "04A1B2C3"),
        (UID4, "reversed", "hex", "C3B2A104"),
        (UID4, "normal", "dec", "0077705923"),  # 0x04A1B2C3, padded to 10 digits
        (UID4, "reversed", "dec", "3283263748"),  # 0xC3B2A104
        (bytes(4), "normal", "dec", "0000000000"),
        (b"\xff" * 4, "normal", "dec", "4294967295"),
        (UID7, "normal", "hex", "04A1B2C3D4E5F6"),
        (UID7, "reversed", "hex", "F6E5D4C3B2A104"),
        (UID7, "normal", "dec", "01303689068602870"),  # 17 digits: width of 2**56 - 1
    ],
)
def test_uid_becomes_the_card_number(
    uid: bytes, byte_order: str, number_format: str, expected: str
) -> None:
    assert normalize_uid(uid, byte_order, number_format) == expected  # type: ignore[arg-type]


def test_raw_uid_is_upper_hex_in_the_readers_order() -> None:
    assert uid_hex(bytes.fromhex("c3b2a104")) == "C3B2A104"


def test_no_uid_is_an_error_with_both_languages() -> None:
    with pytest.raises(CardDataError) as caught:
        normalize_uid(b"")
    assert caught.value.zh and "no UID" in caught.value.en


@pytest.mark.parametrize(("byte_order", "number_format"), [("backwards", "hex"), ("normal", "oct")])
def test_unknown_settings_are_refused(byte_order: str, number_format: str) -> None:
    with pytest.raises(ValueError):
        normalize_uid(UID4, byte_order, number_format)  # type: ignore[arg-type]


@given(st.binary(min_size=1, max_size=10))
def test_dec_is_the_ordered_bytes_as_one_number(uid: bytes) -> None:
    assert int(normalize_uid(uid, "normal", "dec")) == int.from_bytes(uid, "big")
    assert int(normalize_uid(uid, "reversed", "dec")) == int.from_bytes(uid, "little")
    # Equal width for every UID of a length, so numbers sort and compare as printed.
    assert len(normalize_uid(uid, "normal", "dec")) == len(str(256 ** len(uid) - 1))


@given(st.binary(min_size=1, max_size=10))
def test_hex_round_trips(uid: bytes) -> None:
    assert bytes.fromhex(normalize_uid(uid, "normal", "hex")) == uid
    assert bytes.fromhex(normalize_uid(uid, "reversed", "hex")) == uid[::-1]


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (b"8800001234" + bytes(6), "8800001234"),
        (b"8800001234" + b"\xff" * 6, "8800001234"),
        (b"  VIP0042 \x00\x00\x00\x00\x00\x00\x00", "VIP0042"),
        (b"\x00\x00A1B2C3D4E5F6G7", "A1B2C3D4E5F6G7"),
        (b"1234567890123456", "1234567890123456"),
    ],
)
def test_block_text_is_the_card_number(block: bytes, expected: str) -> None:
    assert number_from_block(block) == expected


@pytest.mark.parametrize(
    "block",
    [
        bytes(16),
        b"\xff" * 16,
        b" " * 16,
        b"8800-001234" + bytes(5),  # punctuation inside
        b"88\x0000001234" + bytes(5),  # a NUL inside, not padding
        bytes.fromhex("04A1B2C3 D4 080400 62636465666768 69"),  # a manufacturer block
        "卡号1234".encode() + bytes(6),
    ],
)
def test_block_without_a_card_number_is_an_error(block: bytes) -> None:
    with pytest.raises(CardDataError) as caught:
        number_from_block(block)
    assert caught.value.zh and caught.value.en
