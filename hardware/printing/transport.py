"""Byte channels to a receipt printer, opened from its URI, and the printer's status over them.

    tcp://host:9100     a network printer (raw port 9100); one connection per job or query
    serial:/dev/ttyS0   a serial printer (baud, bytesize, parity, stopbits, rtscts, dsrdtr, xonxoff)
    usb:0416:5011       a USB printer through python-escpos' Usb (pyusb + libusb); in_ep/out_ep
    file:/dev/usb/lp0   a device file or a plain file the bytes are appended to (status unknown)

Every transport writes bytes, reads the printer's answers with a timeout, and asks the printer
for its status with the real-time `DLE EOT n` queries. A silent printer (switched off behind a
network switch, a wrong port) answers nothing: that is OFFLINE after a short wait, never a
hang. `?status=off` on any URI skips the queries for a printer that cannot answer them (its
status is then UNKNOWN and jobs go out blind, as with a file).

Errors are DeviceError subclasses with Chinese and English text; nothing here raises a bare
OSError, serial or USB exception to the caller.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType

from hardware.errors import (
    DeviceError,
    DeviceRefused,
    DeviceTimeout,
    DeviceUnavailable,
    DeviceUriError,
)
from hardware.events import DeviceState, DeviceStatus
from hardware.printing.escpos_encoder import (
    ERROR_CAUSE,
    OFFLINE_CAUSE,
    PAPER_STATUS,
    PRINTER_STATUS,
    parse_status,
    status_query,
)
from hardware.serial_port import SerialPortError, open_serial_port
from hardware.uri import DeviceUri

log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_WRITE_TIMEOUT = 10.0  # with no progress at all; a long job that keeps flowing is fine
DEFAULT_STATUS_TIMEOUT = 1.0
_CHUNK = 4096


@dataclass(frozen=True)
class PrinterCondition:
    """What the status bytes say: the state and a short reason in both languages."""

    state: DeviceState
    detail_zh: str = ""
    detail_en: str = ""


def interpret_status(answers: dict[int, int]) -> PrinterCondition:
    """The printer's condition from its `DLE EOT n` reply bytes ({n: byte}, n=1 required),
    read bit by bit with the encoder's `parse_status`. Pure: no I/O."""
    bits = {n: parse_status(n, value) for n, value in answers.items()}
    bad = {n: answers[n] for n, b in bits.items() if not b.well_formed}
    if bad:
        shown = ", ".join(f"n={n}: 0x{v:02X}" for n, v in sorted(bad.items()))
        return PrinterCondition(
            DeviceState.UNKNOWN,
            f"状态应答无法识别（{shown}）",
            f"unexpected status answer ({shown})",
        )
    if any(b.cover_open for b in bits.values()):
        return PrinterCondition(DeviceState.COVER_OPEN, "请合上纸仓盖", "close the cover")
    if any(b.paper_out for b in bits.values()):
        return PrinterCondition(DeviceState.PAPER_OUT, "请装纸", "load paper")
    if any(b.error for b in bits.values()):
        return PrinterCondition(
            DeviceState.ERROR,
            "打印机报告故障（切刀、过热等），请检查打印机",
            "the printer reports an error (cutter, overheating…): check it",
        )
    if not bits[1].online:
        return PrinterCondition(DeviceState.OFFLINE, "打印机脱机", "the printer reports offline")
    if any(b.paper_low for b in bits.values()):
        return PrinterCondition(DeviceState.READY, "纸将用完", "paper low")
    return PrinterCondition(DeviceState.READY)


