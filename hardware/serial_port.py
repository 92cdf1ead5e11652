"""Serial ports for every serial device (card readers, scanners, printers, pole displays,
scales): settings from the device URI, opening with errors an operator can act on, listing.

Options on `serial:/dev/ttyUSB0?…`: baud, bytesize (5-8), parity (N/E/O/M/S), stopbits
(1/1.5/2), and flow control rtscts, dsrdtr, xonxoff (0/1).
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from hardware.errors import DeviceUnavailable, DeviceUriError
from hardware.events import DeviceState
from hardware.uri import DeviceUri

log = logging.getLogger(__name__)

PARITIES = ("N", "E", "O", "M", "S")


class SerialPortError(DeviceUnavailable):
    """A serial port could not be opened or used; `state` is what the status shows."""

    def __init__(self, state: DeviceState, zh: str, en: str) -> None:
        super().__init__(zh, en)
        self.state = state


def _import_serial() -> Any:
    try:
        import serial
    except ImportError:
        raise SerialPortError(
            DeviceState.NO_DRIVER,
            "缺少串口支持库 pyserial（pip install pyserial）",
            "The serial port library pyserial is missing (pip install pyserial)",
        ) from None
    return serial


def list_serial_ports() -> list[str]:
    """The serial ports the system reports (USB adapters included); [] when unknown."""
    try:
        from serial.tools import list_ports

        return sorted(info.device for info in list_ports.comports())
    except Exception:  # no pyserial, or a platform probe failing: nothing to list
        log.debug("listing serial ports failed", exc_info=True)
        return []


def serial_options(
    uri: DeviceUri, *, baud: int = 9600, bytesize: int = 8, parity: str = "N", stopbits: float = 1
) -> dict[str, Any]:
    """pyserial's settings from the URI's options, the device's defaults where left out."""
    if uri.scheme != "serial":
        raise DeviceUriError(
            f"设备地址 {uri.text} 不是串口（应为 serial:/dev/ttyUSB0?baud=9600）",
            f"Device {uri.text} is not a serial port (expected serial:/dev/ttyUSB0?baud=9600)",
        )
    options: dict[str, Any] = {
        "baudrate": uri.param_int("baud", baud),
        "bytesize": uri.param_int("bytesize", bytesize),
        "parity": (uri.param("parity", parity) or parity).upper()[:1],
        "stopbits": uri.param_float("stopbits", stopbits),
        # Flow control: some printers need RTS/CTS to be held back while they print.
        "rtscts": uri.param_int("rtscts", 0) != 0,
        "dsrdtr": uri.param_int("dsrdtr", 0) != 0,
        "xonxoff": uri.param_int("xonxoff", 0) != 0,
    }
    if options["stopbits"] == int(options["stopbits"]):
        options["stopbits"] = int(options["stopbits"])
    if (
        options["baudrate"] <= 0
        or options["bytesize"] not in (5, 6, 7, 8)
        or options["parity"] not in PARITIES
        or options["stopbits"] not in (1, 1.5, 2)
    ):
        raise DeviceUriError(
            f"设备地址 {uri.text} 的串口参数无效（baud>0，bytesize 5-8，parity N/E/O/M/S，"
            "stopbits 1/1.5/2）",
            f"Serial settings of {uri.text} are invalid (baud>0, bytesize 5-8, "
            "parity N/E/O/M/S, stopbits 1/1.5/2)",
        )
    return options


def _open_error(path: str, exc: BaseException) -> SerialPortError:
    """Say why a port did not open, in terms the operator can act on."""
    code = getattr(exc, "errno", None)
    if code == errno.ENOENT or code == errno.ENODEV or code == errno.ENXIO:
        return SerialPortError(
            DeviceState.NOT_FOUND,
            f"找不到串口 {path}（设备未连接或已拔出）",
            f"Serial port {path} not found (not connected or unplugged)",
        )
    if code == errno.EACCES or code == errno.EPERM:
        return SerialPortError(
            DeviceState.ERROR,
            f"无权限打开串口 {path}（Linux 上请把用户加入 dialout 组）",
            f"No permission to open {path} (on Linux add the user to the dialout group)",
        )
    if code == errno.EBUSY or code == errno.EAGAIN or code == errno.EWOULDBLOCK:
        return SerialPortError(
            DeviceState.ERROR,
            f"串口 {path} 正被其他程序占用",
            f"Serial port {path} is in use by another program",
        )
    return SerialPortError(
        DeviceState.ERROR,
        f"无法打开串口 {path}：{exc}",
        f"Cannot open serial port {path}: {exc}",
    )


def open_serial_port(
    uri: DeviceUri,
    *,
    timeout: float,
    write_timeout: float | None = None,
    baud: int = 9600,
    bytesize: int = 8,
    parity: str = "N",
    stopbits: float = 1,
) -> Any:
    """Open the URI's port with pyserial (a `serial.Serial`); raises SerialPortError."""
    options = serial_options(uri, baud=baud, bytesize=bytesize, parity=parity, stopbits=stopbits)
    serial = _import_serial()
    try:
        # exclusive: a second program (or a second source on the same port) gets "busy"
        # instead of silently sharing the bytes.
        return serial.Serial(
            uri.target,
            timeout=timeout,
            write_timeout=write_timeout,
            exclusive=True,
            **options,
        )
    except (OSError, ValueError) as exc:  # SerialException is an OSError
        raise _open_error(uri.target, exc) from None


def close_quietly(port: Any, what: str) -> None:
    """Close a port that may already be gone (unplugged): a failure is only logged."""
    if port is None:
        return
    try:
        port.close()
    except Exception:
        log.debug("closing %s failed", what, exc_info=True)
