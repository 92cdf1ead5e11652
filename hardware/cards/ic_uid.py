"""Turning what an IC card reader read into the card number the app looks up.

Pure functions, no I/O. Member cards are identified either by their UID (the number printed
on many cards is the UID in decimal, sometimes from a reader that reports the bytes in
reverse order) or by a card number the card issuer wrote into a sector block as text.
"""

from __future__ import annotations

from typing import Literal

ByteOrder = Literal["normal", "reversed"]
NumberFormat = Literal["hex", "dec"]
BYTE_ORDERS: tuple[ByteOrder, ...] = ("normal", "reversed")
NUMBER_FORMATS: tuple[NumberFormat, ...] = ("hex", "dec")

# Padding an issuer leaves around the text in a block: NUL, erased bytes (FF) and spaces.
BLOCK_PADDING = b"\x00\xff "


class CardDataError(ValueError):
    """The card's data holds no card number; `zh` and `en` say why."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


def uid_hex(uid: bytes) -> str:
    """The UID as upper-case hex, in the order the reader gave it (the event's `raw`)."""
    return uid.hex().upper()


def normalize_uid(
    uid: bytes, byte_order: ByteOrder = "normal", number_format: NumberFormat = "hex"
) -> str:
    """The card number from a UID.

    `byte_order` "reversed" undoes a reader that reports the UID least significant byte
    first. "hex" gives upper-case hex; "dec" the decimal value of the ordered bytes read as
    one big-endian integer, zero-padded to the width of the largest value of that many
    bytes (10 digits for a 4-byte UID, as printed on cards; 17 for 7 bytes).
    """
    if not uid:
        raise CardDataError("卡片没有返回 UID", "The card returned no UID")
    if byte_order not in BYTE_ORDERS:
        raise ValueError(f"byte_order must be one of {BYTE_ORDERS}, not {byte_order!r}")
    if number_format not in NUMBER_FORMATS:
        raise ValueError(f"number_format must be one of {NUMBER_FORMATS}, not {number_format!r}")
    ordered = uid[::-1] if byte_order == "reversed" else uid
    if number_format == "hex":
        return ordered.hex().upper()
    width = len(str(256 ** len(ordered) - 1))
    return str(int.from_bytes(ordered, "big")).zfill(width)


def number_from_block(data: bytes) -> str:
    """The card number an issuer wrote into a block as ASCII text (digits and letters),
    without the padding around it (NUL, FF, spaces).

    Raises CardDataError when nothing is left or anything else is in the block: binary
    data read as text would give a wrong number, which is worse than none.
    """
    text = data.strip(BLOCK_PADDING)
    if not text:
        raise CardDataError("卡片数据块中没有卡号（块为空）", "The card's data block is empty")
    if not (text.isascii() and text.isalnum()):
        raise CardDataError(
            "卡片数据块中的内容不是卡号（只能是字母和数字）",
            "The card's data block does not hold a card number (letters and digits only)",
        )
    return text.decode("ascii")
