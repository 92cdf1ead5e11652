"""Magstripe readers and barcode/QR scanners on a serial port (RS-232 or USB virtual COM).

    serial:/dev/ttyUSB0?baud=9600&type=magstripe|scanner|auto&prefix=..&suffix=..&min_len=3

Also `bytesize`, `parity` (N/E/O/M/S), `stopbits`, `encoding` (of the scanned text, utf-8),
`silence_ms` (a read ends after this much silence when no CR/LF comes, 100) and `retry_s`
(how often a missing port is tried again, 1.0). `type=auto` takes text that starts like track
data (`%B…`, `;1234…`) as a swipe and anything else as a scan.

A reader sends one read as a line. The port is read on the source's own DeviceThread; when the
port is missing or goes away (USB unplugged) the status says NOT_FOUND and the port is tried
again every `retry_s` until it comes back.

The helpers for opening a port from a URI (`open_serial_port`) are shared with the pole
display and the scale.
"""

from __future__ import annotations

import codecs
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Literal

from hardware.cards.magstripe import MagstripeError, looks_like_magstripe, parse_swipe
from hardware.cards.scan_code import ScanCodeError, parse_scan, strip_affixes
from hardware.device_thread import DeviceThread, on_device_thread
from hardware.errors import DeviceUriError
from hardware.events import (
    CardEvent,
    CardPresented,
    CardReadFailed,
    DeviceState,
    DeviceStatus,
)
from hardware.interfaces import CardSource
from hardware.serial_port import SerialPortError, close_quietly, open_serial_port, serial_options
from hardware.uri import DeviceUri

log = logging.getLogger(__name__)

ReadMode = Literal["magstripe", "scanner", "auto"]
READ_MODES: tuple[ReadMode, ...] = ("magstripe", "scanner", "auto")
READ_TICK = 0.05  # seconds a read waits: how quickly stop() and the silence rule react
MAX_LINE = 8192  # bytes; a stream with no line end this long is not a card read
STATUS_TIMEOUT = 3.0


def read_card_text(
    text: str,
    *,
    mode: ReadMode,
    reader: str,
    at: float,
    prefix: str = "",
    suffix: str = "",
    min_len: int = 3,
) -> CardPresented | CardReadFailed:
    """One read (a line from a reader or a burst from a keyboard wedge) as a card event.

    `mode` "magstripe" parses tracks, "scanner" a barcode/QR scan, "auto" decides by the text.
    """
    body = strip_affixes(text, prefix, suffix)
    try:
        if mode == "magstripe" or (mode == "auto" and looks_like_magstripe(body)):
            swipe = parse_swipe(body)
            return CardPresented("magstripe", raw=body, number=swipe.pan, reader=reader, at=at)
        scan = parse_scan(body, min_len=min_len)
        return CardPresented(scan.kind, raw=body, number=scan.number, reader=reader, at=at)
    except (MagstripeError, ScanCodeError) as exc:
        return CardReadFailed(reader=reader, reason_zh=exc.zh, reason_en=exc.en, at=at)


def _line_end(buffer: bytearray) -> int:
    """Index of the first CR or LF, -1 when the read is not complete yet."""
    ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
    return min(ends) if ends else -1


def _status(uri: str, state: DeviceState, zh: str = "", en: str = "") -> DeviceStatus:
    return DeviceStatus(uri=uri, role="card_source", state=state, detail_zh=zh, detail_en=en)


