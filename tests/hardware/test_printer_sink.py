"""The TCP printer sink in every mode, driven by a plain socket client (no driver code)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from hardware.sim.printer_sink import PrinterSink, run_printer_sink

DLE_EOT = b"\x10\x04"
JOB = "小票 receipt ￥12.80\n".encode("gb18030") + b"\x1dV\x00"


@pytest.fixture
def sink() -> Iterator[PrinterSink]:
    with PrinterSink(port=0, drop_after=100) as running:
        yield running


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def ask(sock: socket.socket, n: int, timeout: float = 1.0) -> bytes:
    """Send DLE EOT n and return the answer (b"" when none came within `timeout`)."""
    sock.sendall(DLE_EOT + bytes([n]))
    sock.settimeout(timeout)
    try:
        return sock.recv(16)
    except TimeoutError:
        return b""


def test_normal_answers_status_and_keeps_the_job_without_the_queries(sink: PrinterSink) -> None:
    with connect(sink.port) as sock:
        assert [ask(sock, n) for n in (1, 2, 3, 4)] == [b"\x12"] * 4
        sock.sendall(JOB)
        assert ask(sock, 1) == b"\x12"
    assert sink.wait_for_jobs(1) == [JOB]
    record = sink.records[0]
    assert (record.printed, record.dropped, record.mode) == (True, False, "normal")
    assert sink.queries == [1, 2, 3, 4, 1]


def test_a_status_only_connection_is_not_a_job(sink: PrinterSink) -> None:
    with connect(sink.port) as sock:
        assert ask(sock, 1) == b"\x12"
    with connect(sink.port) as sock:  # the next connection is handled after the first ended
        sock.sendall(JOB)
    assert sink.wait_for_jobs(1) == [JOB]
    assert len(sink.records) == 1


def test_a_query_split_across_packets_is_still_answered(sink: PrinterSink) -> None:
    with connect(sink.port) as sock:
        sock.sendall(JOB + b"\x10\x04")  # NODELAY: this half goes out on its own
        sock.sendall(b"\x04")
        sock.settimeout(1)
        assert sock.recv(16) == b"\x12"
    assert sink.wait_for_jobs(1) == [JOB]
    assert sink.queries == [4]


def test_image_and_qr_data_that_look_like_queries_stay_in_the_job(sink: PrinterSink) -> None:
    # A raster line and a QR payload holding the bytes of DLE EOT 1: data, not queries.
    raster = b"\x1dv0\x00" + struct.pack("<HH", 4, 2) + b"\x10\x04\x01\x00" * 2
    qr_data = b"A\x10\x04\x02B"
    qr = b"\x1d(k" + struct.pack("<H", len(qr_data) + 3) + b"1P0" + qr_data
    barcode = b"\x1dk\x49\x05\x10\x04\x03\x10\x04"
    job = b"\x1b@" + raster + qr + barcode + b"\x1b!\x10" + JOB
    with connect(sink.port) as sock:
        sock.sendall(job)
        assert ask(sock, 1) == b"\x12"
    assert sink.wait_for_jobs(1) == [job]
    assert sink.queries == [1]


def test_refuse_stops_listening_and_normal_listens_again_on_the_same_port(
    sink: PrinterSink,
) -> None:
    port = sink.port
    sink.mode = "refuse"
    with pytest.raises(ConnectionRefusedError):
        connect(port)
    sink.mode = "normal"
    assert sink.port == port
    with connect(port) as sock:
        assert ask(sock, 1) == b"\x12"
        sock.sendall(JOB)
    assert sink.wait_for_jobs(1) == [JOB]


def test_a_sink_started_refusing_refuses() -> None:
    with PrinterSink(mode="refuse") as sink:
        with pytest.raises(ConnectionRefusedError):
            connect(sink.port)
        assert sink.connections == 0


def test_silent_swallows_and_never_answers(sink: PrinterSink) -> None:
    sink.mode = "silent"
    with connect(sink.port) as sock:
        assert ask(sock, 1, timeout=0.2) == b""
        sock.sendall(JOB)
    records = sink.wait_for_records(1)
    assert [(r.data, r.printed, r.mode) for r in records] == [(JOB, False, "silent")]
    assert sink.jobs == []
    assert sink.queries == [1]


@pytest.mark.parametrize(
    ("mode", "answers"),
    [
        # n=1 offline (bit 3); n=2 paper end stop (bit 5) / cover open (bit 2); n=4 paper near
        # end and end (bits 2+3, 5+6).
        ("paper_out", [b"\x1a", b"\x32", b"\x12", b"\x7e"]),
        ("cover_open", [b"\x1a", b"\x16", b"\x12", b"\x12"]),
    ],
)
def test_fault_modes_report_it_and_do_not_print(
    sink: PrinterSink, mode: str, answers: list[bytes]
) -> None:
    sink.mode = mode
    with connect(sink.port) as sock:
        assert [ask(sock, n) for n in (1, 2, 3, 4)] == answers
        sock.sendall(JOB)
    records = sink.wait_for_records(1)
    assert [(r.data, r.printed, r.mode) for r in records] == [(JOB, False, mode)]
    assert sink.jobs == []


def test_drop_resets_the_connection_after_drop_after_bytes(sink: PrinterSink) -> None:
    sink.mode = "drop"
    job = bytes(range(32, 127)) * 20  # 1900 bytes, no command bytes
    with connect(sink.port) as sock:
        assert ask(sock, 1) == b"\x12"
        with pytest.raises(ConnectionError):
            # The reset reaches the client on a later send, or on the read of the answer.
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                sock.sendall(job)
                ask(sock, 1, timeout=0.1)
    records = sink.wait_for_records(1)
    assert len(records) == 1
    assert records[0].data == job[:100]
    assert (records[0].printed, records[0].dropped) == (True, True)


def test_a_short_job_in_drop_mode_prints_whole(sink: PrinterSink) -> None:
    sink.mode = "drop"
    with connect(sink.port) as sock:
        sock.sendall(JOB)
    assert sink.wait_for_jobs(1) == [JOB]


def test_stop_closes_open_connections() -> None:
    sink = PrinterSink().start()
    sock = connect(sink.port)
    sock.sendall(JOB)
    assert sink.wait_for_records(0) == []
    deadline = time.monotonic() + 2
    while sink.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    sink.stop()
    sock.settimeout(2)
    try:
        assert sock.recv(16) == b""
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    assert sink.jobs == [JOB]  # what it had received counts as the job


def test_bad_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        PrinterSink(mode="on_fire")
    with PrinterSink() as sink, pytest.raises(ValueError):
        sink.mode = "on_fire"


def test_run_printer_sink_reports_each_job_and_stops(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a free port for the CLI-style runner
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = threading.Event()
    got: list[tuple[int, bytes]] = []
    runner = threading.Thread(
        target=run_printer_sink, args=(port, None, "gb18030", stop, lambda n, d: got.append((n, d)))
    )
    runner.start()
    try:
        deadline = time.monotonic() + 2
        while True:
            try:
                sock = connect(port)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the sink did not start"
                time.sleep(0.01)
        with sock:
            sock.sendall(JOB)
        deadline = time.monotonic() + 2
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        runner.join(3)
    assert not runner.is_alive()
    assert got == [(1, JOB)]
    assert f"tcp://127.0.0.1:{port}" in capsys.readouterr().out
