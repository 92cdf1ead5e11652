"""Serial scales (Toledo 8217 and generic continuous) through pty simulators."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.errors import DeviceRefused, DeviceTimeout, DeviceUnavailable, DeviceUriError
from hardware.events import DeviceState
from hardware.interfaces import Weight
from hardware.scale import SerialScale, parse_generic, parse_toledo, to_grams
from hardware.sim.pty_devices import ScaleSim, generic_line, toledo_record
from hardware.uri import parse_device_uri


@pytest.fixture
def scales() -> Iterator[list[SerialScale]]:
    made: list[SerialScale] = []
    yield made
    for scale in made:
        scale.close()


def open_scale(uri: str, made: list[SerialScale]) -> SerialScale:
    scale = SerialScale(parse_device_uri(uri))
    made.append(scale)
    return scale


# -- parsing ------------------------------------------------------------------------------


def test_grams_are_rounded_half_up():
    assert to_grams("1.234", "kg") == 1234
    assert to_grams("1.2345", "kg") == 1235
    assert to_grams("250", "g") == 250
    assert to_grams("1", "lb") == 454


def test_toledo_records():
    assert parse_toledo(b"01.234") == Weight(1234, True)
    assert parse_toledo(b" 0.500") == Weight(500, True)
    assert parse_toledo(b"?a") == 0x61  # status byte: in motion
    with pytest.raises(ValueError):
        parse_toledo(b"abc")


def test_generic_lines():
    assert parse_generic("ST,GS,+  1.234kg") == ("ST", 1234)
    assert parse_generic("US,NT,+  0.050kg\r\n") == ("US", 50)
    assert parse_generic("ST,GS,-  0.010kg") == ("ST", -10)
    assert parse_generic("ST,GS,+   120.5g") == ("ST", 121)
    assert parse_generic("OL,GS,+ -----kg")[0] == "OL"
    for bad in ("", "kg", "XX,GS,+1.0kg", "ST,GS,+1.0oz"):
        with pytest.raises(ValueError):
            parse_generic(bad)


@given(st.integers(0, 999_999), st.booleans())
def test_what_the_simulator_sends_parses_back(grams, stable):
    line = generic_line(grams, stable).decode()
    assert parse_generic(line) == ("ST" if stable else "US", grams)
    record = toledo_record(grams, stable)
    assert record[0] == 0x02 and record[-1:] == b"\r"
    answer = parse_toledo(record[1:-1])
    assert answer == (Weight(grams, True) if stable else 0x61)


# -- Toledo through the pty -----------------------------------------------------------------


def test_toledo_answers_w_with_the_weight(scales):
    with ScaleSim(1234, protocol="toledo") as sim:
        scale = open_scale(f"serial:{sim.path}?protocol=toledo", scales)
        assert scale.read_weight() == Weight(grams=1234, stable=True)
        sim.grams = 250
        assert scale.read_weight() == Weight(grams=250, stable=True)
        assert sim.requests == 2
        assert scale.status().state == DeviceState.READY


def test_toledo_in_motion_asks_again_until_it_settles(scales):
    with ScaleSim(800, stable=False, protocol="toledo") as sim:
        scale = open_scale(f"serial:{sim.path}", scales)
        settle = threading.Timer(0.2, lambda: setattr(sim, "stable", True))
        settle.start()
        try:
            assert scale.read_weight(timeout=3.0) == Weight(grams=800, stable=True)
        finally:
            settle.cancel()
        assert sim.requests > 1


def test_toledo_that_never_settles_is_refused(scales):
    with ScaleSim(800, stable=False, protocol="toledo") as sim:
        scale = open_scale(f"serial:{sim.path}", scales)
        with pytest.raises(DeviceRefused) as caught:
            scale.read_weight(timeout=0.3)
        assert "未稳定" in caught.value.zh and "not settled" in caught.value.en


def test_toledo_overload_and_under_zero_are_refused(scales):
    with ScaleSim(40_000, overload=True, protocol="toledo") as sim:
        scale = open_scale(f"serial:{sim.path}", scales)
        with pytest.raises(DeviceRefused) as caught:
            scale.read_weight()
        assert "超载" in caught.value.zh and "overloaded" in caught.value.en
        sim.overload = False
        sim.grams = -20
        with pytest.raises(DeviceRefused) as below:
            scale.read_weight()
        assert "低于零点" in below.value.zh
        assert scale.status().state == DeviceState.READY  # it answers: the scale works


def test_a_silent_scale_times_out_quickly(scales):
    with ScaleSim(100, protocol="toledo") as sim:
        sim.silent = True
        scale = open_scale(f"serial:{sim.path}", scales)
        began = time.monotonic()
        with pytest.raises(DeviceTimeout) as caught:
            scale.read_weight(timeout=0.3)
        assert time.monotonic() - began < 1.0
        assert "没有回应" in caught.value.zh and "did not answer" in caught.value.en
        assert scale.status().state == DeviceState.OFFLINE


def test_a_missing_scale_is_unavailable_and_not_found(tmp_path, scales):
    scale = open_scale(f"serial:{tmp_path / 'ttySCALE'}", scales)
    with pytest.raises(DeviceUnavailable) as caught:
        scale.read_weight()
    assert "找不到串口" in caught.value.zh
    assert scale.status().state == DeviceState.NOT_FOUND


def test_an_unplugged_scale_is_unavailable_then_reads_again(tmp_path, scales):
    link = tmp_path / "ttySCALE"
    first = ScaleSim(500)
    link.symlink_to(first.path)
    scale = open_scale(f"serial:{link}", scales)
    assert scale.read_weight().grams == 500
    first.close()
    link.unlink()
    with pytest.raises(DeviceUnavailable):
        scale.read_weight()
    with ScaleSim(600) as second:
        link.symlink_to(second.path)
        assert scale.read_weight().grams == 600


# -- generic continuous through the pty --------------------------------------------------------


def test_generic_stable_reading(scales):
    with ScaleSim(1234, protocol="generic", interval=0.02) as sim:
        scale = open_scale(f"serial:{sim.path}?protocol=generic", scales)
        assert scale.read_weight() == Weight(grams=1234, stable=True)
        sim.grams = 2000
        deadline = time.monotonic() + 2.0
        while scale.read_weight().grams != 2000:  # the reading follows the scale
            assert time.monotonic() < deadline


def test_generic_unstable_gives_the_last_reading_not_stable(scales):
    with ScaleSim(333, stable=False, protocol="generic", interval=0.02) as sim:
        scale = open_scale(f"serial:{sim.path}?protocol=generic", scales)
        assert scale.read_weight(timeout=0.3) == Weight(grams=333, stable=False)


def test_generic_overload_and_negative_are_refused(scales):
    with ScaleSim(1, overload=True, protocol="generic", interval=0.02) as sim:
        scale = open_scale(f"serial:{sim.path}?protocol=generic", scales)
        with pytest.raises(DeviceRefused):
            scale.read_weight()
        sim.overload = False
        sim.grams = -5
        with pytest.raises(DeviceRefused):
            scale.read_weight()


def test_generic_garbage_says_to_check_the_settings(scales):
    with ScaleSim(1, protocol="generic") as sim:
        sim.silent = True
        scale = open_scale(f"serial:{sim.path}?protocol=generic", scales)

        def garble() -> None:
            for _ in range(20):
                sim.send(b"\xfe\x81 noise \r\n", wait=0.0)
                time.sleep(0.01)

        noise = threading.Thread(target=garble)
        noise.start()
        try:
            with pytest.raises(DeviceTimeout) as caught:
                scale.read_weight(timeout=0.15)
        finally:
            noise.join()
        assert "波特率" in caught.value.zh and "baud" in caught.value.en


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("protocol=toledo", (9600, 7, "E", 1)),
        ("protocol=generic", (9600, 8, "N", 1)),
        ("protocol=toledo&baud=4800&bytesize=8&parity=n&stopbits=2", (4800, 8, "N", 2)),
    ],
)
def test_toledo_defaults_to_7e1_and_generic_to_8n1(scales, options, expected):
    # A pty forces 8N1 on itself, so the settings are checked where the scale keeps them.
    scale = open_scale(f"serial:/dev/ttyS0?{options}", scales)
    settings = scale.port_settings
    assert (
        settings["baudrate"],
        settings["bytesize"],
        settings["parity"],
        settings["stopbits"],
    ) == expected


@pytest.mark.parametrize("options", ["protocol=mettler", "unit=oz", "parity=Z"])
def test_bad_options_are_uri_errors(options):
    with pytest.raises(DeviceUriError):
        SerialScale(parse_device_uri(f"serial:/dev/ttyS0?{options}"))


def test_a_closed_scale_raises(scales):
    with ScaleSim(1) as sim:
        scale = open_scale(f"serial:{sim.path}", scales)
        scale.close()
        with pytest.raises(DeviceUnavailable):
            scale.read_weight()
        assert scale.status().state == DeviceState.UNKNOWN
