"""Weighing scales on a serial port.

    serial:/dev/ttyUSB2?protocol=toledo               Toledo 8217, 9600 7E1 unless told
    serial:/dev/ttyUSB2?protocol=generic&baud=9600    continuous "ST,GS,+  1.234kg", 8N1

Toledo 8217 (the standard Toledo host protocol of POS scales): the host sends `W`; a settled,
valid weight comes back as STX <weight> CR (no unit: `unit=kg|g|lb` says which, kg by
default); otherwise the scale sends a status record STX '?' <status byte> CR, whose bits are
0 in motion, 1 over capacity, 2 under zero, 3 outside the zero capture range (4 centre of
zero; 5 and 6 always 1). In motion the request is repeated until the reading settles or the
time is up.

Generic continuous scales send a line several times a second: `ST` stable, `US` unstable, `OL`
overload, then GS/NT (gross/net) and the signed weight with its unit. The newest stable line
is taken; when none comes in time, the last unstable one is returned as not stable.

Weights are integer grams. Silence gives DeviceTimeout, overload or a reading below zero
DeviceRefused, a missing port DeviceUnavailable. All I/O runs on the scale's DeviceThread.
"""

from __future__ import annotations

import logging
import os
import re
import time
from concurrent.futures import TimeoutError as FutureTimeout
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hardware.device_thread import DeviceThread, on_device_thread
from hardware.errors import DeviceRefused, DeviceTimeout, DeviceUnavailable, DeviceUriError
from hardware.events import DeviceState, DeviceStatus
from hardware.interfaces import Scale, Weight
from hardware.serial_port import SerialPortError, close_quietly, open_serial_port, serial_options
from hardware.uri import DeviceUri

log = logging.getLogger(__name__)

PROTOCOLS = ("toledo", "generic")
STX = 0x02
CR = 0x0D
REQUEST = b"W"
UNIT_GRAMS = {"kg": Decimal(1000), "g": Decimal(1), "lb": Decimal("453.59237")}
READ_TICK = 0.05
REQUEST_WAIT = 0.5  # a Toledo scale answers W within a few character times
MOTION_RETRY = 0.05

# Toledo status byte bits
MOTION = 0x01
OVER_CAPACITY = 0x02
UNDER_ZERO = 0x04
OUTSIDE_ZERO_RANGE = 0x08

_NUMBER = re.compile(r"\s*([+-]?)\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*")
_GENERIC = re.compile(r"\s*(ST|US|OL)\s*,\s*([A-Z]{2})\s*,(.*)")


