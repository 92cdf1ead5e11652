"""Serial magstripe readers and scanners, through pty simulators opened with real pyserial."""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.cards.serial_reader import SerialCardSource, read_card_text
from hardware.errors import DeviceUriError
from hardware.events import CardEvent, CardPresented, CardReadFailed, DeviceState
from hardware.serial_port import list_serial_ports
from hardware.sim.pty_devices import MagstripeSim, ScannerSim
from hardware.uri import parse_device_uri

PAN = "6222020200112233445"
TRACK1 = f"B{PAN}^LI/SI^2612101000"
TRACK2 = f"{PAN}=2612101000"


def wait_until(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


class Collected:
    """Card events as the source's callback delivers them."""

    def __init__(self) -> None:
        self.events: queue.Queue[CardEvent] = queue.Queue()

    def __call__(self, event: CardEvent) -> None:
        self.events.put(event)

    def next(self, timeout: float = 3.0) -> CardEvent:
        return self.events.get(timeout=timeout)

    def none_within(self, seconds: float) -> bool:
        try:
            self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


def started(uri: str) -> tuple[SerialCardSource, Collected]:
    source = SerialCardSource(parse_device_uri(uri))
    got = Collected()
    source.start(got)
    wait_until(lambda: source.status().state == DeviceState.READY)
    return source, got


@pytest.fixture
def sources() -> Iterator[list[SerialCardSource]]:
    made: list[SerialCardSource] = []
    yield made
    for source in made:
        source.close()


def test_a_swipe_becomes_a_magstripe_card_with_the_pan(sources):
    with MagstripeSim() as reader:
        source, got = started(f"serial:{reader.path}?type=magstripe")
        sources.append(source)
        reader.swipe(TRACK1, TRACK2)
        event = got.next()
        assert isinstance(event, CardPresented)
        assert (event.kind, event.number) == ("magstripe", PAN)
        assert event.raw == f"%{TRACK1}?;{TRACK2}?"
        assert event.reader == f"serial:{reader.path}?type=magstripe"


def test_a_bad_swipe_is_a_read_failure_and_the_next_one_works(sources):
    with MagstripeSim() as reader:
        source, got = started(f"serial:{reader.path}?type=magstripe")
        sources.append(source)
        reader.swipe(None, None, fail=(1, 2))
        failed = got.next()
        assert isinstance(failed, CardReadFailed)
        assert "磁道 1、2" in failed.reason("zh") and "tracks 1, 2" in failed.reason("en")
        reader.swipe(None, TRACK2)
        again = got.next()
        assert isinstance(again, CardPresented) and again.number == PAN


def test_scans_end_on_cr_lf_or_crlf_once_each(sources):
    with ScannerSim() as scanner:
        source, got = started(f"serial:{scanner.path}?type=scanner")
        sources.append(source)
        scanner.scan("]E06901234567892", suffix="\r\n")
        scanner.scan("VIP-0001", suffix="\n")
        scanner.scan("]Q1https://shop.example.cn/m/77", suffix="\r")
        events = [got.next() for _ in range(3)]
        assert [(e.kind, e.number) for e in events if isinstance(e, CardPresented)] == [
            ("barcode", "6901234567892"),
            ("barcode", "VIP-0001"),
            ("qr", "https://shop.example.cn/m/77"),
        ]
        assert got.none_within(0.25)  # the LF of CRLF made no second, empty read


def test_a_scan_without_terminator_ends_after_the_silence(sources):
    with ScannerSim() as scanner:
        source, got = started(f"serial:{scanner.path}?type=scanner&silence_ms=60")
        sources.append(source)
        sent = time.monotonic()
        scanner.scan("12345678", suffix="")
        event = got.next()
        assert isinstance(event, CardPresented) and event.number == "12345678"
        assert event.at - sent >= 0.06  # it waited for the silence, not less


def test_prefix_suffix_and_min_len_from_the_uri(sources):
    with ScannerSim() as scanner:
        uri = f"serial:{scanner.path}?type=scanner&prefix=%23&suffix=%24&min_len=5"
        source, got = started(uri)
        sources.append(source)
        scanner.scan("#A1234$")
        first = got.next()
        assert isinstance(first, CardPresented) and first.number == "A1234"
        scanner.scan("#12$")
        short = got.next()
        assert isinstance(short, CardReadFailed) and "至少 5 位" in short.reason_zh


def test_auto_tells_swipes_from_scans(sources):
    with MagstripeSim() as device:
        source, got = started(f"serial:{device.path}")
        sources.append(source)
        device.swipe(TRACK1, TRACK2)
        device.send_text("6901234567892\r")
        kinds = [
            (e.kind, e.number) for e in (got.next(), got.next()) if isinstance(e, CardPresented)
        ]
        assert kinds == [("magstripe", PAN), ("barcode", "6901234567892")]


def test_utf8_text_from_a_scanner(sources):
    with ScannerSim() as scanner:
        source, got = started(f"serial:{scanner.path}?type=scanner")
        sources.append(source)
        scanner.scan("会员:8888")
        event = got.next()
        assert isinstance(event, CardPresented) and (event.kind, event.number) == (
            "qr",
            "会员:8888",
        )


def test_a_missing_port_is_not_found_and_retried_until_it_appears(tmp_path: Path, sources):
    link = tmp_path / "ttyCARD"
    uri = f"serial:{link}?type=scanner&retry_s=0.1"
    source = SerialCardSource(parse_device_uri(uri))
    sources.append(source)
    before = source.status()  # not started: a quick probe
    assert before.state == DeviceState.NOT_FOUND
    assert "找不到串口" in before.detail_zh and "not found" in before.detail_en
    got = Collected()
    source.start(got)
    wait_until(lambda: source.status().state == DeviceState.NOT_FOUND)
    with ScannerSim() as scanner:
        link.symlink_to(scanner.path)  # the adapter is plugged in
        wait_until(lambda: source.status().state == DeviceState.READY)
        scanner.scan("ABC-123")
        event = got.next()
        assert isinstance(event, CardPresented) and event.number == "ABC-123"


def test_an_unplugged_port_reports_not_found_and_reading_resumes_when_it_is_back(
    tmp_path: Path, sources
):
    link = tmp_path / "ttyUSB0"
    first = ScannerSim()
    link.symlink_to(first.path)
    source, got = started(f"serial:{link}?type=scanner&retry_s=0.1")
    sources.append(source)
    first.scan("FIRST-1")
    assert isinstance(got.next(), CardPresented)

    first.close()  # unplugged: the pty and its path are gone
    wait_until(lambda: source.status().state == DeviceState.NOT_FOUND)
    assert "已断开" in source.status().detail_zh or "找不到" in source.status().detail_zh

    with ScannerSim() as second:  # plugged back in, maybe as another device node
        link.unlink()
        link.symlink_to(second.path)
        wait_until(lambda: source.status().state == DeviceState.READY)
        second.scan("SECOND-2")
        event = got.next()
        assert isinstance(event, CardPresented) and event.number == "SECOND-2"


def test_a_port_another_reader_holds_is_reported_busy(sources):
    with ScannerSim() as scanner:
        uri = f"serial:{scanner.path}?type=scanner&retry_s=0.1"
        holder, _ = started(uri)
        sources.append(holder)
        second = SerialCardSource(parse_device_uri(uri))
        sources.append(second)
        status = second.status()
        assert status.state == DeviceState.ERROR
        assert "占用" in status.detail_zh and "in use" in status.detail_en


def test_stop_releases_the_port_and_start_reads_again(sources):
    with ScannerSim() as scanner:
        source, got = started(f"serial:{scanner.path}?type=scanner")
        sources.append(source)
        source.stop()
        assert source.status().state == DeviceState.READY  # the probe can open it again
        scanner.scan("LOST-1")  # nobody reads: a real scanner's beep goes unheard
        assert got.none_within(0.15)
        source.start(got)
        wait_until(lambda: source.status().detail_en == "waiting")
        scanner.scan("READ-2")
        event = got.next()
        assert isinstance(event, CardPresented) and event.number == "READ-2"


def test_a_failing_handler_does_not_stop_the_reader(sources):
    with ScannerSim() as scanner:
        got = Collected()
        calls = []

        def handler(event: CardEvent) -> None:
            calls.append(event)
            if len(calls) == 1:
                raise RuntimeError("the app's handler broke")
            got(event)

        source = SerialCardSource(parse_device_uri(f"serial:{scanner.path}?type=scanner"))
        sources.append(source)
        source.start(handler)
        wait_until(lambda: source.status().state == DeviceState.READY)
        scanner.scan("ONE-1")
        wait_until(lambda: len(calls) == 1)
        scanner.scan("TWO-2")
        event = got.next()
        assert isinstance(event, CardPresented) and event.number == "TWO-2"


def test_the_handler_may_close_the_source_without_deadlock(sources):
    with ScannerSim() as scanner:
        uri = f"serial:{scanner.path}?type=scanner"
        source = SerialCardSource(parse_device_uri(uri))
        closed = threading.Event()

        def handler(event: CardEvent) -> None:
            source.close()  # on the source's own thread
            closed.set()

        source.start(handler)
        wait_until(lambda: source.status().state == DeviceState.READY)
        scanner.scan("BYE-1")
        assert closed.wait(2.0)
        other = SerialCardSource(parse_device_uri(uri))
        sources.append(other)
        wait_until(lambda: other.status().state == DeviceState.READY)  # the port was released


def test_logs_show_only_the_masked_number(sources, caplog):
    caplog.set_level(logging.DEBUG)
    with MagstripeSim() as reader:
        source, got = started(f"serial:{reader.path}?type=magstripe")
        sources.append(source)
        reader.swipe(TRACK1, TRACK2)
        got.next()
    source.close()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert PAN not in text and "LI/SI" not in text
    assert "*" * 15 + PAN[-4:] in text


def test_close_stops_quickly_and_status_still_answers():
    with ScannerSim() as scanner:
        source, _ = started(f"serial:{scanner.path}?type=scanner")
        began = time.monotonic()
        source.close()
        assert time.monotonic() - began < 1.0
        assert source.status().state == DeviceState.UNKNOWN


@pytest.mark.parametrize(
    "options",
    ["type=barcode", "parity=X", "bytesize=9", "baud=fast", "encoding=klingon"],
)
def test_bad_options_are_uri_errors(options):
    with pytest.raises(DeviceUriError) as caught:
        SerialCardSource(parse_device_uri(f"serial:/dev/ttyUSB9?{options}"))
    assert caught.value.zh and caught.value.en


def test_only_serial_uris():
    with pytest.raises(DeviceUriError):
        SerialCardSource(parse_device_uri("tcp://127.0.0.1:9100"))


def test_read_card_text_modes():
    swipe = f"%{TRACK1}?;{TRACK2}?"
    as_card = read_card_text(swipe, mode="auto", reader="r", at=1.0)
    assert isinstance(as_card, CardPresented) and as_card.kind == "magstripe"
    as_scan = read_card_text(swipe, mode="scanner", reader="r", at=1.0)
    assert isinstance(as_scan, CardPresented) and as_scan.kind == "qr"
    bad = read_card_text("6901234567892", mode="magstripe", reader="r", at=1.0)
    assert isinstance(bad, CardPresented)  # digits alone: track 2 without sentinels
    garbage = read_card_text("hello", mode="magstripe", reader="r", at=1.0)
    assert isinstance(garbage, CardReadFailed)


def test_list_serial_ports_never_raises(monkeypatch):
    ports = list_serial_ports()
    assert all(isinstance(p, str) for p in ports) and ports == sorted(ports)

    def broken() -> list[object]:
        raise OSError("sysfs unreadable")

    from serial.tools import list_ports

    monkeypatch.setattr(list_ports, "comports", broken)
    assert list_serial_ports() == []


def test_without_pyserial_the_state_is_no_driver(monkeypatch):
    for name in ("serial", "serial.tools", "serial.tools.list_ports"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it raises ImportError
    source = SerialCardSource(parse_device_uri("serial:/dev/ttyUSB9"))
    try:
        status = source.status()
        assert status.state == DeviceState.NO_DRIVER
        assert "pyserial" in status.detail_zh and "pyserial" in status.detail_en
        assert list_serial_ports() == []
    finally:
        source.close()
