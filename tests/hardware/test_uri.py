"""Device URIs: every scheme the settings accept, and a clear bilingual error otherwise."""

from __future__ import annotations

import pytest

from hardware.errors import DeviceUriError
from hardware.registry import as_uri
from hardware.uri import parse_device_uri


def test_each_scheme_parses_to_its_parts() -> None:
    u = parse_device_uri("pcsc:ACR122?byte_order=reversed")
    assert (u.scheme, u.target, dict(u.params)) == ("pcsc", "ACR122", {"byte_order": "reversed"})
    assert parse_device_uri("pcsc:").target == ""
    s = parse_device_uri("serial:/dev/ttyUSB0?baud=9600&parity=E")
    assert (s.target, s.param_int("baud", 0), s.param("parity")) == ("/dev/ttyUSB0", 9600, "E")
    t = parse_device_uri("tcp://192.168.1.50:9101")
    assert (t.scheme, t.target, t.port) == ("tcp", "192.168.1.50", 9101)
    assert parse_device_uri("tcp://printer.local").port == 9100
    assert parse_device_uri("usb:0416:5011").usb_ids == (0x0416, 0x5011)
    assert parse_device_uri("file:/dev/usb/lp0").target == "/dev/usb/lp0"
    assert parse_device_uri("wedge").scheme == "wedge"
    assert parse_device_uri("wedge:?min_len=4").param_int("min_len", 3) == 4
    assert parse_device_uri("sim:printer").target == "printer"
    assert str(parse_device_uri("  tcp://h:1 ")) == "tcp://h:1"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "lpt:1",
        "serial",
        "serial:",
        "tcp:host",
        "tcp://h:port",
        "tcp://h:70000",
        "usb:zz:01",
        "usb:0416",
        "file:",
        "sim:",
        "pcsc:x?=&&",
    ],
)
def test_malformed_uris_are_refused_with_both_languages(text: str) -> None:
    with pytest.raises(DeviceUriError) as caught:
        parse_device_uri(text)
    assert "设备地址" in caught.value.message("zh")
    assert "device URI" in caught.value.message("en")


def test_a_non_number_option_names_the_option() -> None:
    u = parse_device_uri("serial:/dev/ttyS0?baud=fast")
    with pytest.raises(DeviceUriError, match="baud=fast"):
        u.param_int("baud", 9600)


@pytest.mark.parametrize(
    ("role", "uri"),
    [
        ("card_source", "tcp://h:9100"),
        ("printer", "pcsc:"),
        ("display", "sim:printer"),
        ("scale", "wedge"),
        ("printer", "sim:card"),
    ],
)
def test_a_uri_for_the_wrong_role_is_refused(role: str, uri: str) -> None:
    with pytest.raises(DeviceUriError) as caught:
        as_uri(uri, role)
    assert "不能用作" in caught.value.zh and "cannot be a" in caught.value.en
