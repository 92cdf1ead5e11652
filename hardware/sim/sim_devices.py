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
from hardware.interfaces import CardSource
from hardware.uri import DeviceUri


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
