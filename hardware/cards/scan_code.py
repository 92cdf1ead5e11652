"""A barcode or QR scan turned into a card number.

Scanners send the code's text, often with a configured prefix or suffix and a terminator
(CR, LF or Tab). Many can also send an AIM symbology identifier first (ISO/IEC 15424):
`]` + a code character + a modifier, e.g. `]Q1` QR Code, `]E0` EAN-13, `]C1` GS1-128. When the
identifier is there it says what was scanned; otherwise the text decides: anything but
letters, digits and '-', or a long text, came from a 2-D code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from hardware.errors import DeviceError

ScanKind = Literal["barcode", "qr"]

DEFAULT_MIN_LEN = 3
# Longer than any card number printed as a 1-D barcode on a member card: a 2-D code.
LONG_SCAN = 32
TERMINATORS = "\r\n\t\x00"

# AIM code characters (ISO/IEC 15424). 2-D symbologies are reported with the kind "qr",
# the kind the app knows for all of them; stacked PDF417 counts as 2-D.
AIM_SYMBOLOGIES: dict[str, tuple[str, ScanKind]] = {
    "A": ("Code 39", "barcode"),
    "C": ("Code 128", "barcode"),
    "E": ("EAN/UPC", "barcode"),
    "F": ("Codabar", "barcode"),
    "G": ("Code 93", "barcode"),
    "H": ("Code 11", "barcode"),
    "I": ("Interleaved 2 of 5", "barcode"),
    "M": ("MSI", "barcode"),
    "S": ("Industrial 2 of 5", "barcode"),
    "e": ("GS1 DataBar", "barcode"),
    "L": ("PDF417", "qr"),
    "Q": ("QR Code", "qr"),
    "U": ("MaxiCode", "qr"),
    "d": ("Data Matrix", "qr"),
    "h": ("Han Xin Code", "qr"),
    "z": ("Aztec", "qr"),
}

_BARCODE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-")


class ScanCodeError(DeviceError, ValueError):
    """A scan gave no usable number (empty, too short)."""

    code = "bad_scan"


@dataclass(frozen=True)
class ScannedCode:
    """A scan: its kind, the card number, and the AIM identifier when the scanner sent one."""

    kind: ScanKind
    number: str = field(repr=False)
    symbology: str | None = None

    @property
    def symbology_name(self) -> str | None:
        """The symbology's name ("EAN/UPC") when an AIM identifier came with the scan."""
        if self.symbology is None:
            return None
        return AIM_SYMBOLOGIES[self.symbology[1]][0]


def strip_affixes(text: str, prefix: str = "", suffix: str = "") -> str:
    """Remove terminators, then a configured prefix and suffix where present."""
    body = text.strip(TERMINATORS)
    if prefix and body.startswith(prefix):
        body = body[len(prefix) :]
    if suffix and body.endswith(suffix):
        body = body[: -len(suffix)]
    return body.strip(TERMINATORS)


def split_aim(text: str) -> tuple[str | None, str]:
    """(AIM identifier or None, the data after it)."""
    if len(text) >= 3 and text[0] == "]" and text[1] in AIM_SYMBOLOGIES and text[2].isalnum():
        return text[:3], text[3:]
    return None, text


def guess_kind(data: str) -> ScanKind:
    """Without an AIM identifier: 1-D barcodes on cards carry letters, digits and '-'."""
    if len(data) > LONG_SCAN or any(c not in _BARCODE_CHARS for c in data):
        return "qr"
    return "barcode"


def parse_scan(
    text: str, *, prefix: str = "", suffix: str = "", min_len: int = DEFAULT_MIN_LEN
) -> ScannedCode:
    """Turn what a scanner sent into (kind, card number).

    Raises ScanCodeError (Chinese and English) when nothing or too little is left.
    """
    symbology, data = split_aim(strip_affixes(text, prefix, suffix))
    number = data.strip()
    if not number:
        raise ScanCodeError(
            "扫码失败：没有读到内容，请重新扫码", "Scan failed: nothing was read; please scan again"
        )
    if len(number) < min_len:
        raise ScanCodeError(
            f"扫码失败：内容太短（{len(number)} 位，至少 {min_len} 位），请重新扫码",
            f"Scan failed: too short ({len(number)} characters, at least {min_len}); "
            "please scan again",
        )
    kind = AIM_SYMBOLOGIES[symbology[1]][1] if symbology else guess_kind(number)
    return ScannedCode(kind=kind, number=number, symbology=symbology)
