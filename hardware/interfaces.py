"""The small interfaces the app uses; each driver and simulator implements one of them.

Callers never block on a device: card events arrive through a callback called on the
device's thread (the UI re-emits them as a queued Qt signal), printing returns a job id at
once, and status calls answer within a short timeout.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from hardware.events import CardEvent, DeviceStatus
from hardware.printing.document import PrintDocument
from hardware.printing.jobs import PrintJobInfo


class Device(ABC):
    """Anything configured by a URI."""

    uri: str

    @abstractmethod
    def status(self) -> DeviceStatus:
        """The device's state now; never raises, answers within a few seconds."""

    @abstractmethod
    def close(self) -> None:
        """Release the device and stop its thread."""


class CardSource(Device):
    """Reports cards presented and removed (IC reader, magstripe, scanner, wedge)."""

    @abstractmethod
    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        """Begin reporting; `on_event` is called on the source's own thread."""

    @abstractmethod
    def stop(self) -> None:
        """Stop reporting (close() also stops)."""


class ReceiptPrinter(Device):
    """Prints documents through a spooler that survives a restart."""

    @abstractmethod
    def print(self, doc: PrintDocument) -> str:
        """Queue `doc`; returns the job id at once."""

    @abstractmethod
    def reprint(self, job_id: str) -> str:
        """Queue a copy (补打) of an earlier job; returns the new job's id."""

    @abstractmethod
    def job(self, job_id: str) -> PrintJobInfo:
        """One job's state."""

    @abstractmethod
    def jobs(self, limit: int = 50) -> list[PrintJobInfo]:
        """The newest jobs first."""

    @abstractmethod
    def wait(self, job_id: str, timeout: float) -> PrintJobInfo:
        """The job once it left the queue, or as it stands after `timeout` seconds."""


class CashDrawer(Device):
    """A drawer kicked through the printer: opens now or raises, never later."""

    @abstractmethod
    def kick(self, pin: int = 2) -> None:
        """Pulse the drawer on pin 2 or 5; raises DeviceError if it cannot now."""


class LineDisplay(Device):
    """A customer (pole) display with two lines."""

    @abstractmethod
    def show(self, line1: str, line2: str = "") -> None:
        """Show two lines (cut to the display's width)."""

    @abstractmethod
    def clear(self) -> None:
        """Blank the display."""

    @abstractmethod
    def lamp(self, which: str) -> None:
        """Light one of a Chinese price display's lamps: price, total, collect, change."""


@dataclass(frozen=True)
class Weight:
    """A scale's reading: grams, and whether the scale had settled."""

    grams: int
    stable: bool


class Scale(Device):
    """A weighing scale on a serial port."""

    @abstractmethod
    def read_weight(self, timeout: float = 1.0) -> Weight:
        """Ask for the weight; raises DeviceTimeout / DeviceRefused (overload)."""