class SerialCardSource(CardSource):
    """A magstripe reader or barcode/QR scanner on a serial port, read line by line."""

    def __init__(self, uri: DeviceUri) -> None:
        serial_options(uri)  # checks the scheme and the port settings now, not at first use
        mode = uri.param("type", "auto")
        if mode not in READ_MODES:
            raise DeviceUriError(
                f"设备地址 {uri.text} 的 type={mode} 无效（magstripe、scanner 或 auto）",
                f"Option type={mode} of {uri.text} is invalid (magstripe, scanner or auto)",
            )
        encoding = uri.param("encoding", "utf-8") or "utf-8"
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DeviceUriError(
                f"设备地址 {uri.text} 的编码 {encoding} 未知",
                f"Encoding {encoding} of {uri.text} is unknown",
            ) from None
        self.uri = uri.text
        self._device_uri = uri
        self._mode: ReadMode = mode
        self._encoding = encoding
        self._prefix = uri.param("prefix", "") or ""
        self._suffix = uri.param("suffix", "") or ""
        self._min_len = uri.param_int("min_len", 3)
        self._silence = uri.param_float("silence_ms", 100.0) / 1000.0
        self._retry = uri.param_float("retry_s", 1.0)
        self.device_thread = DeviceThread(f"serial-card:{uri.target}")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._on_event: Callable[[CardEvent], None] | None = None
        self._loop: Future[None] | None = None
        self._port: Any = None
        self._closed = False
        self._state = _status(self.uri, DeviceState.UNKNOWN, "未启动", "not started")

    # -- the interface ------------------------------------------------------------------

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        """Begin reading; `on_event` is called on this source's device thread."""
        with self._lock:
            self._on_event = on_event
            if self._closed or (self._loop is not None and not self._loop.done()):
                return
            self._stop.clear()
            self._state = _status(self.uri, DeviceState.UNKNOWN, "正在打开串口", "opening the port")
            self._loop = self.device_thread.submit(self._run)

    def stop(self) -> None:
        """Stop reading and release the port (within about a tenth of a second)."""
        self._stop.set()
        port = self._port
        if port is not None:
            try:
                port.cancel_read()  # wakes a read in progress at once
            except Exception:  # the port may be closing on the device thread right now
                log.debug("cancel_read failed", exc_info=True)
        loop = self._loop
        if loop is not None and not self.device_thread.is_current():
            # (From inside on_event the loop is this very call's caller: it ends on its own.)
            try:
                loop.result(timeout=STATUS_TIMEOUT)
            except FutureTimeout:
                log.warning("serial card source %s did not stop in time", self.uri)
            except Exception:
                log.exception("serial card source %s ended with an error", self.uri)
        with self._lock:
            self._loop = None
            self._on_event = None
            if not self._closed:
                self._state = _status(self.uri, DeviceState.UNKNOWN, "已停止", "stopped")

    def close(self) -> None:
        """Stop, release the port and end the device thread."""
        self.stop()
        with self._lock:
            self._closed = True
        self.device_thread.shutdown(wait=not self.device_thread.is_current())

    def status(self) -> DeviceStatus:
        """While reading, the reader's state; otherwise a quick open-and-close of the port."""
        with self._lock:
            if self._closed:
                return _status(self.uri, DeviceState.UNKNOWN, "已关闭", "closed")
            if self._loop is not None and not self._loop.done():
                return self._state
        try:
            return self.device_thread.call(self._probe, timeout=STATUS_TIMEOUT)
        except FutureTimeout:
            return _status(self.uri, DeviceState.OFFLINE, "串口无响应", "the port does not answer")
        except Exception as exc:  # status() never raises
            return _status(self.uri, DeviceState.ERROR, str(exc), str(exc))

    # -- on the device thread -----------------------------------------------------------

    @on_device_thread
    def _probe(self) -> DeviceStatus:
        try:
            port = open_serial_port(self._device_uri, timeout=0)
        except SerialPortError as exc:
            return _status(self.uri, exc.state, exc.zh, exc.en)
        port.close()
        return _status(self.uri, DeviceState.READY, "串口可用", "port available")

    def _set_state(self, state: DeviceStatus) -> None:
        with self._lock:
            before = self._state
            self._state = state
        if before.state != state.state:
            level = logging.INFO if state.state == DeviceState.READY else logging.WARNING
            log.log(level, "serial card source %s: %s", self.uri, state.text("en"))

    @on_device_thread
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                port = open_serial_port(self._device_uri, timeout=READ_TICK)
            except SerialPortError as exc:
                self._set_state(_status(self.uri, exc.state, exc.zh, exc.en))
                self._stop.wait(self._retry)
                continue
            except Exception as exc:  # never let the reader thread die on a surprise
                log.exception("serial card source %s: opening failed", self.uri)
                self._set_state(_status(self.uri, DeviceState.ERROR, str(exc), str(exc)))
                self._stop.wait(self._retry)
                continue
            self._port = port
            self._set_state(_status(self.uri, DeviceState.READY, "等待刷卡或扫码", "waiting"))
            try:
                self._read_lines(port)
            except OSError:  # SerialException included: the device went away
                self._set_state(
                    _status(
                        self.uri,
                        DeviceState.NOT_FOUND,
                        f"串口 {self._device_uri.target} 已断开（设备被拔出？），正在重试",
                        f"Serial port {self._device_uri.target} went away (unplugged?); retrying",
                    )
                )
            finally:
                self._port = None
                close_quietly(port, self.uri)

    @on_device_thread
    def _read_lines(self, port: Any) -> None:
        """Collect bytes into reads: a CR or LF ends one, so does `silence` without bytes."""
        buffer = bytearray()
        last_byte = 0.0
        while not self._stop.is_set():
            chunk: bytes = port.read(max(1, port.in_waiting))
            now = time.monotonic()
            if chunk:
                buffer.extend(chunk)
                last_byte = now
                while (cut := _line_end(buffer)) >= 0:
                    line = bytes(buffer[:cut])
                    del buffer[: cut + 1]
                    if line:
                        self._deliver(line, now)
                if len(buffer) > MAX_LINE:
                    buffer.clear()
                    self._emit(
                        CardReadFailed(
                            reader=self.uri,
                            reason_zh="读卡失败：数据过长且没有结束符，请检查读卡器设置",
                            reason_en="Read failed: too much data without a line end; "
                            "check the reader's settings",
                            at=now,
                        )
                    )
            elif buffer and now - last_byte >= self._silence:
                line = bytes(buffer)
                buffer.clear()
                self._deliver(line, now)

    def _deliver(self, line: bytes, at: float) -> None:
        text = line.decode(self._encoding, errors="replace")
        event = read_card_text(
            text,
            mode=self._mode,
            reader=self.uri,
            at=at,
            prefix=self._prefix,
            suffix=self._suffix,
            min_len=self._min_len,
        )
        self._emit(event)

    def _emit(self, event: CardPresented | CardReadFailed) -> None:
        if isinstance(event, CardPresented):
            log.info("card %s %s from %s", event.kind, event.masked, self.uri)
        else:
            log.info("card read failed at %s: %s", self.uri, event.reason_en)
        callback = self._on_event
        if callback is None:
            return
        try:
            callback(event)
        except Exception:  # the app's handler failing must not stop the reader
            log.exception("card event handler failed for %s", self.uri)