def to_grams(number: str, unit: str) -> int:
    """'1.234' kg -> 1234; rounded half up to whole grams."""
    grams = Decimal(number) * UNIT_GRAMS[unit]
    return int(grams.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _overload() -> DeviceRefused:
    return DeviceRefused("秤超载，请减少重量", "The scale is overloaded; take some weight off")


def _under_zero() -> DeviceRefused:
    return DeviceRefused(
        "秤的读数低于零点，请清空秤盘后置零", "The scale reads below zero; empty it and zero it"
    )


def _unsettled() -> DeviceRefused:
    return DeviceRefused(
        "秤未稳定，请等物品放稳后再称", "The scale has not settled; wait until the goods are still"
    )


def _silent(timeout: float, garbled: bool) -> DeviceTimeout:
    if garbled:
        return DeviceTimeout(
            f"{timeout:g} 秒内没有读到有效重量（收到无法识别的数据，请检查协议和波特率设置）",
            f"No valid weight within {timeout:g} s (unreadable data: check the protocol and "
            "baud rate settings)",
        )
    return DeviceTimeout(
        f"秤在 {timeout:g} 秒内没有回应（检查连接和电源）",
        f"The scale did not answer within {timeout:g} s (check the cable and power)",
    )


def parse_toledo(frame: bytes, unit: str = "kg") -> Weight | int:
    """One Toledo record (between STX and CR): a settled Weight, or the status byte (int)."""
    text = frame.decode("ascii", errors="replace")
    if text.startswith("?"):
        if len(frame) < 2:
            raise ValueError("status record without a status byte")
        return frame[1]
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise ValueError(f"not a Toledo weight record: {text!r}")
    sign, number, _ = match.groups()
    grams = to_grams(number, unit)
    return Weight(grams=-grams if sign == "-" else grams, stable=True)


def parse_generic(line: str) -> tuple[str, int]:
    """One continuous line -> (status ST/US/OL, grams); ValueError when it is not one."""
    match = _GENERIC.fullmatch(line.strip())
    if match is None:
        raise ValueError(f"not a scale line: {line!r}")
    head, _kind, rest = match.groups()
    if head == "OL":
        return head, 0  # some scales put dashes or "OL" where the weight goes
    weight = _NUMBER.fullmatch(rest)
    if weight is None:
        raise ValueError(f"no weight in {line!r}")
    sign, number, unit = weight.groups()
    unit = unit.lower() or "kg"
    if unit not in UNIT_GRAMS:
        raise ValueError(f"unknown unit {unit!r}")
    grams = to_grams(number, unit)
    return head, -grams if sign == "-" else grams


def _line_end(buffer: bytearray) -> int:
    ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
    return min(ends) if ends else -1


def _status(uri: str, state: DeviceState, zh: str = "", en: str = "") -> DeviceStatus:
    return DeviceStatus(uri=uri, role="scale", state=state, detail_zh=zh, detail_en=en)


class SerialScale(Scale):
    """A Toledo 8217 or generic continuous scale on a serial port."""

    def __init__(self, uri: DeviceUri) -> None:
        protocol = uri.param("protocol", "toledo") or "toledo"
        if protocol not in PROTOCOLS:
            raise DeviceUriError(
                f"设备地址 {uri.text} 的 protocol={protocol} 无效（toledo 或 generic）",
                f"Option protocol={protocol} of {uri.text} is invalid (toledo or generic)",
            )
        unit = uri.param("unit", "kg") or "kg"
        if unit not in UNIT_GRAMS:
            raise DeviceUriError(
                f"设备地址 {uri.text} 的 unit={unit} 无效（kg、g 或 lb）",
                f"Option unit={unit} of {uri.text} is invalid (kg, g or lb)",
            )
        # Toledo scales ship set to 7 data bits, even parity; generic ones to 8N1.
        self._defaults: dict[str, Any] = (
            {"bytesize": 7, "parity": "E"} if protocol == "toledo" else {"bytesize": 8}
        )
        # checked now, not at first use
        self.port_settings: dict[str, Any] = serial_options(uri, **self._defaults)
        """The pyserial settings the port is opened with (baudrate, bytesize, parity, …)."""
        self.uri = uri.text
        self.protocol = protocol
        self.unit = unit
        self._device_uri = uri
        self._port: Any = None
        self._closed = False
        self.device_thread = DeviceThread(f"scale:{uri.target}")

    def read_weight(self, timeout: float = 1.0) -> Weight:
        """The weight now, in grams; raises DeviceTimeout, DeviceRefused, DeviceUnavailable."""
        if self._closed:
            raise DeviceUnavailable("秤已关闭", "The scale is closed")
        try:
            return self.device_thread.call(self._read, timeout, timeout=timeout + 2.0)
        except FutureTimeout:
            raise _silent(timeout, garbled=False) from None

    def status(self) -> DeviceStatus:
        """READY when the port opens and the scale answers (Toledo) or sends (generic)."""
        if self._closed:
            return _status(self.uri, DeviceState.UNKNOWN, "已关闭", "closed")
        try:
            self.read_weight(timeout=1.0)
        except SerialPortError as exc:
            return _status(self.uri, exc.state, exc.zh, exc.en)
        except DeviceTimeout as exc:
            return _status(self.uri, DeviceState.OFFLINE, exc.zh, exc.en)
        except DeviceRefused:
            pass  # it answered: overloaded or unsettled is still a working scale
        except Exception as exc:  # status() never raises
            return _status(self.uri, DeviceState.ERROR, str(exc), str(exc))
        return _status(self.uri, DeviceState.READY, "秤有回应", "the scale answers")

    def close(self) -> None:
        """Close the port and end the device thread."""
        if self._closed:
            return
        self._closed = True
        try:
            self.device_thread.call(self._close_port, timeout=2.0)
        except Exception:
            log.debug("closing scale %s", self.uri, exc_info=True)
        self.device_thread.shutdown(wait=False)

    # -- on the device thread -----------------------------------------------------------

    @on_device_thread
    def _read(self, timeout: float) -> Weight:
        port = self._open()
        deadline = time.monotonic() + timeout
        try:
            port.reset_input_buffer()  # old readings are not the weight now
            if self.protocol == "toledo":
                return self._read_toledo(port, deadline, timeout)
            return self._read_generic(port, deadline, timeout)
        except OSError:  # SerialException included: unplugged
            self._close_port()
            raise DeviceUnavailable(
                f"秤的串口 {self._device_uri.target} 已断开",
                f"The scale's port {self._device_uri.target} went away",
            ) from None

    @on_device_thread
    def _open(self) -> Any:
        path = self._device_uri.target
        if self._port is not None and path.startswith("/") and not os.path.exists(path):
            self._close_port()  # unplugged since the last reading
        if self._port is None:
            self._port = open_serial_port(
                self._device_uri, timeout=READ_TICK, write_timeout=0.5, **self._defaults
            )
        return self._port

    @on_device_thread
    def _close_port(self) -> None:
        port, self._port = self._port, None
        close_quietly(port, self.uri)

    def _read_toledo(self, port: Any, deadline: float, timeout: float) -> Weight:
        garbled = False
        in_motion = False
        while time.monotonic() < deadline:
            port.write(REQUEST)
            frame = self._toledo_frame(port, min(deadline, time.monotonic() + REQUEST_WAIT))
            if frame is None:
                continue
            try:
                answer = parse_toledo(frame, self.unit)
            except ValueError:
                garbled = True
                continue
            if isinstance(answer, Weight):
                if answer.grams < 0:
                    raise _under_zero()
                return answer
            if answer & OVER_CAPACITY:
                raise _overload()
            if answer & (UNDER_ZERO | OUTSIDE_ZERO_RANGE):
                raise _under_zero()
            in_motion = bool(answer & MOTION)
            if time.monotonic() + MOTION_RETRY < deadline:
                time.sleep(MOTION_RETRY)  # let the goods settle before asking again
        if in_motion:
            raise _unsettled()
        raise _silent(timeout, garbled)

    @staticmethod
    def _toledo_frame(port: Any, until: float) -> bytes | None:
        """The bytes between STX and CR, or None when they do not come by `until`."""
        buffer = bytearray()
        started = False
        while time.monotonic() < until:
            chunk: bytes = port.read(max(1, port.in_waiting))
            for byte in chunk:
                if byte == STX:
                    buffer.clear()
                    started = True
                elif byte == CR and started:
                    return bytes(buffer)
                elif started:
                    buffer.append(byte & 0x7F)  # 7-bit data: drop a parity bit a port passed on
        return None

    def _read_generic(self, port: Any, deadline: float, timeout: float) -> Weight:
        buffer = bytearray()
        first = True  # the first line after the flush may be cut off at its start
        garbled = False
        unstable: Weight | None = None
        while time.monotonic() < deadline:
            buffer.extend(port.read(max(1, port.in_waiting)))
            while (end := _line_end(buffer)) >= 0:
                line = bytes(buffer[:end]).decode("ascii", errors="replace")
                del buffer[: end + 1]
                if not line.strip():
                    continue
                try:
                    head, grams = parse_generic(line)
                except ValueError:
                    garbled = garbled or not first
                    first = False
                    continue
                first = False
                if head == "OL":
                    raise _overload()
                if grams < 0:
                    raise _under_zero()
                if head == "ST":
                    return Weight(grams=grams, stable=True)
                unstable = Weight(grams=grams, stable=False)
        if unstable is not None:
            return unstable
        raise _silent(timeout, garbled)
