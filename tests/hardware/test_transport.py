"""Printer transports on real channels: TCP to the printer sink, a pty as a serial port, a
file; the USB path without a USB printer (or without pyusb) fails with a clear status."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.errors import DeviceRefused, DeviceUnavailable, DeviceUriError
from hardware.events import DeviceState
from hardware.printing.escpos_encoder import status_query
from hardware.printing.transport import (
    ConnectionLost,
    DriverMissing,
    FileTransport,
    TcpTransport,
    interpret_status,
    open_transport,
    probe_printer,
)
from hardware.sim.printer_sink import PrinterSink
from hardware.uri import parse_device_uri

JOB = "结账 ￥8.00\n".encode("gb18030")
ERROR_TEXT = "the printer reports an error (cutter, overheating…): check it"


@pytest.fixture
def sink() -> Iterator[PrinterSink]:
    with PrinterSink(port=0, drop_after=50) as running:
        yield running


def tcp(sink: PrinterSink, query: str = "") -> TcpTransport:
    transport = open_transport(parse_device_uri(f"tcp://127.0.0.1:{sink.port}{query}"))
    assert isinstance(transport, TcpTransport)
    return transport


# --- the status bytes (pure) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "state", "detail"),
    [
        ({1: 0x12, 4: 0x12}, DeviceState.READY, ""),
        ({1: 0x16, 4: 0x12}, DeviceState.READY, ""),  # drawer sensor bit: not a problem
        ({1: 0x12, 4: 0x1E}, DeviceState.READY, "paper low"),  # escpos RT_MASK_LOWPAPER
        ({1: 0x1A, 4: 0x72, 2: 0x32}, DeviceState.PAPER_OUT, "load paper"),  # RT_MASK_NOPAPER
        ({1: 0x12, 4: 0x72}, DeviceState.PAPER_OUT, "load paper"),
        ({1: 0x1A, 4: 0x7E, 2: 0x32}, DeviceState.PAPER_OUT, "load paper"),
        ({1: 0x1A, 4: 0x12, 2: 0x16}, DeviceState.COVER_OPEN, "close the cover"),
        ({1: 0x1A, 4: 0x12, 2: 0x52, 3: 0x1A}, DeviceState.ERROR, ERROR_TEXT),  # cutter
        ({1: 0x1A, 4: 0x12, 2: 0x12}, DeviceState.OFFLINE, "the printer reports offline"),
        ({1: 0x1A}, DeviceState.OFFLINE, "the printer reports offline"),
        ({1: 0x41}, DeviceState.UNKNOWN, "unexpected status answer (n=1: 0x41)"),
    ],
)
def test_status_bytes_are_read_as_epson_documents_them(
    answers: dict[int, int], state: DeviceState, detail: str
) -> None:
    condition = interpret_status(answers)
    assert (condition.state, condition.detail_en) == (state, detail)


# --- TCP --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "state"),
    [
        ("normal", DeviceState.READY),
        ("drop", DeviceState.READY),
        ("paper_out", DeviceState.PAPER_OUT),
        ("cover_open", DeviceState.COVER_OPEN),
    ],
)
def test_tcp_status_follows_the_printer(sink: PrinterSink, mode: str, state: DeviceState) -> None:
    sink.mode = mode
    with tcp(sink) as transport:
        assert transport.query_status(1.0).state == state


def test_tcp_writes_arrive_as_one_job_and_nodelay_is_set(sink: PrinterSink) -> None:
    with tcp(sink) as transport:
        sock = transport._sock
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert transport.query_status().ok
        transport.write(JOB)
        transport.write(JOB)
        assert transport.query_status().state == DeviceState.READY
    assert sink.wait_for_jobs(1) == [JOB + JOB]


def test_a_silent_printer_is_offline_after_the_timeout(sink: PrinterSink) -> None:
    sink.mode = "silent"
    with tcp(sink) as transport:
        started = time.monotonic()
        status = transport.query_status(0.3)
        elapsed = time.monotonic() - started
    assert status.state == DeviceState.OFFLINE
    assert "no answer" in status.detail_en
    assert "未应答" in status.detail_zh
    assert 0.25 <= elapsed < 1.0


def test_a_late_answer_is_not_taken_for_the_next_one(sink: PrinterSink) -> None:
    with tcp(sink) as transport:
        transport.write(status_query(4))  # answered, never read: a stale byte waits
        deadline = time.monotonic() + 2
        while sink.queries != [4] and time.monotonic() < deadline:
            time.sleep(0.01)
        sink.mode = "paper_out"
        assert transport.query_status().state == DeviceState.PAPER_OUT


def test_a_refused_connection_is_device_refused_and_offline(sink: PrinterSink) -> None:
    sink.mode = "refuse"
    uri = parse_device_uri(f"tcp://127.0.0.1:{sink.port}")
    with pytest.raises(DeviceRefused) as raised:
        open_transport(uri)
    assert "拒绝" in raised.value.zh
    status = probe_printer(uri)
    assert status.state == DeviceState.OFFLINE
    assert "refused" in status.detail_en


def test_a_connection_cut_midway_raises_connection_lost(sink: PrinterSink) -> None:
    sink.mode = "drop"
    block = b"x" * 65536
    with tcp(sink) as transport, pytest.raises(ConnectionLost) as raised:
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            transport.write(block)
            transport.read(1, 0.05)
    assert "bytes" in raised.value.en or "closed" in raised.value.en
    assert sink.wait_for_records(1)[0].data == b"x" * 50


def test_status_off_asks_nothing(sink: PrinterSink) -> None:
    with tcp(sink, "?status=off") as transport:
        assert transport.query_status().state == DeviceState.UNKNOWN
        transport.write(JOB)
    assert sink.wait_for_jobs(1) == [JOB]
    assert sink.queries == []


def test_probe_printer_opens_asks_and_closes(sink: PrinterSink) -> None:
    status = probe_printer(parse_device_uri(f"tcp://127.0.0.1:{sink.port}"), "drawer")
    assert (status.state, status.role) == (DeviceState.READY, "drawer")
    assert sink.records == []  # a status check is not a job


# --- serial, through a pseudo-terminal -----------------------------------------------


class PtyPrinter:
    """A serial printer on the master side of a pty: answers DLE EOT n from `answers`."""

    def __init__(self, answers: dict[int, int] | None) -> None:
        self.master, slave = os.openpty()
        self.path = os.ttyname(slave)
        self._slave = slave  # kept open so the master never sees a hang-up
        self.answers = answers
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import select

        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            self.received += chunk
            for i in range(len(chunk) - 2):
                if chunk[i : i + 2] == b"\x10\x04" and self.answers is not None:
                    os.write(self.master, bytes([self.answers[chunk[i + 2]]]))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def pty_printer(request: pytest.FixtureRequest) -> Iterator[PtyPrinter]:
    printer = PtyPrinter(getattr(request, "param", {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}))
    yield printer
    printer.close()


def test_serial_printer_status_and_write(pty_printer: PtyPrinter) -> None:
    uri = parse_device_uri(f"serial:{pty_printer.path}?baud=19200")
    with open_transport(uri) as transport:
        assert transport.query_status(1.0).state == DeviceState.READY
        transport.write(JOB)
        deadline = time.monotonic() + 2
        while JOB not in pty_printer.received and time.monotonic() < deadline:
            time.sleep(0.01)
    assert JOB in pty_printer.received


@pytest.mark.parametrize("pty_printer", [{1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72}], indirect=True)
def test_serial_printer_out_of_paper(pty_printer: PtyPrinter) -> None:
    with open_transport(parse_device_uri(f"serial:{pty_printer.path}")) as transport:
        assert transport.query_status(1.0).state == DeviceState.PAPER_OUT


@pytest.mark.parametrize("pty_printer", [None], indirect=True)
def test_a_serial_printer_that_never_answers_is_offline(pty_printer: PtyPrinter) -> None:
    with open_transport(parse_device_uri(f"serial:{pty_printer.path}")) as transport:
        assert transport.query_status(0.2).state == DeviceState.OFFLINE


def test_a_missing_serial_port_is_not_found(tmp_path: Path) -> None:
    uri = parse_device_uri(f"serial:{tmp_path / 'ttyUSB9'}")
    with pytest.raises(DeviceUnavailable):
        open_transport(uri)
    assert probe_printer(uri).state == DeviceState.NOT_FOUND


def test_a_bad_serial_option_is_a_uri_error(pty_printer: PtyPrinter) -> None:
    with pytest.raises(DeviceUriError):
        open_transport(parse_device_uri(f"serial:{pty_printer.path}?parity=Q"))


# --- USB: no printer here; the failure must be clear, never a crash ---------------------


def test_usb_without_a_printer_is_unavailable_with_both_languages() -> None:
    uri = parse_device_uri("usb:0416:5011")
    with pytest.raises(DeviceUnavailable) as raised:
        open_transport(uri)
    assert raised.value.zh and raised.value.en
    assert probe_printer(uri).state in (DeviceState.NO_DRIVER, DeviceState.NOT_FOUND)


def test_usb_without_pyusb_is_no_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usb", None)
    monkeypatch.setitem(sys.modules, "usb.core", None)
    uri = parse_device_uri("usb:0416:5011")
    with pytest.raises(DriverMissing) as raised:
        open_transport(uri)
    assert "pyusb" in raised.value.zh
    status = probe_printer(uri)
    assert status.state == DeviceState.NO_DRIVER
    assert "pyusb" in status.detail_en


# --- file -------------------------------------------------------------------------------


def test_file_output_appends_and_cannot_tell_its_status(tmp_path: Path) -> None:
    path = tmp_path / "lp0"
    path.write_bytes(b"old")
    uri = parse_device_uri(f"file:{path}")
    for _ in range(2):
        with open_transport(uri) as transport:
            assert isinstance(transport, FileTransport)
            status = transport.query_status()
            assert (status.state, status.ok) == (DeviceState.UNKNOWN, True)
            transport.write(JOB)
    assert path.read_bytes() == b"old" + JOB + JOB


def test_file_in_a_missing_folder_is_not_found(tmp_path: Path) -> None:
    uri = parse_device_uri(f"file:{tmp_path / 'nope' / 'lp0'}")
    with pytest.raises(DeviceUnavailable) as raised:
        open_transport(uri)
    assert raised.value.zh
    assert probe_printer(uri).state == DeviceState.NOT_FOUND


def test_a_non_printer_uri_is_refused() -> None:
    with pytest.raises(DeviceUriError):
        open_transport(parse_device_uri("pcsc:ACR"))
