"""EscposPrinter (receipt printer + cash drawer) against the printer sink over real TCP, with
its spool in a real SQLite file: receipts come out exactly once, the drawer opens now or
never, and status() answers quickly whatever the printer does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.errors import DeviceError, DeviceRefused, DeviceTimeout
from hardware.events import DeviceState
from hardware.printing.document import (
    Barcode,
    Logo,
    PrintDocument,
    PrinterProfile,
    QrCode,
    Rule,
    TextLine,
)
from hardware.printing.escpos_decoder import decode
from hardware.printing.escpos_encoder import drawer_kick, encode
from hardware.printing.escpos_printer import EscposPrinter
from hardware.printing.jobs import JobState, PrintJobInfo
from hardware.sim.printer_sink import PrinterSink
from hardware.uri import parse_device_uri

PROFILE = PrinterProfile(paper_mm=80, encoding="gb18030")
CHINESE_RECEIPT = PrintDocument(
    blocks=(
        TextLine("好邻居便利店", align="center", bold=True, double=True),
        TextLine("小票号 SH01-20260302-0001"),
        Rule("="),
        TextLine("苹果（红富士）3 x ￥6.80      ￥20.40"),
        TextLine("会员折扣 9.5折               -￥1.02"),
        Rule(),
        TextLine("应收 ￥19.38", align="right", bold=True),
        TextLine("储值卡余额 ￥80.62（卡号 ****1234）"),
        TextLine("谢谢惠顾，欢迎再来！", align="center"),
        QrCode("SH01-20260302-0001"),
        Barcode("SH01-20260302-0001"),
    ),
    title="SH01-20260302-0001",
)


def small(title: str) -> PrintDocument:
    return PrintDocument(blocks=(TextLine(f"小票 {title}"),), title=title)


@pytest.fixture
def sink() -> Iterator[PrinterSink]:
    with PrinterSink(port=0, drop_after=60) as running:
        yield running


@pytest.fixture
def open_printer(tmp_path: Path, sink: PrinterSink) -> Iterator[Callable[..., EscposPrinter]]:
    made: list[EscposPrinter] = []

    def make(**options: float) -> EscposPrinter:
        settings = {
            "connect_timeout": 0.5,
            "status_timeout": 0.2,
            "write_timeout": 1.0,
            "post_status_timeout": 0.3,
            "busy_timeout": 0.5,
            "kick_deadline": 0.6,
            "retry_base": 0.02,
            "retry_cap": 0.1,
            **options,
        }
        printer = EscposPrinter(
            parse_device_uri(f"tcp://127.0.0.1:{sink.port}"),
            PROFILE,
            tmp_path / "spool.sqlite3",
            **settings,  # type: ignore[arg-type]
        )
        made.append(printer)
        return printer

    yield make
    for printer in made:
        printer.close()


def wait_until(check: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


# --- receipts ---------------------------------------------------------------------------


def test_a_chinese_receipt_decodes_at_the_sink_to_what_was_sent(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink
) -> None:
    printer = open_printer()
    job_id = printer.print(CHINESE_RECEIPT)
    info = printer.wait(job_id, 2)
    assert (info.state, info.title) == (JobState.PRINTED, "SH01-20260302-0001")
    [received] = sink.jobs
    assert received == encode(CHINESE_RECEIPT, PROFILE)
    printed = decode(received, "gb18030")
    lines = [line.strip() for line in printed.lines if line.strip()]
    expected = [
        block.text.strip() for block in CHINESE_RECEIPT.blocks if isinstance(block, TextLine)
    ]
    assert [line for line in lines if not set(line) <= {"-", "="}] == expected
    assert printed.qr_codes == ["SH01-20260302-0001"]
    assert printed.barcodes == ["SH01-20260302-0001"]
    assert printed.cuts == 1
    assert printed.drawer_kicks == []


def test_an_image_mode_receipt_arrives_byte_for_byte(tmp_path: Path, sink: PrinterSink) -> None:
    """Raster data may hold the bytes of a status query: the sink must not take them out."""
    profile = PrinterProfile(paper_mm=58, encoding="gbk", image=True)
    printer = EscposPrinter(
        parse_device_uri(f"tcp://127.0.0.1:{sink.port}"), profile, tmp_path / "img.sqlite3"
    )
    try:
        assert printer.wait(printer.print(CHINESE_RECEIPT), 3).state == JobState.PRINTED
    finally:
        printer.close()
    assert sink.jobs == [encode(CHINESE_RECEIPT, profile)]
    printed = decode(sink.jobs[0], "gbk", columns=profile.columns)
    assert len(printed.images) == 1 and printed.images[0].width == profile.dots
    assert [line for line in printed.lines if line.strip()] == []  # no text: all picture


def test_the_sink_writes_a_png_and_text_of_each_receipt(
    tmp_path: Path, open_printer: Callable[..., EscposPrinter]
) -> None:
    png_dir = tmp_path / "receipts"
    with PrinterSink(png_dir=png_dir) as sink:
        printer = EscposPrinter(
            parse_device_uri(f"tcp://127.0.0.1:{sink.port}"), PROFILE, tmp_path / "png.sqlite3"
        )
        try:
            assert printer.wait(printer.print(CHINESE_RECEIPT), 3).state == JobState.PRINTED
            sink.wait_for_jobs(1)
        finally:
            printer.close()
    text = (png_dir / "0001.txt").read_text(encoding="utf-8")
    assert "好邻居便利店" in text and "应收 ￥19.38" in text
    assert (png_dir / "0001.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_print_returns_at_once_while_the_printer_is_off_then_prints_once(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink
) -> None:
    sink.mode = "refuse"
    printer = open_printer()
    started = time.monotonic()
    job_id = printer.print(small("R-1"))
    assert time.monotonic() - started < 0.5
    assert printer.wait(job_id, 0.2).state == JobState.QUEUED
    assert "refused" in printer.job(job_id).last_error
    sink.mode = "normal"
    assert printer.wait(job_id, 2).state == JobState.PRINTED
    assert sink.jobs == [encode(small("R-1"), PROFILE)]


def test_a_receipt_cut_off_is_uncertain_and_a_reprint_is_marked(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink
) -> None:
    sink.mode = "drop"
    printer = open_printer()
    job_id = printer.print(CHINESE_RECEIPT)
    assert printer.wait(job_id, 2).state == JobState.UNCERTAIN
    sink.mode = "normal"
    copy = printer.reprint(job_id)
    info = printer.wait(copy, 2)
    assert (info.state, info.reprint_of) == (JobState.PRINTED, job_id)
    whole = encode(CHINESE_RECEIPT, PROFILE)
    assert sink.jobs == [whole[:60], whole]
    assert [j.job_id for j in printer.jobs()] == [copy, job_id]


def test_queued_receipts_print_after_a_restart(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink
) -> None:
    sink.mode = "paper_out"
    first = open_printer()
    ids = [first.print(small(f"R-{n}")) for n in (1, 2)]
    first.close()
    sink.mode = "normal"
    second = open_printer()
    assert [second.wait(i, 2).state for i in ids] == [JobState.PRINTED] * 2
    assert sink.jobs == [encode(small(f"R-{n}"), PROFILE) for n in (1, 2)]


def test_job_changes_are_reported_on_the_printer_thread(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink
) -> None:
    printer = open_printer()
    seen: list[tuple[JobState, bool]] = []
    printed = threading.Event()

    def changed(info: PrintJobInfo) -> None:
        seen.append((info.state, printer.device_thread.is_current()))
        if info.state == JobState.PRINTED:
            printed.set()

    printer.on_job_change(changed)
    printer.print(small("R-1"))
    assert printed.wait(2)
    assert seen == [(JobState.QUEUED, True), (JobState.SENDING, True), (JobState.PRINTED, True)]


def test_a_document_that_cannot_be_encoded_is_a_failed_job(
    open_printer: Callable[..., EscposPrinter],
    sink: PrinterSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hardware.printing.escpos_printer as module

    def broken(doc: PrintDocument, profile: PrinterProfile) -> bytes:
        raise OSError("logo.png: no such file")

    monkeypatch.setattr(module, "encode", broken)
    printer = open_printer()
    info = printer.job(printer.print(PrintDocument((Logo("logo.png"),), title="R-1")))
    assert info.state == JobState.FAILED
    assert "logo.png" in info.last_error


# --- status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "state"),
    [
        ("normal", DeviceState.READY),
        ("paper_out", DeviceState.PAPER_OUT),
        ("cover_open", DeviceState.COVER_OPEN),
        ("refuse", DeviceState.OFFLINE),
        ("silent", DeviceState.OFFLINE),
    ],
)
def test_status_follows_the_printer_quickly(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink, mode: str, state: DeviceState
) -> None:
    sink.mode = mode
    printer = open_printer()
    started = time.monotonic()
    status = printer.status()
    assert time.monotonic() - started < 0.9  # busy_timeout 0.5 s bounds it
    assert (status.state, status.role, status.uri) == (state, "printer", printer.uri)
    assert status.detail_zh or state == DeviceState.READY


def test_status_does_not_wait_behind_a_busy_printer_thread(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink
) -> None:
    printer = open_printer()
    release = threading.Event()
    printer.device_thread.submit(release.wait, 5)  # a long job on the printer's thread
    try:
        started = time.monotonic()
        status = printer.status()
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert status.state == DeviceState.OFFLINE
    assert "busy" in status.detail_en
    assert 0.4 <= elapsed < 1.0
    assert printer.status().state == DeviceState.READY


# --- cash drawer ------------------------------------------------------------------------


@pytest.mark.parametrize("pin", [2, 5])
def test_a_drawer_kick_reaches_the_printer_now(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink, pin: int
) -> None:
    printer = open_printer()
    printer.kick(pin)
    assert sink.wait_for_jobs(1) == [drawer_kick(pin)]
    assert decode(sink.jobs[0]).drawer_kicks == [pin]
    assert printer.jobs() == []  # a kick is never spooled


def test_another_pin_is_refused(open_printer: Callable[..., EscposPrinter]) -> None:
    with pytest.raises(ValueError):
        open_printer().kick(3)


@pytest.mark.parametrize("mode", ["refuse", "silent", "cover_open"])
def test_a_kick_the_printer_cannot_take_raises_in_time_and_never_fires_later(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink, mode: str
) -> None:
    sink.mode = mode
    printer = open_printer()
    started = time.monotonic()
    with pytest.raises(DeviceError) as raised:
        printer.kick(2)
    assert time.monotonic() - started < 1.1  # kick_deadline 0.6 s
    assert isinstance(raised.value, DeviceRefused | DeviceTimeout)
    assert raised.value.zh.startswith("钱箱未打开")
    sink.mode = "normal"
    after = printer.print(small("R-1"))  # runs on the printer thread after anything queued
    assert printer.wait(after, 2).state == JobState.PRINTED
    assert all(decode(r.data).drawer_kicks == [] for r in sink.records)
    assert sink.drawer_openings == []


@pytest.mark.parametrize("pin", [2, 5])
def test_out_of_paper_the_drawer_still_opens_by_a_real_time_pulse(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink, pin: int
) -> None:
    """A sale whose receipt cannot print still needs its change: out of paper, the kick goes
    out as DLE DC4 1 (executed as it arrives), never as ESC p, which would wait in the buffer
    and open the drawer once paper is loaded."""
    sink.mode = "paper_out"
    printer = open_printer()
    printer.kick(pin)
    (record,) = sink.wait_for_records(1, timeout=5)  # the sink has read the whole job
    assert sink.drawer_openings == [pin]
    assert not record.printed
    assert record.data.endswith(bytes((0x10, 0x14, 0x01, 0 if pin == 2 else 1, 1)))
    assert b"\x1bp" not in record.data  # no buffered ESC p left to fire later
    assert decode(record.data).drawer_kicks == [pin]


def test_a_kick_behind_a_busy_printer_thread_is_dropped_not_delayed(
    open_printer: Callable[..., EscposPrinter], sink: PrinterSink
) -> None:
    printer = open_printer()
    release = threading.Event()
    printer.device_thread.submit(release.wait, 5)
    started = time.monotonic()
    try:
        with pytest.raises(DeviceTimeout) as raised:
            printer.kick(5)
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert 0.55 <= elapsed < 1.1
    assert "钱箱未打开" in raised.value.zh
    printer.device_thread.call(lambda: None, timeout=2)  # the queued kick has had its turn
    assert sink.connections == 0  # it did not even connect
    printer.kick(5)  # and the drawer works again at once
    assert sink.wait_for_jobs(1) == [drawer_kick(5)]


def test_closed_printer_refuses_a_kick_and_reports_closed(
    open_printer: Callable[..., EscposPrinter],
) -> None:
    printer = open_printer()
    printer.close()
    with pytest.raises(DeviceRefused):
        printer.kick(2)
    assert printer.status().state == DeviceState.OFFLINE
