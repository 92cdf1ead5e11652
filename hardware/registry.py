"""Opening devices by URI, checking them, and finding what is plugged in.

The one place that knows which driver serves which URI scheme for which role. Drivers are
imported only when used, so a till without pyscard (or libusb) still opens its printer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hardware.errors import DeviceError, DeviceUriError
from hardware.events import DeviceState, DeviceStatus
from hardware.interfaces import CardSource, LineDisplay, Scale
from hardware.printing.document import PrinterProfile
from hardware.uri import DeviceUri, parse_device_uri

if TYPE_CHECKING:  # the driver is imported only when a printer is opened
    from hardware.printing.escpos_printer import EscposPrinter

log = logging.getLogger(__name__)

ROLE_NAMES = {
    "card_source": ("读卡器", "card source"),
    "printer": ("小票打印机", "receipt printer"),
    "drawer": ("钱箱", "cash drawer"),
    "display": ("客显", "pole display"),
    "scale": ("电子秤", "scale"),
}
# Which URI schemes can serve which role; `sim:` names its simulator.
ROLE_SCHEMES = {
    "card_source": ("pcsc", "serial", "wedge", "sim"),
    "printer": ("tcp", "serial", "usb", "file", "sim"),
    "drawer": ("tcp", "serial", "usb", "file", "sim"),
    "display": ("serial", "sim"),
    "scale": ("serial", "sim"),
}
ROLE_SIMS = {
    "card_source": ("card",),
    "printer": ("printer",),
    "drawer": ("printer",),
    "display": ("display",),
    "scale": ("scale",),
}


def as_uri(uri: str | DeviceUri, role: str) -> DeviceUri:
    """Parse `uri` and check that it can serve `role`; bilingual DeviceUriError otherwise."""
    parsed = uri if isinstance(uri, DeviceUri) else parse_device_uri(uri)
    zh_role, en_role = ROLE_NAMES[role]
    if parsed.scheme not in ROLE_SCHEMES[role] or (
        parsed.scheme == "sim" and parsed.target not in ROLE_SIMS[role]
    ):
        schemes = ", ".join(f"{s}:" for s in ROLE_SCHEMES[role])
        sims = ", ".join(f"sim:{s}" for s in ROLE_SIMS[role])
        raise DeviceUriError(
            f"{parsed.text} 不能用作{zh_role}（可用：{schemes} 或 {sims}）",
            f"{parsed.text} cannot be a {en_role} (use {schemes} or {sims})",
        )
    return parsed


def open_card_source(uri: str | DeviceUri) -> CardSource:
    """A card source for `uri` (not started: call `start(on_event)`)."""
    parsed = as_uri(uri, "card_source")
    if parsed.scheme == "pcsc":
        from hardware.cards.pcsc_reader import PcscCardSource

        return PcscCardSource(parsed)
    if parsed.scheme == "serial":
        from hardware.cards.serial_reader import SerialCardSource

        return SerialCardSource(parsed)
    if parsed.scheme == "wedge":
        from hardware.cards.wedge import WedgeCardSource

        return WedgeCardSource(parsed)
    from hardware.sim.sim_devices import SimCardSource

    return SimCardSource(parsed)


def open_printer(
    uri: str | DeviceUri,
    profile: PrinterProfile,
    spool_path: Path,
    png_dir: Path | None = None,
) -> EscposPrinter:
    """The receipt printer (and drawer) at `uri`, its jobs spooled in `spool_path`.
    `png_dir` is where `sim:printer` writes what it receives (unless `?png_dir=` says)."""
    parsed = as_uri(uri, "printer")
    if parsed.scheme == "sim":
        from hardware.sim.sim_devices import SimPrinter

        return SimPrinter(parsed, profile, spool_path, png_dir)
    from hardware.printing.escpos_printer import EscposPrinter

    return EscposPrinter(parsed, profile, spool_path)


def open_display(uri: str | DeviceUri) -> LineDisplay:
    """The pole display at `uri`."""
    parsed = as_uri(uri, "display")
    if parsed.scheme == "sim":
        from hardware.sim.sim_devices import SimDisplay

        return SimDisplay(parsed)
    from hardware.display.cd5220 import Cd5220Display

    return Cd5220Display(parsed)


def open_scale(uri: str | DeviceUri) -> Scale:
    """The scale at `uri`."""
    parsed = as_uri(uri, "scale")
    if parsed.scheme == "sim":
        from hardware.sim.sim_devices import SimScale

        return SimScale(parsed)
    from hardware.scale import SerialScale

    return SerialScale(parsed)


def probe(role: str, uri: str, profile: PrinterProfile | None = None) -> DeviceStatus:
    """A configured device's status, without keeping it open; never raises."""
    try:
        parsed = as_uri(uri, role)
    except DeviceUriError as exc:
        return DeviceStatus(uri, role, DeviceState.ERROR, exc.zh, exc.en)
    try:
        if parsed.scheme == "sim":
            zh, en = "模拟设备", "simulated"
            return DeviceStatus(uri, role, DeviceState.READY, zh, en)
        if role == "card_source" and parsed.scheme == "pcsc":
            from hardware.cards.pcsc_reader import pcsc_status

            return pcsc_status(parsed)
        if role in ("printer", "drawer"):
            from hardware.printing.transport import probe_printer

            return probe_printer(parsed, role)
        device: CardSource | LineDisplay | Scale
        if role == "card_source":
            device = open_card_source(parsed)
        elif role == "display":
            device = open_display(parsed)
        else:
            device = open_scale(parsed)
        try:
            return device.status()
        finally:
            device.close()
    except DeviceError as exc:
        return DeviceStatus(uri, role, DeviceState.ERROR, exc.zh, exc.en)
    except Exception as exc:  # a driver bug must not take `hw list` down with it
        log.debug("probing %s failed", uri, exc_info=True)
        return DeviceStatus(uri, role, DeviceState.ERROR, str(exc), str(exc))


@dataclass(frozen=True)
class DetectedDevice:
    """Something plugged in that could be configured, with the URI to use for it."""

    kind: str  # pcsc_reader, serial_port, usb_printer
    uri: str
    description: str


def detect() -> list[DetectedDevice]:
    """PC/SC readers, serial ports and USB printers present now; never raises."""
    found: list[DetectedDevice] = []
    try:
        from hardware.cards.pcsc_reader import list_readers

        found += [DetectedDevice("pcsc_reader", f"pcsc:{name}", name) for name in list_readers()]
    except ImportError:
        pass
    try:
        from hardware.serial_port import list_serial_ports

        found += [DetectedDevice("serial_port", f"serial:{p}", p) for p in list_serial_ports()]
    except ImportError:
        pass
    found += _usb_printers()
    return found


def _usb_printers() -> list[DetectedDevice]:
    """USB devices with a printer interface (class 7), when pyusb and libusb are there."""
    try:
        import usb.core

        devices = list(usb.core.find(find_all=True) or [])
    except Exception:  # no pyusb, no libusb backend, no permission: nothing to list
        return []
    found = []
    for dev in devices:
        try:
            classes = {intf.bInterfaceClass for cfg in dev for intf in cfg}
        except Exception:
            continue
        if 7 in classes or dev.bDeviceClass == 7:
            ids = f"{dev.idVendor:04x}:{dev.idProduct:04x}"
            found.append(DetectedDevice("usb_printer", f"usb:{ids}", f"USB printer {ids}"))
    return found
