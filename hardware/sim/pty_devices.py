"""Serial devices simulated on pseudo-terminals, for tests and the demo.

Each simulator opens a pty pair (`os.openpty`); the app opens `.path` (the slave side) with
pyserial exactly like a real port, and the simulator reads and writes the master side on its
own responder thread. A pty ignores baud rate and parity, so 7E1 settings work unchanged.
Closing a simulator removes its path, as unplugging a USB adapter does.

    with ScannerSim() as scanner:
        source = SerialCardSource(parse_device_uri(f"serial:{scanner.path}?type=scanner"))
        scanner.scan("]E06901234567892")

POSIX only (Linux, macOS).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
import tty
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Literal, Self

log = logging.getLogger(__name__)

ESC = 0x1B
FF = 0x0C
CR = 0x0D
STX = 0x02
LAMP_NAMES = {"0": None, "1": "price", "2": "total", "3": "collect", "4": "change"}


class PtyDevice:
    """A pty pair and a responder thread; subclasses answer in `_received`."""

    def __init__(self, name: str) -> None:
        self._master, self._slave = os.openpty()
        # Raw on the slave from the start: bytes written before the app opens the port must
        # not be echoed back or have CR turned into LF.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self.name = name
        self._wake_r, self._wake_w = os.pipe()
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name=f"sim-{name}", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the responder and close both ends: the port disappears."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=2.0)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def send(self, data: bytes, wait: float = 1.0) -> None:
        """Write to the app (what the device sends); bytes the app cannot take within `wait`
        seconds are dropped, as a real device's would be."""
        with self._write_lock:
            view = memoryview(data)
            deadline = time.monotonic() + wait
            while view and not self._closed:
                try:
                    written = os.write(self._master, view)
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        log.debug("%s: app not reading, %d bytes dropped", self.name, len(view))
                        return
                    select.select([], [self._master], [], 0.05)
                    continue
                view = view[written:]

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master, self._wake_r], [], [], self._tick())
            if self._stop.is_set():
                return
            if self._master in ready:
                try:
                    data = os.read(self._master, 4096)
                except BlockingIOError:
                    continue
                except OSError:  # EIO: nothing to read from the app side
                    time.sleep(0.01)
                    continue
                if data:
                    self._received(data)
            self._idle()

    def _tick(self) -> float | None:
        """How long the responder may wait for input before `_idle` runs (None: forever)."""
        return None

    def _idle(self) -> None:
        """Called after each wake-up (continuous senders send here)."""

    def _received(self, data: bytes) -> None:
        """Bytes the app wrote."""


def swipe_text(
    track1: str | None,
    track2: str | None,
    track3: str | None = None,
    *,
    fail: Collection[int] = (),
) -> str:
    """What a keyboard-emulation magstripe reader sends: each track between its sentinels,
    `E` for a failed track; track contents are given without sentinels."""
    parts = []
    for number, (start, content) in enumerate((("%", track1), (";", track2), ("+", track3)), 1):
        if number in fail:
            parts.append(f"{start}E?")
        elif content is not None:
            parts.append(f"{start}{content}?")
    return "".join(parts)


class MagstripeSim(PtyDevice):
    """A magstripe reader: `swipe()` sends the tracks and a CR."""

    def __init__(self, terminator: str = "\r") -> None:
        super().__init__("magstripe")
        self.terminator = terminator

    def swipe(
        self,
        track1: str | None,
        track2: str | None,
        track3: str | None = None,
        *,
        fail: Collection[int] = (),
    ) -> None:
        """Swipe a card; tracks listed in `fail` come as `E` (the reader could not read them)."""
        text = swipe_text(track1, track2, track3, fail=fail) + self.terminator
        self.send(text.encode("ascii"))

    def send_text(self, text: str) -> None:
        """Send any text as is (partial or garbled reads)."""
        self.send(text.encode("latin-1"))


class ScannerSim(PtyDevice):
    """A barcode/QR scanner in serial mode: `scan()` sends the text and a suffix."""

    def __init__(self, encoding: str = "utf-8") -> None:
        super().__init__("scanner")
        self.encoding = encoding

    def scan(self, text: str, suffix: str = "\r", prefix: str = "") -> None:
        """Scan a code: prefix + text + suffix ("" for a scanner that sends no terminator)."""
        self.send((prefix + text + suffix).encode(self.encoding))