class PrinterTransport(ABC):
    """An open byte channel to one printer. Not thread-safe: use it from the printer's
    DeviceThread only. Close it (or use `with`) when done."""

    can_read = True  # False: the channel cannot carry the printer's answers (a file)

    def __init__(self, uri: DeviceUri, role: str = "printer") -> None:
        self.uri = uri
        self.role = role
        # `?status=off`: the printer cannot answer DLE EOT (a write-only cable, some USB
        # printers); asking would only ever time out and keep every job queued.
        status_option = (uri.param("status") or "on").lower()
        self.status_enabled = self.can_read and status_option not in ("off", "0", "no", "false")

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Send all of `data`; raises DeviceTimeout when the printer takes nothing for the
        write timeout, DeviceUnavailable when the channel breaks."""

    @abstractmethod
    def read(self, n: int, timeout: float) -> bytes:
        """Up to `n` bytes the printer sent, waiting at most `timeout` s; b"" if none came.
        Raises DeviceUnavailable when the channel is closed or broken."""

    @abstractmethod
    def close(self) -> None:
        """Release the channel; never raises."""

    def _drain(self) -> None:
        """Throw away bytes waiting to be read (a late answer to an earlier query), so the
        next answer read belongs to the next query."""
        for _ in range(64):
            if not self.read(256, 0.0):
                return

    def query_status(self, timeout: float = DEFAULT_STATUS_TIMEOUT) -> DeviceStatus:
        """Ask the printer with `DLE EOT 1` (then 4, and 2/3 when it is offline); never
        raises. No answer within `timeout` (in all) is OFFLINE."""
        uri = self.uri.text
        if not self.status_enabled:
            return DeviceStatus(
                uri, self.role, DeviceState.UNKNOWN, "不读取状态", "status not read"
            )
        deadline = time.monotonic() + timeout
        answers: dict[int, int] = {}
        try:
            self._drain()
            for n in (PRINTER_STATUS, PAPER_STATUS, OFFLINE_CAUSE, ERROR_CAUSE):
                if n == OFFLINE_CAUSE and interpret_status(answers).state == DeviceState.READY:
                    break  # online with paper: the offline cause has nothing to add
                if n == ERROR_CAUSE and not parse_status(n - 1, answers[n - 1]).error:
                    break
                self.write(status_query(n))
                answer = self.read(1, max(0.0, deadline - time.monotonic()))
                if not answer:
                    if n == 1:
                        return DeviceStatus(
                            uri,
                            self.role,
                            DeviceState.OFFLINE,
                            f"打印机 {timeout:g} 秒内未应答状态查询",
                            f"no answer to the status query within {timeout:g} s",
                        )
                    break  # a printer that answers only n=1: use what it said
                answers[n] = answer[0]
        except DeviceError as exc:
            return status_for_error(uri, self.role, exc)
        condition = interpret_status(answers)
        return DeviceStatus(
            uri, self.role, condition.state, condition.detail_zh, condition.detail_en
        )

    def __enter__(self) -> PrinterTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class DriverMissing(DeviceUnavailable):
    """A library or system driver the device needs is not installed (pyusb, libusb)."""

    code = "driver_missing"


class ConnectionLost(DeviceUnavailable):
    """The printer closed or broke the connection."""

    code = "connection_lost"


def status_for_error(uri: str, role: str, exc: DeviceError) -> DeviceStatus:
    """The status to show for a DeviceError met while opening or talking to a printer."""
    if isinstance(exc, SerialPortError):
        state = exc.state  # not found, no pyserial, busy, no permission: the port knows
    elif isinstance(exc, DriverMissing):
        state = DeviceState.NO_DRIVER
    elif isinstance(exc, DeviceRefused | DeviceTimeout | ConnectionLost):
        state = DeviceState.OFFLINE
    elif isinstance(exc, DeviceUnavailable):
        state = DeviceState.NOT_FOUND
    else:
        state = DeviceState.ERROR
    return DeviceStatus(uri, role, state, exc.zh, exc.en)


def _os_error(exc: OSError, what_zh: str, what_en: str) -> DeviceError:
    """An OSError while talking to the printer as a DeviceError a person can act on."""
    if isinstance(exc, TimeoutError):
        return DeviceTimeout(f"{what_zh}超时", f"{what_en} timed out")
    if isinstance(exc, ConnectionRefusedError):
        return DeviceRefused(
            f"{what_zh}：打印机拒绝连接（未开机或端口不对）",
            f"{what_en}: the printer refused the connection (off, or wrong port)",
        )
    if isinstance(exc, ConnectionError) or exc.errno in (errno.EPIPE, errno.ECONNRESET):
        return ConnectionLost(
            f"{what_zh}：打印机断开了连接", f"{what_en}: the printer closed the connection"
        )
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENOENT, errno.ENODEV):
        return DeviceUnavailable(
            f"{what_zh}：找不到打印机（{exc.strerror}）",
            f"{what_en}: printer not found ({exc.strerror})",
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return DeviceUnavailable(
            f"{what_zh}：没有权限（{exc.strerror}）", f"{what_en}: permission denied"
        )
    detail = exc.strerror or str(exc) or type(exc).__name__
    return DeviceUnavailable(f"{what_zh}失败：{detail}", f"{what_en} failed: {detail}")


class TcpTransport(PrinterTransport):
    """A raw TCP connection to a network printer (port 9100)."""

    def __init__(
        self,
        uri: DeviceUri,
        role: str = "printer",
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    ) -> None:
        super().__init__(uri, role)
        self.write_timeout = write_timeout
        address = (uri.target, uri.port or 9100)
        try:
            self._sock = socket.create_connection(address, timeout=connect_timeout)
        except socket.gaierror as exc:
            raise DeviceUnavailable(
                f"找不到打印机主机 {uri.target}", f"printer host {uri.target} not found ({exc})"
            ) from None
        except OSError as exc:
            raise _os_error(exc, f"连接打印机 {uri.text}", f"connecting to {uri.text}") from None
        # Status queries are 3 bytes that must go out now, not wait for Nagle.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        sent = 0
        self._sock.settimeout(self.write_timeout)
        try:
            while sent < len(view):
                # One send() per chunk: the timeout bounds a stall, not the whole long job.
                sent += self._sock.send(view[sent : sent + _CHUNK])
        except OSError as exc:
            raise _os_error(
                exc,
                f"发送到打印机（已发送 {sent}/{len(data)} 字节）",
                f"sending to the printer (after {sent} of {len(data)} bytes)",
            ) from None

    def read(self, n: int, timeout: float) -> bytes:
        self._sock.settimeout(timeout if timeout > 0 else 0.0)
        try:
            data = self._sock.recv(n)
        except (TimeoutError, BlockingIOError):
            return b""
        except OSError as exc:
            raise _os_error(exc, "读取打印机", "reading from the printer") from None
        if not data:
            raise ConnectionLost("打印机断开了连接", "the printer closed the connection")
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()


class SerialTransport(PrinterTransport):
    """A serial (RS-232 / USB-serial) printer through pyserial."""

    def __init__(
        self,
        uri: DeviceUri,
        role: str = "printer",
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    ) -> None:
        super().__init__(uri, role)
        self._port = open_serial_port(uri, timeout=0, write_timeout=write_timeout)
        import serial  # present: open_serial_port has just used it

        self._serial_error: type[Exception] = serial.SerialException
        self._timeout_error: type[Exception] = serial.SerialTimeoutException

    def write(self, data: bytes) -> None:
        sent = 0
        try:
            while sent < len(data):
                chunk = data[sent : sent + _CHUNK]
                self._port.write(chunk)
                sent += len(chunk)
            self._port.flush()
        except self._timeout_error:
            raise DeviceTimeout(
                "打印机不接收数据（串口写超时）",
                f"the printer takes no data (serial write timed out after {sent} bytes)",
            ) from None
        except (OSError, self._serial_error) as exc:
            raise ConnectionLost(
                f"串口写入失败：{exc}", f"serial write failed after {sent} bytes: {exc}"
            ) from None

    def read(self, n: int, timeout: float) -> bytes:
        try:
            self._port.timeout = max(0.0, timeout)
            data: bytes = self._port.read(n)
        except (OSError, self._serial_error) as exc:
            raise ConnectionLost(f"串口读取失败：{exc}", f"serial read failed: {exc}") from None
        return data

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._port.close()


class UsbTransport(PrinterTransport):
    """A USB printer through python-escpos' `Usb` (pyusb and a libusb backend).

    Endpoints default to python-escpos' 0x82 in / 0x01 out; set `?in_ep=0x81&out_ep=0x02`
    for printers that differ.
    """

    def __init__(
        self,
        uri: DeviceUri,
        role: str = "printer",
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    ) -> None:
        super().__init__(uri, role)
        vid, pid = uri.usb_ids
        self._in_ep = uri.param_int("in_ep", 0x82)
        self._out_ep = uri.param_int("out_ep", 0x01)
        self._write_ms = max(1, int(write_timeout * 1000))
        try:
            import usb.core
            from escpos.printer import Usb
        except ImportError:
            raise DriverMissing(
                "缺少 pyusb，无法使用 USB 打印机（pip install pyusb，并安装 libusb）",
                "pyusb is not installed (pip install pyusb, and install libusb)",
            ) from None
        self._usb_error: type[Exception] = usb.core.USBError
        self._usb_timeout: type[Exception] = getattr(usb.core, "USBTimeoutError", TimeoutError)
        printer = Usb(vid, pid, timeout=self._write_ms, in_ep=self._in_ep, out_ep=self._out_ep)
        try:
            printer.open()
        except usb.core.NoBackendError:
            raise DriverMissing(
                "找不到 libusb（请安装 libusb-1.0）", "no libusb backend (install libusb-1.0)"
            ) from None
        except Exception as exc:  # escpos DeviceNotFoundError, USBError, RuntimeError
            raise DeviceUnavailable(
                f"找不到 USB 打印机 {uri.target}（未连接或无权限）",
                f"USB printer {uri.target} not found or not accessible: {exc}",
            ) from None
        self._printer = printer
        self._device = printer.device

    def write(self, data: bytes) -> None:
        sent = 0
        try:
            while sent < len(data):
                sent += int(
                    self._device.write(self._out_ep, data[sent : sent + _CHUNK], self._write_ms)
                )
        except self._usb_timeout:
            raise DeviceTimeout(
                "打印机不接收数据（USB 写超时）",
                f"the printer takes no data (USB write timed out after {sent} bytes)",
            ) from None
        except self._usb_error as exc:
            raise ConnectionLost(
                f"USB 写入失败：{exc}", f"USB write failed after {sent} bytes: {exc}"
            ) from None

    def read(self, n: int, timeout: float) -> bytes:
        try:
            data = self._device.read(self._in_ep, max(n, 64), max(1, int(timeout * 1000)))
        except self._usb_timeout:
            return b""
        except self._usb_error as exc:
            raise ConnectionLost(f"USB 读取失败：{exc}", f"USB read failed: {exc}") from None
        return bytes(data)[:n]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._printer.close()


class FileTransport(PrinterTransport):
    """Bytes appended to a device file (/dev/usb/lp0) or a plain file; no status."""

    can_read = False

    def __init__(self, uri: DeviceUri, role: str = "printer") -> None:
        super().__init__(uri, role)
        try:
            self._file = open(uri.target, "ab", buffering=0)  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise _os_error(exc, f"打开 {uri.target}", f"opening {uri.target}") from None

    def write(self, data: bytes) -> None:
        try:
            self._file.write(data)
        except OSError as exc:
            raise _os_error(exc, f"写入 {self.uri.target}", f"writing {self.uri.target}") from None

    def read(self, n: int, timeout: float) -> bytes:
        return b""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()


def open_transport(
    uri: DeviceUri,
    role: str = "printer",
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    write_timeout: float = DEFAULT_WRITE_TIMEOUT,
) -> PrinterTransport:
    """Open the channel to the printer at `uri`; raises DeviceError (bilingual) when it
    cannot: not there, refused, no driver, a bad URI."""
    if uri.scheme == "tcp":
        return TcpTransport(uri, role, connect_timeout, write_timeout)
    if uri.scheme == "serial":
        return SerialTransport(uri, role, write_timeout)
    if uri.scheme == "usb":
        return UsbTransport(uri, role, write_timeout)
    if uri.scheme == "file":
        return FileTransport(uri, role)
    raise DeviceUriError(
        f"{uri.text} 不是打印机地址（tcp:、serial:、usb:、file:）",
        f"{uri.text} is not a printer URI (tcp:, serial:, usb:, file:)",
    )


def probe_printer(
    uri: DeviceUri,
    role: str = "printer",
    timeout: float = DEFAULT_STATUS_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> DeviceStatus:
    """Open the printer, ask its status, close it; never raises."""
    try:
        transport = open_transport(uri, role, connect_timeout=connect_timeout)
    except DeviceError as exc:
        return status_for_error(uri.text, role, exc)
    with transport:
        return transport.query_status(timeout)
