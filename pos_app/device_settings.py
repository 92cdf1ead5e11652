"""Which devices this till uses: the `[devices]` table of the installation's settings file.

`<data dir>/settings.toml` (one per installation), for example:

    [devices]
    card_sources = ["pcsc:", "wedge"]            # every source is listened to at once
    printer = "tcp://192.168.1.50:9100"          # or serial:/dev/ttyS0?baud=19200, usb:0416:5011
    paper_mm = 80                                # 58 or 80
    encoding = "gb18030"                         # gb18030, gbk, big5, utf-8
    image = false                                # true: print as a picture (no Chinese font)
    drawer = true                                # a cash drawer hangs on the printer
    drawer_pin = 2                               # 2 or 5
    display = "serial:/dev/ttyUSB1?baud=9600"    # CD5220 pole display
    scale = ""                                   # serial:/dev/ttyUSB2?protocol=toledo

Environment variables override the file (for one till, a test, the demo): POS_CARD_SOURCES
(comma-separated), POS_PRINTER, POS_DISPLAY, POS_SCALE, POS_PAPER_MM, POS_PRINTER_ENCODING.
Every URI is checked when the settings are read, so a typo is reported before a sale.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.errors import DeviceUriError
from hardware.printing.document import ENCODINGS, PAPER_WIDTHS, Encoding, PrinterProfile
from hardware.uri import parse_device_uri

SETTINGS_FILE = "settings.toml"
SPOOL_FILE = "print-spool.sqlite3"


def _bad(zh: str, en: str) -> DeviceUriError:
    return DeviceUriError(f"设置文件 {SETTINGS_FILE} 有误：{zh}", f"{SETTINGS_FILE}: {en}")


@dataclass(frozen=True)
class DeviceSettings:
    """The devices of one till; empty strings mean "none configured"."""

    card_sources: tuple[str, ...] = ()
    printer: str = ""
    paper_mm: int = 80
    encoding: Encoding = "gb18030"
    image: bool = False
    drawer: bool = False
    drawer_pin: int = 2
    display: str = ""
    scale: str = ""
    logo: str = ""
    source: str = field(default="", compare=False)  # the file read, for messages

    @property
    def profile(self) -> PrinterProfile:
        """The receipt printer's paper, encoding and mode."""
        return PrinterProfile(paper_mm=self.paper_mm, encoding=self.encoding, image=self.image)

    def configured(self) -> list[tuple[str, str]]:
        """(role, uri) of every configured device, in the order `hw list` shows them."""
        rows = [("card_source", uri) for uri in self.card_sources]
        rows += [(role, uri) for role, uri in (("printer", self.printer),) if uri]
        if self.drawer and self.printer:
            rows.append(("drawer", self.printer))
        rows += [(role, uri) for role, uri in (("display", self.display), ("scale", self.scale))]
        return [(role, uri) for role, uri in rows if uri]


def _text(table: Mapping[str, Any], key: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise _bad(f"{key} 应为文字", f"{key} must be a string")
    return value.strip()


def _check_uri(key: str, uri: str) -> str:
    if uri:
        try:
            parse_device_uri(uri)
        except DeviceUriError as exc:
            raise _bad(f"{key}：{exc.zh}", f"{key}: {exc.en}") from None
    return uri


def settings_from_mapping(table: Mapping[str, Any], source: str = "") -> DeviceSettings:
    """Validate a `[devices]` table (as read from TOML, with overrides applied)."""
    sources = table.get("card_sources", [])
    if isinstance(sources, str):
        sources = [part for part in sources.split(",")]
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise _bad("card_sources 应为地址列表", "card_sources must be a list of device URIs")
    card_sources = tuple(_check_uri("card_sources", s.strip()) for s in sources if s.strip())
    paper_mm = table.get("paper_mm", 80)
    # From POS_PAPER_MM: only the widths themselves ("²".isdigit() is true, int("²") fails).
    if isinstance(paper_mm, str) and paper_mm.strip() in {str(w) for w in PAPER_WIDTHS}:
        paper_mm = int(paper_mm)
    if paper_mm not in PAPER_WIDTHS:
        raise _bad(
            f"paper_mm 只能是 58 或 80：{paper_mm}", f"paper_mm must be 58 or 80: {paper_mm}"
        )
    encoding = str(table.get("encoding", "gb18030")).lower()
    if encoding not in ENCODINGS:
        names = "、".join(ENCODINGS)
        raise _bad(f"encoding 只能是 {names}", f"encoding must be one of {', '.join(ENCODINGS)}")
    pin = table.get("drawer_pin", 2)
    if pin not in (2, 5):
        raise _bad(f"drawer_pin 只能是 2 或 5：{pin}", f"drawer_pin must be 2 or 5: {pin}")
    for flag in ("image", "drawer"):
        if not isinstance(table.get(flag, False), bool):
            raise _bad(f"{flag} 应为 true 或 false", f"{flag} must be true or false")
    return DeviceSettings(
        card_sources=card_sources,
        printer=_check_uri("printer", _text(table, "printer")),
        paper_mm=paper_mm,
        encoding=encoding,  # type: ignore[arg-type]  # checked against ENCODINGS above
        image=bool(table.get("image", False)),
        drawer=bool(table.get("drawer", False)),
        drawer_pin=pin,
        display=_check_uri("display", _text(table, "display")),
        scale=_check_uri("scale", _text(table, "scale")),
        logo=_text(table, "logo"),
        source=source,
    )


_ENV = {
    "POS_CARD_SOURCES": "card_sources",
    "POS_PRINTER": "printer",
    "POS_DISPLAY": "display",
    "POS_SCALE": "scale",
    "POS_PAPER_MM": "paper_mm",
    "POS_PRINTER_ENCODING": "encoding",
}


def load_device_settings(
    data_dir: Path, environ: Mapping[str, str] | None = None
) -> DeviceSettings:
    """The till's device settings: `settings.toml` in the data folder (if any), then the
    environment's overrides. A malformed file raises DeviceUriError with the reason."""
    env = os.environ if environ is None else environ
    path = data_dir / SETTINGS_FILE
    table: dict[str, Any] = {}
    if path.exists():
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise _bad(f"无法读取：{exc}", f"cannot be read: {exc}") from None
        devices = document.get("devices", {})
        if not isinstance(devices, dict):
            raise _bad("[devices] 应为表", "[devices] must be a table")
        table.update(devices)
    for name, key in _ENV.items():
        if env.get(name) is not None:
            table[key] = env[name]
    return settings_from_mapping(table, str(path))
