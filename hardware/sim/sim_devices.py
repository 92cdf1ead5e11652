"""`sim:` devices: simulators opened by URI, so the demo and tests run with no device attached.

    sim:card      cards presented by code (the demo's "tap a card" button, tests)
    sim:printer   a printer sink on 127.0.0.1 and a real ESC/POS printer driver talking to it;
                  `?png_dir=DIR` writes each received receipt as a PNG and a text file
    sim:display   a CD5220 pole display on a pseudo-terminal, driven by the real driver
    sim:scale     a scale on a pseudo-terminal (`?grams=1234`), read by the real driver

Except for `sim:card`, each pairs a simulator with the production driver, so what the demo
shows went through the same bytes a real device would get.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from hardware.device_thread import DeviceThread
from hardware.events import (
    CardEvent,
    CardKind,
    CardPresented,
    CardRemoved,
    DeviceState,
    DeviceStatus,
)
from hardware.interfaces import CardSource, LineDisplay, Scale, Weight
from hardware.printing.document import PrinterProfile
from hardware.printing.escpos_printer import EscposPrinter
from hardware.uri import DeviceUri, parse_device_uri


class SimCardSource(CardSource):
    """A card source whose cards are presented by calling `present()`."""

    def __init__(self, uri: DeviceUri) -> None:
        self.uri = str(uri)
        self.device_thread = DeviceThread("sim-card")
        self._on_event: Callable[[CardEvent], None] | None = None

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        self._on_event = on_event

    def stop(self) -> None:
        self._on_event = None

    def present(self, number: str, kind: CardKind = "ic", raw: str | None = None) -> None:
        """Report a card with `number`, as a reader would, from the source's own thread."""
        event = CardPresented(kind, raw or number, number, self.uri, time.monotonic())
        self.device_thread.submit(self._emit, event)

    def remove(self) -> None:
        """Report that the card left the reader."""
        self.device_thread.submit(self._emit, CardRemoved(self.uri, time.monotonic()))

    def _emit(self, event: CardEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def status(self) -> DeviceStatus:
        return DeviceStatus(self.uri, "card_source", DeviceState.READY, "模拟读卡器", "simulated")

    def close(self) -> None:
        self.stop()
        self.device_thread.shutdown(wait=False)


def sim_png_dir(uri: DeviceUri, default: Path | None) -> Path | None:
    """Where `sim:printer` writes its PNGs: `?png_dir=` or the caller's default."""
    given = uri.param("png_dir")
    return Path(given) if given else default


class SimPrinter(EscposPrinter):
    """`sim:printer`: a printer sink on 127.0.0.1 with the real ESC/POS driver talking to it.

    `?mode=paper_out` (or refuse, silent, drop) starts the sink in that fault, for trying how
    the app copes; PNGs of what is printed go to `?png_dir=` or the given default.
    """

    def __init__(
        self,
        uri: DeviceUri,
        profile: PrinterProfile,
        spool_path: Path,
        png_dir: Path | None = None,
    ) -> None:
        from hardware.sim.printer_sink import PrinterSink

        self.sink = PrinterSink(
            mode=uri.param("mode", "normal") or "normal",
            png_dir=sim_png_dir(uri, png_dir),
            encoding=profile.encoding,
            dots=profile.dots,
        ).start()
        try:
            super().__init__(
                parse_device_uri(f"tcp://127.0.0.1:{self.sink.port}"), profile, spool_path
            )
        except BaseException:
            self.sink.stop()
            raise
        self.uri = uri.text

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.sink.stop()


class SimDisplay(LineDisplay):
    """`sim:display`: a pole display on a pseudo-terminal, driven by the real CD5220 driver;
    `.sim` holds what it shows."""

    def __init__(self, uri: DeviceUri) -> None:
        from hardware.display.cd5220 import Cd5220Display
        from hardware.sim.pty_devices import PoleDisplaySim

        self.uri = uri.text
        self.sim = PoleDisplaySim()
        self._driver = Cd5220Display(parse_device_uri(f"serial:{self.sim.path}?baud=9600"))

    def show(self, line1: str, line2: str = "") -> None:
        self._driver.show(line1, line2)

    def clear(self) -> None:
        self._driver.clear()

    def lamp(self, which: str) -> None:
        self._driver.lamp(which)

    def status(self) -> DeviceStatus:
        return replace(self._driver.status(), uri=self.uri)

    def close(self) -> None:
        try:
            self._driver.close()
        finally:
            self.sim.close()


class SimScale(Scale):
    """`sim:scale?grams=1234`: a Toledo scale on a pseudo-terminal, read by the real driver;
    set `.sim.grams` to put something else on it."""

    def __init__(self, uri: DeviceUri) -> None:
        from hardware.scale import SerialScale
        from hardware.sim.pty_devices import ScaleSim

        self.uri = uri.text
        self.sim = ScaleSim(grams=uri.param_int("grams", 0))
        self._driver = SerialScale(parse_device_uri(f"serial:{self.sim.path}?protocol=toledo"))

    def read_weight(self, timeout: float = 1.0) -> Weight:
        return self._driver.read_weight(timeout)

    def status(self) -> DeviceStatus:
        return replace(self._driver.status(), uri=self.uri)

    def close(self) -> None:
        try:
            self._driver.close()
        finally:
            self.sim.close()
