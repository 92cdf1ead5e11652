"""The till's devices as Qt signals: card events, printer and reader status, print jobs.

Drivers call back from their own threads; this object hands what they report to the GUI
thread (`post_to_gui`) and emits it there as signals (the Electrum pattern). Everything that
talks to a device (opening it, printing, the drawer, the pole display, status queries) is a
plain blocking method meant to run through `ServiceOp(..., kind="io")`, never on the GUI thread.

The printer is opened once and kept open for the app's life, so a receipt queued while the
printer was out of paper goes out as soon as the paper is back, without waiting for the
next receipt.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, SignalInstance
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

from hardware.errors import DeviceError, DeviceRefused, DeviceUnavailable
from hardware.events import (
    CardEvent,
    CardPresented,
    CardReadFailed,
    CardRemoved,
    DeviceState,
    DeviceStatus,
)
from hardware.interfaces import CardSource, LineDisplay, Scale, Weight
from hardware.printing.document import PrintDocument
from hardware.printing.jobs import PrintJobInfo
from hardware.registry import open_card_source, open_display, open_printer, open_scale, probe
from pos_app.device_settings import SPOOL_FILE, DeviceSettings
from pos_app.domain.receipt import ReceiptDocument
from pos_app.services.receipt_printing import print_receipt, wait_for_outcome
from pos_app.ui.operations import gui_inbox, post_to_gui

if TYPE_CHECKING:
    from hardware.cards.wedge import WedgeCardSource
    from hardware.printing.escpos_printer import EscposPrinter
    from hardware.sim.sim_devices import SimCardSource
    from pos_app.ui.wedge_filter import WedgeKeyFilter

log = logging.getLogger(__name__)

SIM_PNG_DIR = "sim-printer"  # where sim:printer writes what it prints, in the data folder


def _no_printer() -> DeviceUnavailable:
    return DeviceUnavailable(
        "没有配置小票打印机：在「设置 → 设备」中设置",
        "No receipt printer is configured: set one under Settings → Devices",
    )


class DeviceHub(QObject):
    """Opens the configured devices and reports what they do as signals."""

    sig_card = Signal(object)
    """A card was swiped, tapped or scanned (a CardPresented), from any source."""

    sig_card_failed = Signal(object)
    """A card could not be read (a CardReadFailed): say so, and ask to try again."""

    sig_card_removed = Signal(object)
    """An IC card left its reader (a CardRemoved)."""

    sig_status = Signal(object)
    """A device's state (a DeviceStatus: role "printer", "card_source", "display")."""

    sig_job = Signal(object)
    """A print job changed state (a PrintJobInfo)."""

    def __init__(
        self, data_dir: Path, settings: DeviceSettings, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.settings = settings
        self.lang = "zh"
        self._lock = threading.Lock()
        self._sources: list[CardSource] = []
        self._wedge: WedgeKeyFilter | None = None
        self._printer: EscposPrinter | None = None
        self._display: LineDisplay | None = None
        self._scale: Scale | None = None
        self._opened = False
        self._card_claims: list[QObject] = []
        gui_inbox()  # made here, on the GUI thread, before a device thread posts to it

    # -- opening and closing (io worker) ---------------------------------------------------

    def open_all(self) -> list[DeviceStatus]:
        """Open every configured device; a device that fails to open is reported as a status
        and the others still open. Returns the statuses (also emitted)."""
        statuses: list[DeviceStatus] = []
        with self._lock:
            self._opened = True
            for uri in self.settings.card_sources:
                if uri.strip().startswith("wedge"):
                    continue  # the key filter lives on the GUI thread: see install_wedge()
                statuses.append(self._open_source(uri))
            if self.settings.printer:
                statuses.append(self._open_printer())
            if self.settings.display:
                statuses.append(self._open_display())
        self._emit_statuses(statuses)
        return statuses

    def _open_source(self, uri: str) -> DeviceStatus:
        try:
            source = open_card_source(uri)
            source.start(self._on_card_event)
        except DeviceError as exc:
            log.warning("card source %s did not open: %s", uri, exc.en)
            return DeviceStatus(uri, "card_source", DeviceState.ERROR, exc.zh, exc.en)
        self._sources.append(source)
        return source.status()

    def _open_printer(self) -> DeviceStatus:
        uri = self.settings.printer
        try:
            printer = open_printer(
                uri,
                self.settings.profile,
                self.data_dir / SPOOL_FILE,
                png_dir=self.data_dir / SIM_PNG_DIR,
            )
        except DeviceError as exc:
            log.warning("printer %s did not open: %s", uri, exc.en)
            return DeviceStatus(uri, "printer", DeviceState.ERROR, exc.zh, exc.en)
        printer.on_job_change(lambda job: post_to_gui(lambda: self._emit(self.sig_job, job)))
        self._printer = printer
        return printer.status()

    def _open_display(self) -> DeviceStatus:
        uri = self.settings.display
        try:
            self._display = open_display(uri)
        except DeviceError as exc:
            log.warning("display %s did not open: %s", uri, exc.en)
            return DeviceStatus(uri, "display", DeviceState.ERROR, exc.zh, exc.en)
        return self._display.status()

    def install_wedge(self, app: QApplication) -> None:
        """Listen to keyboard wedges (GUI thread): configured with `wedge` in card_sources."""
        uris = [u for u in self.settings.card_sources if u.strip().startswith("wedge")]
        if not uris or self._wedge is not None:
            return
        from hardware.registry import open_card_source as open_source
        from pos_app.ui.wedge_filter import WedgeKeyFilter

        source: WedgeCardSource = open_source(uris[0])  # type: ignore[assignment]
        self._wedge = WedgeKeyFilter(source, self)
        self._wedge.sig_card.connect(self.sig_card.emit)
        self._wedge.sig_card_failed.connect(self.sig_card_failed.emit)
        self._wedge.install(app)

    def close(self) -> None:
        """Stop listening and close every device (at exit)."""
        if self._wedge is not None:
            self._wedge.uninstall()
            self._wedge = None
        with self._lock:
            devices: list[CardSource | LineDisplay | EscposPrinter | Scale] = [*self._sources]
            devices += [d for d in (self._printer, self._display, self._scale) if d is not None]
            self._sources, self._printer, self._display, self._scale = [], None, None, None
        for device in devices:
            try:
                device.close()
            except Exception:  # closing must go on for the other devices
                log.warning("closing %s failed", getattr(device, "uri", device), exc_info=True)

    def set_language(self, lang: str) -> None:
        """The language receipts are printed in ("zh" or "en")."""
        self.lang = lang

    # -- who a card event is for -------------------------------------------------------------

    def claim_cards(self, owner: QObject) -> None:
        """`owner` (a dialog waiting for a card: approval, registration, unlock) takes the
        card events until it releases them; screens behind it ignore them meanwhile."""
        if owner not in self._card_claims:
            self._card_claims.append(owner)

    def release_cards(self, owner: QObject) -> None:
        if owner in self._card_claims:
            self._card_claims.remove(owner)

    def cards_are_for(self, widget: QWidget) -> bool:
        """Whether a card event should be handled by `widget`: the latest claimant, or,
        when nobody claimed them, the screen the cashier is looking at."""
        self._card_claims = [c for c in self._card_claims if isValid(c)]
        if self._card_claims:
            return self._card_claims[-1] is widget
        return widget.isVisible()

    # -- events from device threads --------------------------------------------------------

    def _on_card_event(self, event: CardEvent) -> None:
        if isinstance(event, CardPresented):
            post_to_gui(lambda: self._emit(self.sig_card, event))
        elif isinstance(event, CardReadFailed):
            post_to_gui(lambda: self._emit(self.sig_card_failed, event))
        elif isinstance(event, CardRemoved):
            post_to_gui(lambda: self._emit(self.sig_card_removed, event))

    def _emit_statuses(self, statuses: list[DeviceStatus]) -> None:
        for status in statuses:
            post_to_gui(lambda s=status: self._emit(self.sig_status, s))

    def _emit(self, signal: SignalInstance, value: object) -> None:
        """On the GUI thread: emit, unless the hub was deleted meanwhile (app closing)."""
        if isValid(self):
            signal.emit(value)

    # -- what screens ask for (io worker) --------------------------------------------------

    @property
    def has_printer(self) -> bool:
        return bool(self.settings.printer)

    @property
    def has_drawer(self) -> bool:
        return bool(self.settings.printer) and self.settings.drawer

    def print_receipt(self, doc: ReceiptDocument) -> str:
        """Queue a committed sale's receipt; returns the print job's id at once. A printer
        that is off keeps it queued (see sig_job); it never raises for that."""
        printer = self._require_printer()
        return print_receipt(printer, doc, self.settings.profile, self.lang, self.settings.logo)

    def print_document(self, doc: PrintDocument) -> str:
        """Queue any laid-out document (a report, a test page); returns the job id at once."""
        return self._require_printer().print(doc)

    def reprint(self, doc: ReceiptDocument) -> str:
        """补打: print a receipt again (the document comes from the services' reprint)."""
        return self.print_receipt(doc)

    def wait_for_job(self, job_id: str, timeout: float) -> PrintJobInfo:
        """The job once it printed, failed, became uncertain, or a first try found the printer
        not ready (it stays queued and prints when it can)."""
        return wait_for_outcome(self._require_printer(), job_id, timeout)

    def kick_drawer(self) -> None:
        """Open the cash drawer now, or raise: a drawer never opens later."""
        printer = self._require_printer()
        printer.kick(self.settings.drawer_pin)

    def show_on_display(self, line1: str, line2: str = "") -> None:
        """Show two lines on the pole display; no display configured: nothing to do."""
        if self._display is not None:
            self._display.show(line1, line2)

    @property
    def has_scale(self) -> bool:
        return bool(self.settings.scale)

    def read_weight(self, timeout: float = 2.0) -> Weight:
        """A settled weight of something on the scale (io worker; up to `timeout` seconds).
        Raises the driver's DeviceError with its message — not settled, overloaded, below
        zero, silent — or DeviceUnavailable when no scale is configured."""
        scale = self._require_scale()
        weight = scale.read_weight(timeout)
        if not weight.stable:
            raise DeviceRefused(
                "秤未稳定，请等物品放稳后再称",
                "The scale has not settled; wait until the goods are still",
            )
        if weight.grams <= 0:
            raise DeviceRefused("秤上没有东西", "Nothing is on the scale")
        return weight

    def _require_scale(self) -> Scale:
        """The scale, opened on first use (a till without goods sold by weight never opens
        its port)."""
        if not self.settings.scale:
            raise DeviceUnavailable(
                "没有配置电子秤：在「设置 → 设备」中设置，或手工输入重量",
                "No scale is configured: set one under Settings → Devices, or type the weight",
            )
        with self._lock:
            if self._scale is None:
                self._scale = open_scale(self.settings.scale)
            return self._scale

    def sim_scale(self) -> Scale | None:
        """The `sim:scale` once opened, for tests and the demo (put something on it)."""
        from hardware.sim.sim_devices import SimScale

        scale = self._scale
        return scale if isinstance(scale, SimScale) else None

    def printer_status(self) -> DeviceStatus | None:
        """The printer's state now (asks the printer; up to about a second)."""
        printer = self._printer
        if printer is None:
            if not self.settings.printer:
                return None
            return probe("printer", self.settings.printer, self.settings.profile)
        return printer.status()

    def statuses(self) -> list[DeviceStatus]:
        """Every configured device's state now, for the status bar and the settings screen."""
        result: list[DeviceStatus] = []
        with self._lock:
            sources = list(self._sources)
        result += [source.status() for source in sources]
        for uri in self.settings.card_sources:
            if uri.strip().startswith("wedge"):
                result.append(
                    DeviceStatus(uri, "card_source", DeviceState.READY, "键盘口", "wedge")
                )
        printer = self.printer_status()
        if printer is not None:
            result.append(printer)
        if self._display is not None:
            result.append(self._display.status())
        self._emit_statuses(result)
        return result

    def recent_jobs(self, limit: int = 20) -> list[PrintJobInfo]:
        """The print spool's latest jobs (for a reprint of an uncertain one)."""
        return self._require_printer().jobs(limit)

    def _require_printer(self) -> EscposPrinter:
        printer = self._printer
        if printer is None:
            if self.settings.printer and self._opened:
                raise DeviceUnavailable(
                    f"小票打印机 {self.settings.printer} 未能打开，请检查连接后在设置中测试",
                    f"The receipt printer {self.settings.printer} did not open: check it and "
                    "use its test button in Settings",
                )
            raise _no_printer()
        return printer

    # -- the demo's simulators -------------------------------------------------------------

    def sim_card_source(self) -> SimCardSource | None:
        """The `sim:card` source, for the demo's "tap a card" panel."""
        from hardware.sim.sim_devices import SimCardSource

        with self._lock:
            return next((s for s in self._sources if isinstance(s, SimCardSource)), None)

    def sim_printer_dir(self) -> Path | None:
        """Where `sim:printer` writes the PNG of each receipt it receives."""
        if self.settings.printer.startswith("sim:"):
            from hardware.sim.sim_devices import sim_png_dir
            from hardware.uri import parse_device_uri

            return sim_png_dir(parse_device_uri(self.settings.printer), self.data_dir / SIM_PNG_DIR)
        return None
