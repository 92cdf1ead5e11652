"""What devices report: a card presented or removed, and a device's status.

Card data is kept out of `repr` so that logging an event never writes a full card number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

CardKind = Literal["ic", "magstripe", "barcode", "qr"]
CARD_KINDS: tuple[CardKind, ...] = ("ic", "magstripe", "barcode", "qr")


def mask_number(number: str) -> str:
    """A card number safe for logs and screens: the last 4 characters, the rest as '*'."""
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


@dataclass(frozen=True)
class CardPresented:
    """A card was tapped, inserted, swiped or scanned.

    `raw` is what the device gave (UID hex, track text, scanned text); `number` is the
    normalized card number the app looks up; `reader` names the source (its URI or reader
    name); `at` is `time.monotonic()` when the data was complete.
    """

    kind: CardKind
    raw: str = field(repr=False)
    number: str = field(repr=False)
    reader: str
    at: float

    @property
    def masked(self) -> str:
        """The number as it may be logged or shown."""
        return mask_number(self.number)


@dataclass(frozen=True)
class CardRemoved:
    """An IC card left the reader (magstripe and scans have no removal)."""

    reader: str
    at: float


@dataclass(frozen=True)
class CardReadFailed:
    """Something was presented but could not be read (bad swipe, wrong sector key, a scan
    too short): the cashier sees the reason and tries again."""

    reader: str
    reason_zh: str
    reason_en: str
    at: float

    def reason(self, lang: str = "zh") -> str:
        """The reason in the operator's language."""
        return self.reason_en if lang == "en" else self.reason_zh


CardEvent = CardPresented | CardRemoved | CardReadFailed


class DeviceState(StrEnum):
    """A device's condition as the operator needs to know it."""

    READY = "ready"
    NOT_FOUND = "not_found"  # unplugged, no such port/host, no reader matching the name
    NO_DRIVER = "no_driver"  # the library or daemon is missing (pyscard, pcscd, pyusb)
    OFFLINE = "offline"  # there, but not answering (printer off, silent)
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    ERROR = "error"
    UNKNOWN = "unknown"  # the device cannot report (file: output, Win32Raw)


STATE_TEXT = {
    DeviceState.READY: ("就绪", "ready"),
    DeviceState.NOT_FOUND: ("未找到设备", "device not found"),
    DeviceState.NO_DRIVER: ("缺少驱动或服务", "driver or service missing"),
    DeviceState.OFFLINE: ("无响应", "not answering"),
    DeviceState.PAPER_OUT: ("缺纸", "out of paper"),
    DeviceState.COVER_OPEN: ("纸仓盖打开", "cover open"),
    DeviceState.ERROR: ("故障", "error"),
    DeviceState.UNKNOWN: ("状态未知", "status unknown"),
}


@dataclass(frozen=True)
class DeviceStatus:
    """A device's state with a short explanation in both languages."""

    uri: str
    role: str  # card_source, printer, drawer, display, scale
    state: DeviceState
    detail_zh: str = ""
    detail_en: str = ""

    @property
    def ok(self) -> bool:
        """True when the device can be used now (or cannot tell, as a file cannot)."""
        return self.state in (DeviceState.READY, DeviceState.UNKNOWN)

    def text(self, lang: str = "zh") -> str:
        """ "state: detail" in the operator's language."""
        zh, en = STATE_TEXT[self.state]
        label, detail = (en, self.detail_en) if lang == "en" else (zh, self.detail_zh)
        return f"{label}: {detail}" if detail else label
