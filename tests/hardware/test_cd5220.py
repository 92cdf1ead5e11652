"""The CD5220 pole display through a pty simulator opened with real pyserial."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.display.cd5220 import (
    CLEAR,
    END_LINE,
    INIT,
    LINE_1,
    LINE_2,
    Cd5220Display,
    encode_line,
)
from hardware.errors import DeviceUnavailable, DeviceUriError
from hardware.events import DeviceState
from hardware.sim.pty_devices import PoleDisplaySim
from hardware.uri import parse_device_uri


@pytest.fixture
def displays() -> Iterator[list[Cd5220Display]]:
    made: list[Cd5220Display] = []
    yield made
    for display in made:
        display.close()


def open_display(uri: str, made: list[Cd5220Display]) -> Cd5220Display:
    display = Cd5220Display(parse_device_uri(uri))
    made.append(display)
    return display


# -- text layout --------------------------------------------------------------------------


def test_lines_are_padded_and_cut_to_twenty_columns():
    assert encode_line("TOTAL 12.50") == b"TOTAL 12.50" + b" " * 9
    assert encode_line("X" * 25) == b"X" * 20
    assert len(encode_line("")) == 20


def test_a_chinese_character_takes_two_columns():
    data = encode_line("总计 12.50", encoding="gb18030")
    assert data == "总计 12.50".encode("gb18030") + b" " * 10
    # 9 characters = 18 columns; a 10th wide one would need 21: it is left out, padded instead
    assert encode_line("找" * 11, encoding="gb18030") == "找".encode("gb18030") * 10
    assert (
        encode_line("a" + "找" * 10, encoding="gb18030") == b"a" + "找".encode("gb18030") * 9 + b" "
    )


def test_what_the_display_cannot_show_becomes_a_question_mark():
    assert encode_line("总计 ￥5", encoding="ascii") == b"?? ?5" + b" " * 15
    # a GB18030 four-byte character is beyond a display's Chinese font
    assert encode_line("𠀀1", encoding="gb18030") == b"?1" + b" " * 18


def test_control_characters_cannot_break_the_line_command():
    assert encode_line("A\rB\x1bC") == b"A B C" + b" " * 15


def test_other_widths():
    assert encode_line("123456", columns=4) == b"1234"


# -- through the pty ------------------------------------------------------------------------


def test_show_writes_both_lines_after_initialising(displays):
    with PoleDisplaySim() as sim:
        display = open_display(f"serial:{sim.path}", displays)
        display.show("TOTAL", "12.50")
        assert sim.wait_for(lambda s: s.line2.strip() == "12.50")
        assert sim.line1 == "TOTAL" + " " * 15
        assert sim.data == (
            INIT
            + LINE_1
            + b"TOTAL"
            + b" " * 15
            + END_LINE
            + LINE_2
            + b"12.50"
            + b" " * 15
            + END_LINE
        )
        display.show("CHANGE", "2.00")
        assert sim.wait_for(lambda s: s.line1.strip() == "CHANGE")
        assert sim.inits == 1 and sim.unknown == b""  # the port stays open: no re-init


def test_chinese_text_on_a_gb18030_display(displays):
    with PoleDisplaySim(encoding="gb18030") as sim:
        display = open_display(f"serial:{sim.path}?encoding=gb18030", displays)
        display.show("总计", "￥128.00")
        assert sim.wait_for(lambda s: s.line2.startswith("￥128.00"))
        assert sim.line1 == "总计" + " " * 16


def test_clear_and_the_lamps(displays):
    with PoleDisplaySim() as sim:
        display = open_display(f"serial:{sim.path}", displays)
        display.show("A", "B")
        display.lamp("total")
        assert sim.wait_for(lambda s: s.lamp == "total" and s.line1.startswith("A"))
        display.lamp("找零")
        assert sim.wait_for(lambda s: s.lamp == "change")
        display.lamp("collect")
        assert sim.wait_for(lambda s: s.lamp == "collect")
        display.lamp("price")
        assert sim.wait_for(lambda s: s.lamp == "price")
        display.lamp("off")
        display.clear()
        assert sim.wait_for(lambda s: s.lamp is None and s.line1 == "" and s.line2 == "")
        assert sim.data.endswith(b"\x1bs0" + CLEAR)
        with pytest.raises(ValueError):
            display.lamp("discount")


def test_a_missing_port_is_not_found_and_show_raises_in_both_languages(tmp_path, displays):
    display = open_display(f"serial:{tmp_path / 'ttyPOLE'}", displays)
    status = display.status()
    assert status.state == DeviceState.NOT_FOUND
    began = time.monotonic()
    with pytest.raises(DeviceUnavailable) as caught:
        display.show("TOTAL", "1.00")
    assert time.monotonic() - began < 1.0
    assert "找不到串口" in caught.value.message("zh")
    assert "not found" in caught.value.message("en")


def test_an_unplugged_display_raises_then_works_again_when_plugged_back(tmp_path: Path, displays):
    link = tmp_path / "ttyPOLE"
    first = PoleDisplaySim()
    link.symlink_to(first.path)
    display = open_display(f"serial:{link}", displays)
    display.show("ONE", "")
    assert first.wait_for(lambda s: s.line1.startswith("ONE"))
    assert display.status().state == DeviceState.READY

    first.close()
    link.unlink()
    with pytest.raises(DeviceUnavailable):
        display.show("TWO", "")
    assert display.status().state == DeviceState.NOT_FOUND

    with PoleDisplaySim() as second:
        link.symlink_to(second.path)
        assert display.status().state == DeviceState.READY
        display.show("THREE", "")
        assert second.wait_for(lambda s: s.line1.startswith("THREE"))
        assert second.inits == 1  # a new port is initialised again


def test_a_failed_write_closes_the_port_and_raises_device_unavailable(
    tmp_path: Path, displays, monkeypatch
):
    # A relative path is not checked for existence before writing (as on Windows, where
    # COM ports are no files): the write itself must fail cleanly.
    monkeypatch.chdir(tmp_path)
    sim = PoleDisplaySim()
    Path("ttyPOLE").symlink_to(sim.path)
    display = open_display("serial:ttyPOLE", displays)
    display.show("ONE", "")
    assert sim.wait_for(lambda s: s.line1.startswith("ONE"))
    sim.close()
    with pytest.raises(DeviceUnavailable) as caught:
        display.show("TWO", "")
    assert "已断开" in caught.value.zh and "went away" in caught.value.en
    assert display.status().state == DeviceState.NOT_FOUND


def test_a_closed_display_raises_and_reports_closed(displays):
    with PoleDisplaySim() as sim:
        display = open_display(f"serial:{sim.path}", displays)
        display.close()
        with pytest.raises(DeviceUnavailable):
            display.show("X")
        assert display.status().state == DeviceState.UNKNOWN


@pytest.mark.parametrize("options", ["encoding=klingon", "parity=Q", "columns=wide"])
def test_bad_options_are_uri_errors(options):
    with pytest.raises(DeviceUriError):
        Cd5220Display(parse_device_uri(f"serial:/dev/ttyUSB9?{options}"))
