"""The print spooler against the printer sink over real TCP, with a real SQLite spool file.

What must hold: the caller never waits for the printer; a job is retried only while none of
its bytes was sent; a job cut off midway is UNCERTAIN and never resent by itself; a restart
keeps queued jobs and turns a job that was being sent into UNCERTAIN.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.device_thread import DeviceThread
from hardware.errors import DeviceError
from hardware.printing.jobs import JobState, PrintJobInfo
from hardware.printing.spooler import (
    JobStateError,
    PrintSpooler,
    SpoolError,
    SpoolLocked,
    UnknownJob,
)
from hardware.printing.transport import PrinterTransport, open_transport
from hardware.sim.printer_sink import PrinterSink
from hardware.uri import parse_device_uri

ROOT = Path(__file__).resolve().parents[2]


def receipt(n: int) -> bytes:
    return f"小票 {n:04d} 合计 ￥{n}.00\n".encode("gb18030") + b"\x1dV\x00"


@pytest.fixture
def sink() -> Iterator[PrinterSink]:
    with PrinterSink(port=0, drop_after=40) as running:
        yield running


class Spools:
    """Makes spoolers on the test's spool file, each on its own device thread, fast timings."""

    def __init__(self, path: Path, sink: PrinterSink) -> None:
        self.path = path
        self.sink = sink
        self.made: list[tuple[PrintSpooler, DeviceThread]] = []

    def factory(self) -> Callable[[], PrinterTransport]:
        uri = parse_device_uri(f"tcp://127.0.0.1:{self.sink.port}")
        return lambda: open_transport(uri, connect_timeout=0.5, write_timeout=1.0)

    def open(self, factory: Callable[[], PrinterTransport] | None = None) -> PrintSpooler:
        thread = DeviceThread("test-printer")
        spooler = PrintSpooler(
            self.path,
            factory or self.factory(),
            thread,
            status_timeout=0.2,
            post_status_timeout=0.3,
            retry_base=0.02,
            retry_cap=0.1,
        )
        self.made.append((spooler, thread))
        return spooler

    def close(self, spooler: PrintSpooler) -> None:
        for made, thread in self.made:
            if made is spooler:
                spooler.close()
                thread.shutdown()

    def close_all(self) -> None:
        for spooler, thread in self.made:
            spooler.close()
            thread.shutdown()


@pytest.fixture
def spools(tmp_path: Path, sink: PrinterSink) -> Iterator[Spools]:
    made = Spools(tmp_path / "spool.sqlite3", sink)
    yield made
    made.close_all()