class PoleDisplaySim(PtyDevice):
    """A CD5220-style customer display: records what it gets and keeps what it would show.

    Understands ESC @ (initialise), FF (clear), ESC Q A/B text CR (line 1/2) and ESC s n (the
    lamps of a Chinese price display); anything else is kept in `unknown`.
    """

    def __init__(self, encoding: str = "ascii") -> None:
        super().__init__("pole-display")
        self.encoding = encoding
        self._lock = threading.Lock()
        self._data = bytearray()
        self._pending = bytearray()
        self._line1 = ""
        self._line2 = ""
        self._lamp: str | None = None
        self._inits = 0
        self._unknown = bytearray()

    @property
    def data(self) -> bytes:
        """Every byte received."""
        with self._lock:
            return bytes(self._data)

    @property
    def line1(self) -> str:
        """The upper line as shown now."""
        with self._lock:
            return self._line1

    @property
    def line2(self) -> str:
        """The lower line as shown now."""
        with self._lock:
            return self._line2

    @property
    def lamp(self) -> str | None:
        """The lit lamp: price, total, collect, change, or None."""
        with self._lock:
            return self._lamp

    @property
    def inits(self) -> int:
        """How many ESC @ (initialise) were received."""
        with self._lock:
            return self._inits

    @property
    def unknown(self) -> bytes:
        """Bytes that were not a known command."""
        with self._lock:
            return bytes(self._unknown)

    def wait_for(self, check: Callable[[PoleDisplaySim], bool], timeout: float = 2.0) -> bool:
        """Poll until `check(self)` holds or `timeout` passes; returns the last result."""
        deadline = time.monotonic() + timeout
        while not check(self):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def _received(self, data: bytes) -> None:
        with self._lock:
            self._data.extend(data)
            self._pending.extend(data)
            self._decode()

    def _decode(self) -> None:
        buf = self._pending
        while buf:
            if buf[0] == FF:
                self._line1 = self._line2 = ""
                del buf[:1]
            elif buf[0] == ESC:
                if len(buf) < 2:
                    return
                if buf[1] == ord("@"):
                    self._line1 = self._line2 = ""
                    self._lamp = None
                    self._inits += 1
                    del buf[:2]
                elif buf[1] == ord("s"):
                    if len(buf) < 3:
                        return
                    self._lamp = LAMP_NAMES.get(chr(buf[2]))
                    del buf[:3]
                elif buf[1] == ord("Q"):
                    if len(buf) < 3:
                        return
                    end = buf.find(bytes([CR]), 3)
                    if end < 0:
                        return
                    text = bytes(buf[3:end]).decode(self.encoding, errors="replace")
                    if buf[2] == ord("A"):
                        self._line1 = text
                    elif buf[2] == ord("B"):
                        self._line2 = text
                    else:
                        self._unknown.extend(buf[: end + 1])
                    del buf[: end + 1]
                else:
                    self._unknown.extend(buf[:2])
                    del buf[:2]
            else:
                self._unknown.append(buf[0])
                del buf[:1]


ScaleProtocol = Literal["toledo", "generic"]


def toledo_record(grams: int, stable: bool = True, overload: bool = False) -> bytes:
    """A Toledo 8217 scale's answer to `W`: STX weight CR, or STX '?' status CR."""
    status = 0x60  # bits 5 and 6 are always 1 in the Toledo status byte
    if not stable:
        status |= 0x01  # in motion
    if overload:
        status |= 0x02  # over capacity
    if grams < 0:
        status |= 0x04  # under zero
    if status != 0x60:
        return bytes([STX]) + b"?" + bytes([status]) + b"\r"
    return bytes([STX]) + f"{grams / 1000:06.3f}".encode("ascii") + b"\r"


def generic_line(grams: int, stable: bool = True, overload: bool = False) -> bytes:
    """One line of a generic continuous scale: `ST,GS,+   1.234kg` CR LF."""
    head = "OL" if overload else ("ST" if stable else "US")
    sign = "-" if grams < 0 else "+"
    return f"{head},GS,{sign}{abs(grams) / 1000:8.3f}kg\r\n".encode("ascii")


class ScaleSim(PtyDevice):
    """A scale. `toledo`: answers `W` with STX weight CR, or STX ? status CR when in motion,
    over capacity or under zero. `generic`: sends `ST,GS,+  1.234kg` CR LF continuously (US
    when unstable, OL when overloaded). Change `grams`, `stable`, `overload` or `silent`
    while it runs."""

    def __init__(
        self,
        grams: int = 0,
        stable: bool = True,
        overload: bool = False,
        protocol: ScaleProtocol = "toledo",
        interval: float = 0.05,
    ) -> None:
        self.grams = grams
        self.stable = stable
        self.overload = overload
        self.silent = False
        self.protocol = protocol
        self.interval = interval
        self.requests = 0
        self._next_send = 0.0
        super().__init__(f"scale-{protocol}")

    def toledo_answer(self) -> bytes:
        """The Toledo 8217 answer to `W` for the current state."""
        return toledo_record(self.grams, self.stable, self.overload)

    def generic_line(self) -> bytes:
        """One line of the generic continuous protocol for the current state."""
        return generic_line(self.grams, self.stable, self.overload)

    def _tick(self) -> float | None:
        return self.interval / 2 if self.protocol == "generic" else None

    def _idle(self) -> None:
        if self.protocol != "generic" or self.silent:
            return
        now = time.monotonic()
        if now >= self._next_send:
            self._next_send = now + self.interval
            self.send(self.generic_line(), wait=0.0)  # nobody reading: the line is lost

    def _received(self, data: bytes) -> None:
        if self.protocol != "toledo":
            return
        for byte in data:
            if byte == ord("W"):
                self.requests += 1
                if not self.silent:
                    self.send(self.toledo_answer())
