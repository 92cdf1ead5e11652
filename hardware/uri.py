"""Device URIs, the one way devices are named in the settings and on the command line.

    pcsc:                         any PC/SC reader; pcsc:<part of the reader's name>
    serial:/dev/ttyUSB0?baud=9600 a serial port (also bytesize, parity N/E/O, stopbits)
    tcp://host:9100               a network printer (port 9100 if left out)
    usb:<vid>:<pid>               a USB printer, ids in hex (0416:5011)
    file:<path>                   a device file (/dev/usb/lp0) or a plain file to write to
    wedge                         a keyboard-wedge scanner or card reader (keys typed into the app)
    sim:<name>                    a simulator inside this process (tests and the demo)

Options go after `?` as query parameters on every scheme (`pcsc:ACR?byte_order=reversed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from hardware.errors import DeviceUriError

SCHEMES = ("pcsc", "serial", "tcp", "usb", "file", "wedge", "sim")
DEFAULT_TCP_PORT = 9100


@dataclass(frozen=True)
class DeviceUri:
    """A parsed device URI: `target` is the reader-name part, path, host, "vid:pid" or sim
    name; `params` are the query options as given (strings)."""

    scheme: str
    target: str
    port: int | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    text: str = ""

    def __str__(self) -> str:
        return self.text

    def param(self, name: str, default: str | None = None) -> str | None:
        """An option's text, or `default` when it was not given."""
        return self.params.get(name, default)

    def param_int(self, name: str, default: int) -> int:
        """An option as an integer; a clear error when it is not one."""
        value = self.params.get(name)
        if value is None:
            return default
        try:
            return int(value, 0)
        except ValueError:
            raise DeviceUriError(
                f"设备地址 {self.text} 的参数 {name}={value} 不是整数",
                f"Option {name}={value} of device {self.text} is not a whole number",
            ) from None

    def param_float(self, name: str, default: float) -> float:
        """An option as a number (seconds, say); a clear error when it is not one."""
        value = self.params.get(name)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise DeviceUriError(
                f"设备地址 {self.text} 的参数 {name}={value} 不是数字",
                f"Option {name}={value} of device {self.text} is not a number",
            ) from None

    @property
    def usb_ids(self) -> tuple[int, int]:
        """(vendor id, product id) of a `usb:` URI."""
        vid, _, pid = self.target.partition(":")
        return int(vid, 16), int(pid, 16)


def _bad(text: str, zh_why: str, en_why: str) -> DeviceUriError:
    return DeviceUriError(
        f"无法识别的设备地址 {text!r}：{zh_why}（例：pcsc:ACR122、serial:/dev/ttyUSB0?baud=9600、"
        "tcp://192.168.1.50:9100、usb:0416:5011、file:/dev/usb/lp0、wedge、sim:printer）",
        f"Unrecognised device URI {text!r}: {en_why} (e.g. pcsc:ACR122, "
        "serial:/dev/ttyUSB0?baud=9600, tcp://192.168.1.50:9100, usb:0416:5011, "
        "file:/dev/usb/lp0, wedge, sim:printer)",
    )


def parse_device_uri(text: str) -> DeviceUri:
    """Parse a device URI; raises DeviceUriError with a bilingual message and examples."""
    raw = text.strip()
    head, _, query = raw.partition("?")
    scheme, colon, rest = head.partition(":")
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        raise _bad(raw, f"不支持的类型 {scheme or '（空）'}", f"unknown kind {scheme or '(empty)'}")
    if scheme != "wedge" and not colon:
        raise _bad(raw, "缺少冒号", "missing ':'")
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise _bad(raw, "参数格式应为 name=value&…", "options must be name=value&…") from None
    port: int | None = None
    target = rest
    if scheme == "tcp":
        if not rest.startswith("//") or not rest[2:]:
            raise _bad(
                raw, "网络打印机写作 tcp://主机:端口", "write a network device as tcp://host:port"
            )
        host, _, port_text = rest[2:].rstrip("/").rpartition(":")
        if not host:
            host, port_text = port_text, ""
        try:
            port = int(port_text) if port_text else DEFAULT_TCP_PORT
        except ValueError:
            raise _bad(
                raw, f"端口 {port_text} 不是数字", f"port {port_text} is not a number"
            ) from None
        if not 0 <= port <= 65535:
            raise _bad(raw, f"端口 {port} 超出范围", f"port {port} is out of range")
        target = host
    elif scheme == "usb":
        vid, sep, pid = rest.partition(":")
        try:
            if not sep:
                raise ValueError
            int(vid, 16), int(pid, 16)
        except ValueError:
            raise _bad(
                raw,
                "USB 设备写作 usb:厂商号:产品号（十六进制）",
                "write a USB device as usb:<vid>:<pid> in hex",
            ) from None
    elif scheme in ("serial", "file") and not rest:
        raise _bad(raw, "缺少设备路径", "the device path is missing")
    elif scheme == "sim" and not rest:
        raise _bad(raw, "缺少模拟器名称", "the simulator's name is missing")
    return DeviceUri(scheme=scheme, target=target, port=port, params=params, text=raw)