def wait_until(check: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_a_job_prints_once_and_submit_returns_at_once(spools: Spools, sink: PrinterSink) -> None:
    spooler = spools.open()
    started = time.monotonic()
    job_id = spooler.submit(receipt(1), "R-0001")
    assert time.monotonic() - started < 0.5
    info = spooler.wait(job_id, 2)
    assert (info.state, info.attempts, info.last_error, info.title) == (
        JobState.PRINTED,
        1,
        "",
        "R-0001",
    )
    assert sink.jobs == [receipt(1)]


def test_jobs_print_in_order_each_on_its_own_connection(spools: Spools, sink: PrinterSink) -> None:
    spooler = spools.open()
    ids = [spooler.submit(receipt(n), f"R-{n}") for n in range(1, 6)]
    assert all(spooler.wait(i, 2).state == JobState.PRINTED for i in ids)
    assert sink.jobs == [receipt(n) for n in range(1, 6)]
    assert [info.job_id for info in spooler.jobs(3)] == ids[::-1][:3]


@pytest.mark.parametrize("mode", ["refuse", "silent", "paper_out", "cover_open"])
def test_a_printer_not_ready_keeps_the_job_queued_then_prints_it_once(
    spools: Spools, sink: PrinterSink, mode: str
) -> None:
    sink.mode = mode
    spooler = spools.open()
    started = time.monotonic()
    job_id = spooler.submit(receipt(1), "R-1")
    assert time.monotonic() - started < 0.5  # the caller is never blocked by the printer
    wait_until(lambda: spooler.job(job_id).attempts >= 2)
    info = spooler.job(job_id)
    assert info.state == JobState.QUEUED
    assert info.last_error
    assert spooler.wait(job_id, 0.05).state == JobState.QUEUED
    # Nothing of the job reached the printer: only status queries (or no connection).
    assert all(not r.data for r in sink.records)
    sink.mode = "normal"  # paper put back, printer switched on
    assert spooler.wait(job_id, 2).state == JobState.PRINTED
    later = spooler.submit(receipt(2), "R-2")  # anything resent would come before this
    assert spooler.wait(later, 2).state == JobState.PRINTED
    assert sink.jobs == [receipt(1), receipt(2)]


def test_a_job_cut_off_midway_is_uncertain_and_never_resent(
    spools: Spools, sink: PrinterSink
) -> None:
    sink.mode = "drop"
    spooler = spools.open()
    big = receipt(1) * 200
    job_id = spooler.submit(big, "R-1")
    info = spooler.wait(job_id, 3)
    assert info.state == JobState.UNCERTAIN
    assert info.attempts == 1
    assert info.last_error
    sink.mode = "normal"
    later = spooler.submit(receipt(2), "R-2")
    assert spooler.wait(later, 2).state == JobState.PRINTED
    assert sink.jobs == [big[:40], receipt(2)]
    assert spooler.job(job_id).state == JobState.UNCERTAIN


def test_a_bad_status_after_sending_is_uncertain(spools: Spools, sink: PrinterSink) -> None:
    class PaperRunsOut(PrinterTransport):
        """The real channel; the paper runs out as the job finishes."""

        def __init__(self, inner: PrinterTransport) -> None:
            super().__init__(inner.uri)
            self.inner = inner

        def write(self, data: bytes) -> None:
            self.inner.write(data)
            if data == receipt(1):  # the job, not a status query
                sink.mode = "paper_out"

        def read(self, n: int, timeout: float) -> bytes:
            return self.inner.read(n, timeout)

        def close(self) -> None:
            self.inner.close()

    real = spools.factory()
    spooler = spools.open(lambda: PaperRunsOut(real()))
    job_id = spooler.submit(receipt(1), "R-1")
    info = spooler.wait(job_id, 2)
    assert info.state == JobState.UNCERTAIN
    assert "paper" in info.last_error
    assert [r.data for r in sink.wait_for_records(1)] == [receipt(1)]


def test_the_job_is_sending_on_disk_before_its_first_byte(
    spools: Spools, sink: PrinterSink
) -> None:
    seen: list[str] = []

    class Watched(PrinterTransport):
        def __init__(self, inner: PrinterTransport) -> None:
            super().__init__(inner.uri)
            self.inner = inner

        def write(self, data: bytes) -> None:
            if data == receipt(1):  # not a status query: look at the file from outside
                with sqlite3.connect(spools.path) as other:
                    seen.append(other.execute("SELECT state FROM jobs").fetchone()[0])
            self.inner.write(data)

        def read(self, n: int, timeout: float) -> bytes:
            return self.inner.read(n, timeout)

        def close(self) -> None:
            self.inner.close()

    real = spools.factory()
    spooler = spools.open(lambda: Watched(real()))
    assert spooler.wait(spooler.submit(receipt(1), "R-1"), 2).state == JobState.PRINTED
    assert seen == ["sending"]


def test_restart_keeps_queued_jobs_and_makes_a_sending_job_uncertain(
    spools: Spools, sink: PrinterSink
) -> None:
    sink.mode = "refuse"
    first = spools.open()
    cut = first.submit(receipt(1), "R-1")
    queued = first.submit(receipt(2), "R-2")
    spools.close(first)
    # As the file is left by a power cut in the middle of sending R-1:
    with sqlite3.connect(spools.path) as db:
        db.execute("UPDATE jobs SET state = 'sending' WHERE job_id = ?", (cut,))
    sink.mode = "normal"
    second = spools.open()
    assert second.wait(queued, 2).state == JobState.PRINTED
    info = second.job(cut)
    assert info.state == JobState.UNCERTAIN
    assert "interrupted" in info.last_error
    assert sink.jobs == [receipt(2)]


def test_a_process_killed_mid_job_leaves_it_uncertain_and_it_is_not_resent(
    spools: Spools, sink: PrinterSink
) -> None:
    """A real crash: a child process sends half of a job and is SIGKILLed."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from hardware.device_thread import DeviceThread
        from hardware.printing.spooler import PrintSpooler
        from hardware.printing.transport import TcpTransport
        from hardware.uri import parse_device_uri

        class Dies(TcpTransport):
            def write(self, data):
                if len(data) > 3:  # the job, not a status query
                    super().write(data[: len(data) // 2])
                    os.kill(os.getpid(), signal.SIGKILL)
                super().write(data)

        uri = parse_device_uri("tcp://127.0.0.1:{sink.port}")
        spooler = PrintSpooler(Path({str(spools.path)!r}), lambda: Dies(uri), DeviceThread("p"))
        spooler.submit({receipt(1)!r}, "R-1")
        DeviceThread("wait").call(__import__("time").sleep, 30)
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, timeout=20, capture_output=True
    )
    assert child.returncode == -9, child.stderr.decode()
    half = receipt(1)[: len(receipt(1)) // 2]
    assert sink.wait_for_jobs(1) == [half]
    spooler = spools.open()
    [info] = spooler.jobs()
    assert info.state == JobState.UNCERTAIN
    later = spooler.submit(receipt(2), "R-2")
    assert spooler.wait(later, 2).state == JobState.PRINTED
    assert sink.jobs == [half, receipt(2)]


def test_reprint_makes_a_marked_copy(spools: Spools, sink: PrinterSink) -> None:
    spooler = spools.open()
    original = spooler.submit(receipt(1), "R-1")
    assert spooler.wait(original, 2).state == JobState.PRINTED
    copy = spooler.reprint(original)
    info = spooler.wait(copy, 2)
    assert (info.state, info.reprint_of, info.title) == (JobState.PRINTED, original, "R-1")
    assert spooler.job(original).reprint_of is None
    assert sink.jobs == [receipt(1), receipt(1)]


def test_an_uncertain_job_can_be_reprinted(spools: Spools, sink: PrinterSink) -> None:
    sink.mode = "drop"
    spooler = spools.open()
    big = receipt(1) * 100
    job_id = spooler.submit(big, "R-1")
    assert spooler.wait(job_id, 3).state == JobState.UNCERTAIN
    sink.mode = "normal"
    copy = spooler.reprint(job_id)
    assert spooler.wait(copy, 2).state == JobState.PRINTED
    assert sink.jobs == [big[:40], big]


def test_a_queued_job_cannot_be_reprinted_and_unknown_jobs_are_named(
    spools: Spools, sink: PrinterSink
) -> None:
    sink.mode = "refuse"
    spooler = spools.open()
    job_id = spooler.submit(receipt(1), "R-1")
    with pytest.raises(JobStateError) as raised:
        spooler.reprint(job_id)
    assert raised.value.zh
    with pytest.raises(UnknownJob):
        spooler.reprint("no-such-job")
    with pytest.raises(UnknownJob):
        spooler.job("no-such-job")


def test_cancel_a_queued_job_and_it_never_prints(spools: Spools, sink: PrinterSink) -> None:
    sink.mode = "paper_out"
    spooler = spools.open()
    job_id = spooler.submit(receipt(1), "R-1")
    assert spooler.cancel(job_id) is True
    info = spooler.job(job_id)
    assert (info.state, info.last_error) == (JobState.FAILED, "cancelled")
    assert spooler.cancel(job_id) is False
    sink.mode = "normal"
    later = spooler.submit(receipt(2), "R-2")
    assert spooler.wait(later, 2).state == JobState.PRINTED
    assert sink.jobs == [receipt(2)]


def test_callbacks_see_every_change_on_the_device_thread(spools: Spools, sink: PrinterSink) -> None:
    spooler = spools.open()
    seen: list[tuple[JobState, bool]] = []
    done = threading.Event()

    def changed(info: PrintJobInfo) -> None:
        seen.append((info.state, spooler.device_thread.is_current()))
        if info.state == JobState.PRINTED:
            done.set()

    spooler.on_job_change(changed)
    spooler.submit(receipt(1), "R-1")
    assert done.wait(2)
    assert seen == [
        (JobState.QUEUED, True),
        (JobState.SENDING, True),
        (JobState.PRINTED, True),
    ]


def test_a_failing_callback_does_not_stop_printing(spools: Spools, sink: PrinterSink) -> None:
    spooler = spools.open()

    def broken(info: PrintJobInfo) -> None:
        raise RuntimeError("listener bug")

    spooler.on_job_change(broken)
    assert spooler.wait(spooler.submit(receipt(1), "R-1"), 2).state == JobState.PRINTED


def test_a_spool_is_used_by_one_spooler_at_a_time(spools: Spools, sink: PrinterSink) -> None:
    first = spools.open()
    with pytest.raises(SpoolLocked):
        spools.open()
    spools.close(first)
    spools.open()  # free again once closed


def test_a_file_that_is_not_a_spool_is_a_clear_error(spools: Spools) -> None:
    spools.path.write_bytes(b"this is not a database, just some bytes " * 100)
    with pytest.raises(SpoolError) as raised:
        spools.open()
    assert raised.value.zh and str(spools.path) in raised.value.en
    spools.path.unlink()
    spools.open()  # the lock was let go


def test_close_keeps_queued_jobs_for_the_next_start(spools: Spools, sink: PrinterSink) -> None:
    sink.mode = "silent"
    first = spools.open()
    ids = [first.submit(receipt(n), f"R-{n}") for n in (1, 2)]
    spools.close(first)
    sink.mode = "normal"
    second = spools.open()
    assert [second.wait(i, 2).state for i in ids] == [JobState.PRINTED, JobState.PRINTED]
    assert sink.jobs == [receipt(1), receipt(2)]


def test_file_printer_jobs_print_without_status(tmp_path: Path, sink: PrinterSink) -> None:
    out = tmp_path / "lp0"
    uri = parse_device_uri(f"file:{out}")
    spools = Spools(tmp_path / "file-spool.sqlite3", sink)
    try:
        spooler = spools.open(lambda: open_transport(uri))
        ids = [spooler.submit(receipt(n), f"R-{n}") for n in (1, 2)]
        assert [spooler.wait(i, 2).state for i in ids] == [JobState.PRINTED] * 2
    finally:
        spools.close_all()
    assert out.read_bytes() == receipt(1) + receipt(2)


def test_a_printer_that_cannot_be_opened_keeps_jobs_queued(
    tmp_path: Path, sink: PrinterSink
) -> None:
    calls: list[float] = []

    def unplugged() -> PrinterTransport:
        calls.append(time.monotonic())
        raise DeviceError("找不到打印机", "printer not found")

    spools = Spools(tmp_path / "s.sqlite3", sink)
    try:
        spooler = spools.open(unplugged)
        job_id = spooler.submit(receipt(1), "R-1")
        wait_until(lambda: len(calls) >= 5)
        info = spooler.job(job_id)
        assert (info.state, info.last_error) == (JobState.QUEUED, "printer not found")
        # Delays double from retry_base 0.02 s (the first retry may come at once, when the
        # submit woke the worker while it was already trying): 0.02, 0.04, 0.08, 0.1 (cap).
        gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
        assert min(gaps[1:]) >= 0.015
        assert gaps[3] >= 0.075
    finally:
        spools.close_all()
