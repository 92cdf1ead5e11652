"""CD5220-style customer (pole) displays on a serial port: two lines of 20 characters.

    serial:/dev/ttyUSB1?baud=9600&encoding=gb18030&columns=20

Commands (the CD5220 set most VFD pole displays accept): ESC @ initialise, FF clear, ESC Q A
<text> CR upper line, ESC Q B <text> CR lower line; Chinese price displays light a lamp
below the digits with ESC s n: '0' off, '1' 单价 price, '2' 总计 total, '3' 收款 collect,
'4' 找零 change.

Text is cut or padded to the display's columns (a Chinese character takes two) and encoded
in `encoding` (ascii by default; gb18030 for displays with a Chinese font); characters the
display cannot show become '?'. The port is opened on first use on the display's own
DeviceThread; a missing port makes `show()` raise DeviceUnavailable, which the app shows as
a status: a sale never waits on the display.
"""

from __future__ import annotations

import codecs
import logging
import os
import unicodedata
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from hardware.device_thread import DeviceThread, on_device_thread
from hardware.errors import DeviceError, DeviceTimeout, DeviceUnavailable, DeviceUriError
from hardware.events import DeviceState, DeviceStatus
from hardware.interfaces import LineDisplay
from hardware.serial_port import SerialPortError, close_quietly, open_serial_port, serial_options
from hardware.uri import DeviceUri

log = logging.getLogger(__name__)

ESC = b"\x1b"
INIT = ESC + b"@"
CLEAR = b"\x0c"
LINE_1 = ESC + b"QA"
LINE_2 = ESC + b"QB"
END_LINE = b"\r"
LAMP = ESC + b"s"
DEFAULT_COLUMNS = 20
CALL_TIMEOUT = 2.0  # the caller's wait; writes give up after WRITE_TIMEOUT
WRITE_TIMEOUT = 0.5

# lamp name -> the digit ESC s takes; Chinese names as printed on the display are accepted.
LAMPS = {
    "off": b"0",
    "price": b"1",
    "total": b"2",
    "collect": b"3",
    "change": b"4",
    "单价": b"1",
    "总计": b"2",
    "收款": b"3",
    "找零": b"4",
}


def char_columns(ch: str) -> int:
    """Columns a character takes on the display: two for CJK (wide) characters."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def encode_line(text: str, columns: int = DEFAULT_COLUMNS, encoding: str = "ascii") -> bytes:
    """`text` as display bytes, exactly `columns` wide: cut, padded with spaces, control
    characters as spaces, what `encoding` lacks as '?'."""
    out = bytearray()
    used = 0
    for ch in text:
        if not ch.isprintable():
            ch = " "  # a CR inside the text would end the line command early
        try:
            data = ch.encode(encoding)
        except UnicodeEncodeError:
            data = b"?"
        width = char_columns(ch) if data != b"?" else 1
        if width == 2 and len(data) > 2:
            # GB18030's four-byte characters are beyond a display's GB2312/GBK font.
            data, width = b"?", 1
        if used + width > columns:
            break
        out += data
        used += width
    out += b" " * (columns - used)
    return bytes(out)


def _status(uri: str, state: DeviceState, zh: str = "", en: str = "") -> DeviceStatus:
    return DeviceStatus(uri=uri, role="display", state=state, detail_zh=zh, detail_en=en)


class Cd5220Display(LineDisplay):
    """A two-line CD5220-style pole display on a serial port (9600 8N1 unless told)."""

    def __init__(self, uri: DeviceUri) -> None:
        serial_options(uri)  # the scheme and settings are checked now, not at first use
        encoding = uri.param("encoding", "ascii") or "ascii"
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DeviceUriError(
                f"设备地址 {uri.text} 的编码 {encoding} 未知（ascii 或 gb18030）",
                f"Encoding {encoding} of {uri.text} is unknown (ascii or gb18030)",
            ) from None
        self.uri = uri.text
        self.columns = uri.param_int("columns", DEFAULT_COLUMNS)
        self.encoding = encoding
        self._device_uri = uri
        self._port: Any = None
        self._closed = False
        self.device_thread = DeviceThread(f"display:{uri.target}")

    # -- the interface ------------------------------------------------------------------

    def show(self, line1: str, line2: str = "") -> None:
        """Show two lines; raises DeviceUnavailable / DeviceTimeout when it cannot."""
        data = (
            LINE_1
            + encode_line(line1, self.columns, self.encoding)
            + END_LINE
            + LINE_2
            + encode_line(line2, self.columns, self.encoding)
            + END_LINE
        )
        self._run(self._write, data)

    def clear(self) -> None:
        """Blank both lines."""
        self._run(self._write, CLEAR)

    def lamp(self, which: str) -> None:
        """Light one lamp (price, total, collect, change, or off)."""
        code = LAMPS.get(which)
        if code is None:
            raise ValueError(f"unknown lamp {which!r}; use one of {', '.join(LAMPS)}")
        self._run(self._write, LAMP + code)

    def status(self) -> DeviceStatus:
        """READY when the port is open or opens now (a pole display cannot report more)."""
        if self._closed:
            return _status(self.uri, DeviceState.UNKNOWN, "已关闭", "closed")
        try:
            return self.device_thread.call(self._probe, timeout=CALL_TIMEOUT)
        except FutureTimeout:
            return _status(self.uri, DeviceState.OFFLINE, "显示屏无响应", "display not answering")
        except Exception as exc:  # status() never raises (closed thread, anything else)
            return _status(self.uri, DeviceState.UNKNOWN, str(exc), str(exc))

    def close(self) -> None:
        """Close the port and end the device thread."""
        if self._closed:
            return
        self._closed = True
        try:
            self.device_thread.call(self._close_port, timeout=CALL_TIMEOUT)
        except Exception:
            log.debug("closing display %s", self.uri, exc_info=True)
        self.device_thread.shutdown(wait=False)

    # -- on the device thread -----------------------------------------------------------

    def _run(self, fn: Any, *args: Any) -> None:
        if self._closed:
            raise DeviceUnavailable("顾客显示屏已关闭", "The customer display is closed")
        try:
            self.device_thread.call(fn, *args, timeout=CALL_TIMEOUT)
        except FutureTimeout:
            raise DeviceTimeout(
                "顾客显示屏无响应", "The customer display does not answer"
            ) from None

    @on_device_thread
    def _open(self) -> Any:
        if self._port is not None and self._gone():
            self._close_port()
        if self._port is None:
            port = open_serial_port(self._device_uri, timeout=0.2, write_timeout=WRITE_TIMEOUT)
            try:
                port.write(INIT)
            except OSError as exc:
                port.close()
                raise self._write_error(exc) from None
            self._port = port
            log.info("display %s opened", self.uri)
        return self._port

    def _gone(self) -> bool:
        # An unplugged USB adapter's device file disappears; an open port would not notice
        # until the next write.
        path = self._device_uri.target
        return path.startswith("/") and not os.path.exists(path)

    @on_device_thread
    def _write(self, data: bytes) -> None:
        port = self._open()
        try:
            port.write(data)
        except OSError as exc:  # SerialException and SerialTimeoutException included
            self._close_port()
            raise self._write_error(exc) from None

    def _write_error(self, exc: OSError) -> DeviceError:
        if type(exc).__name__ == "SerialTimeoutException":
            return DeviceTimeout(
                "顾客显示屏无响应（写超时）", "The customer display does not answer"
            )
        return DeviceUnavailable(
            f"顾客显示屏 {self._device_uri.target} 已断开",
            f"Display {self._device_uri.target} went away",
        )

    @on_device_thread
    def _probe(self) -> DeviceStatus:
        try:
            self._open()
        except SerialPortError as exc:
            return _status(self.uri, exc.state, exc.zh, exc.en)
        except DeviceError as exc:
            return _status(self.uri, DeviceState.OFFLINE, exc.zh, exc.en)
        return _status(self.uri, DeviceState.READY, "串口已打开", "port open")

    @on_device_thread
    def _close_port(self) -> None:
        port, self._port = self._port, None
        close_quietly(port, self.uri)
