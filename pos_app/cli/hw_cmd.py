"""`pos-app hw`: see, test and simulate the till's devices.

    hw list                    configured devices with their status, and what is plugged in
    hw read-card               wait for one card and print its kind and number
    hw print-test              print the test slip and say whether it printed
    hw drawer                  kick the cash drawer (an operator, a reason; audited)
    hw display                 show two lines on the pole display
    hw sim printer | sim card  run a simulator (a printer sink; a virtual IC card in vpcd)

Refusals (no such device, printer offline, bad URI) print a bilingual message and exit 1
(2 for a malformed URI), like every other command.
"""

from __future__ import annotations

import queue
import select
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from hardware.errors import DeviceTimeout, DeviceUnavailable
from hardware.events import CardEvent, CardPresented, CardReadFailed, DeviceStatus
from hardware.printing.document import ENCODINGS, PrinterProfile
from hardware.printing.jobs import JOB_STATE_TEXT, JobState
from hardware.printing.printer_test_page import printer_test_page
from hardware.registry import (
    ROLE_NAMES,
    as_uri,
    detect,
    open_card_source,
    open_display,
    open_printer,
    probe,
)
from pos_app.cli.exit_codes import REFUSED
from pos_app.cli.invocation import Invocation
from pos_app.cli.number_params import Seconds, WholeNumber
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.path_params import FilePath
from pos_app.cli.till_printer import wait_for_outcome
from pos_app.device_settings import load_device_settings
from pos_app.domain.control_chars import shown
from pos_app.services.cash_drawer import open_drawer


@click.group()
def hw() -> None:
    """设备：查看、测试、模拟 Devices: list, test and simulate readers, printer, drawer, display.

    Devices are named by URI: pcsc:<reader name part>, serial:/dev/ttyUSB0?baud=9600,
    tcp://host:9100, usb:<vid>:<pid>, file:<path>, wedge, sim:<printer|card|display|scale>.
    The till's own devices are set in settings.toml in the data folder ([devices]).
    """


def _status_row(status: DeviceStatus, lang: str) -> list[str]:
    zh, en = ROLE_NAMES.get(status.role, (status.role, status.role))
    return [f"{zh} {en}", status.uri, status.text(lang)]


@hw.command("list")
@click.pass_obj
def list_devices(inv: Invocation) -> None:
    """已配置和已检测到的设备及状态 Configured and detected devices, with their status."""
    settings = load_device_settings(inv.data_dir)
    statuses = [probe(role, uri, settings.profile) for role, uri in settings.configured()]
    found = detect()
    data = {
        "settings_file": settings.source,
        "configured": [
            {
                "role": s.role,
                "uri": s.uri,
                "state": str(s.state),
                "ok": s.ok,
                "detail": s.detail_en if inv.lang == "en" else s.detail_zh,
            }
            for s in statuses
        ],
        "detected": [asdict(d) for d in found],
    }
    inv.out.result(
        data,
        title=f"设置文件 Settings: {settings.source}",
        tables=[
            (
                "已配置 Configured:",
                ["设备 Device", "地址 URI", "状态 Status"],
                [_status_row(s, inv.lang) for s in statuses],
            ),
            (
                "已检测到 Detected:",
                ["类型 Kind", "地址 URI", "说明 Description"],
                [[d.kind, d.uri, d.description] for d in found],
            ),
        ],
    )
    if any(not s.ok for s in statuses):
        raise click.exceptions.Exit(REFUSED)


def _wedge_from_terminal(source: Any, timeout: float) -> None:
    """A keyboard-wedge reader types into this terminal: feed the typed line to the wedge
    detector as one fast burst (the terminal hands us whole lines, not key timings)."""
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    if not ready:
        return
    line = sys.stdin.readline().rstrip("\r\n")
    at = time.monotonic()
    for i, ch in enumerate(line):
        source.feed_key(ch, at + i * 0.002)
    source.feed_key("\r", at + len(line) * 0.002)


@hw.command("read-card")
@click.option("--source", "source_uri", required=True, help="读卡器地址 Card source URI")
@click.option(
    "--timeout",
    type=Seconds(0.1, 3600),
    default=30.0,
    show_default=True,
    help="等待秒数 Seconds to wait for a card",
)
@click.pass_obj
def read_card(inv: Invocation, source_uri: str, timeout: float) -> None:
    """等待一张卡并显示类型和卡号 Wait for one card; print its kind and number."""
    parsed = as_uri(source_uri, "card_source")
    wedge = parsed.scheme == "wedge"  # keys typed into this terminal, not a device
    source = open_card_source(parsed)
    events: queue.Queue[CardEvent] = queue.Queue()
    try:
        status = source.status()
        if not status.ok:
            raise DeviceUnavailable(status.text("zh"), status.text("en"))
        source.start(events.put)
        inv.out.note(
            "请刷卡、插卡或扫码… Present a card…"
            if not wedge
            else "请刷卡或扫码（回车结束）… Swipe or scan…"
        )
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeviceTimeout(f"{timeout:g} 秒内没有读到卡", f"No card within {timeout:g} s")
            if wedge:
                _wedge_from_terminal(source, min(left, 0.2))
                source.poll(time.monotonic() + 1.0)
            try:
                event = events.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            if isinstance(event, CardReadFailed):
                raise DeviceUnavailable(event.reason_zh, event.reason_en)
            if isinstance(event, CardPresented):
                break
    finally:
        source.close()
    inv.out.result(
        {"kind": event.kind, "number": event.number, "raw": event.raw, "reader": event.reader},
        rows=[
            ("类型 Kind", event.kind),
            ("卡号 Number", event.number),
            ("原始数据 Raw", event.raw),
            ("读卡器 Reader", event.reader),
        ],
    )


def _profile(width: str, encoding: str, image: bool) -> PrinterProfile:
    return PrinterProfile(paper_mm=int(width), encoding=encoding, image=image)  # type: ignore[arg-type]


@hw.command("print-test")
@click.option("--printer", "printer_uri", required=True, help="打印机地址 Printer URI")
@click.option(
    "--width",
    type=click.Choice(["58", "80"]),
    default="80",
    show_default=True,
    help="纸宽 mm Paper width",
)
@click.option(
    "--encoding",
    type=click.Choice(list(ENCODINGS)),
    default="gb18030",
    show_default=True,
    help="打印机编码 The printer's text encoding",
)
@click.option("--image", is_flag=True, help="以图像打印（打印机无中文字库时）Print as a picture")
@click.option(
    "--timeout",
    type=Seconds(1, 600),
    default=15.0,
    show_default=True,
    help="等待打印完成的秒数 Seconds to wait for the slip",
)
@click.pass_obj
def print_test(
    inv: Invocation, printer_uri: str, width: str, encoding: str, image: bool, timeout: float
) -> None:
    """打印测试页 Print the test slip (Chinese, ￥ columns, QR, barcode, cut)."""
    profile = _profile(width, encoding, image)
    as_uri(printer_uri, "printer")
    # A test slip that did not print must not come out later: its spool is thrown away.
    with tempfile.TemporaryDirectory(prefix="pos-print-test-") as tmp:
        printer = open_printer(
            printer_uri, profile, Path(tmp) / "spool.sqlite3", png_dir=inv.data_dir / "sim-printer"
        )
        try:
            job_id = printer.print(printer_test_page(profile))
            info = wait_for_outcome(printer, job_id, timeout)
        finally:
            printer.close()
    # The test slip's spool is gone with this command: a job still queued will never print.
    shown = JobState.FAILED if info.state == JobState.QUEUED else info.state
    zh, en = JOB_STATE_TEXT[shown]
    data = {"job_id": info.job_id, "state": str(shown), "error": info.last_error}
    inv.out.result(
        data,
        rows=[
            ("打印机 Printer", printer_uri),
            ("结果 Result", f"{zh} {en}"),
            ("原因 Reason", info.last_error or "-"),
        ],
    )
    if info.state != JobState.PRINTED:
        raise click.exceptions.Exit(REFUSED)


@hw.command("drawer")
@click.option("--printer", "printer_uri", required=True, help="打印机地址 Printer URI")
@click.option(
    "--pin",
    type=click.Choice(["2", "5"]),
    default="2",
    show_default=True,
    help="钱箱接口针脚 Drawer kick pin",
)
@click.option("--reason", required=True, help="开钱箱原因（记入审计）Why (kept in the audit trail)")
@operator_options()
@click.pass_obj
def drawer(inv: Invocation, printer_uri: str, pin: str, reason: str, creds: Credentials) -> None:
    """开钱箱（立即，失败即报错）Kick the cash drawer now, or say why not.

    Opening the drawer outside a sale needs a signed-in operator allowed to, and is audited
    (drawer.open) with the reason, before the drawer is kicked.
    """
    as_uri(printer_uri, "drawer")
    actor = signed_in(inv, creds)

    def kick() -> None:
        with tempfile.TemporaryDirectory(prefix="pos-drawer-") as tmp:
            printer = open_printer(printer_uri, PrinterProfile(), Path(tmp) / "spool.sqlite3")
            try:
                printer.kick(int(pin))
            finally:
                printer.close()

    open_drawer(inv.store(), actor, reason, kick)
    inv.out.result(
        {"opened": True, "pin": int(pin), "reason": reason.strip()},
        rows=[("钱箱 Drawer", f"已打开 opened (pin {pin})"), ("原因 Reason", reason.strip())],
    )


@hw.command("display")
@click.option("--device", "device_uri", required=True, help="客显地址 Pole display URI")
@click.option("--line1", default="", help="第一行 Line 1")
@click.option("--line2", default="", help="第二行 Line 2")
@click.option(
    "--lamp",
    type=click.Choice(["price", "total", "collect", "change"]),
    help="价格灯 Price-display lamp",
)
@click.pass_obj
def display(inv: Invocation, device_uri: str, line1: str, line2: str, lamp: str | None) -> None:
    """在客显上显示两行 Show two lines on the pole display."""
    device = open_display(device_uri)
    try:
        device.show(line1, line2)
        if lamp:
            device.lamp(lamp)
    finally:
        device.close()
    inv.out.result(
        {"line1": line1, "line2": line2, "lamp": lamp},
        rows=[("客显 Display", device_uri), ("第一行 Line 1", line1), ("第二行 Line 2", line2)],
    )


@hw.group("sim")
def sim() -> None:
    """模拟器（测试与演示用）Simulators for tests and the demo."""


def _run_until_interrupted(target: Any, stop: threading.Event) -> None:
    """Run a simulator's blocking loop on a thread so Ctrl-C stops it cleanly; its errors
    (vpcd not reachable, port taken) come back here as the command's refusal."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # handed to the main thread below
            failure.append(exc)

    worker = threading.Thread(target=run, name="hw-sim", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        worker.join(5)
    if failure:
        raise failure[0]


@sim.command("printer")
@click.option(
    "--port",
    type=WholeNumber(0, 65535, "端口", "port"),
    default=9100,
    show_default=True,
    help="监听端口（0 = 任意）TCP port on 127.0.0.1 (0 = any free port)",
)
@click.option(
    "--png-dir",
    type=FilePath(file_okay=False, path_type=Path),
    help="把收到的小票存为 PNG 和文本 Save each received job as PNG + text here",
)
@click.option(
    "--encoding",
    type=click.Choice(list(ENCODINGS)),
    default="gb18030",
    show_default=True,
    help="解码用的编码 Encoding to decode text with",
)
@click.option(
    "--mode",
    type=click.Choice(["normal", "refuse", "silent", "paper_out", "drop"]),
    default="normal",
    show_default=True,
    help="模拟故障 Simulated fault",
)
@click.pass_obj
def sim_printer(inv: Invocation, port: int, png_dir: Path | None, encoding: str, mode: str) -> None:
    """运行模拟打印机（Ctrl-C 结束）Run a printer sink on 127.0.0.1 (Ctrl-C stops it)."""
    from hardware.sim.printer_sink import run_printer_sink

    stop = threading.Event()
    _run_until_interrupted(lambda: run_printer_sink(port, png_dir, encoding, stop, mode=mode), stop)


@sim.command("card")
@click.option("--uid", required=True, help="卡片 UID（十六进制）Card UID in hex, e.g. 04A1B2C3")
@click.option(
    "--remove-after",
    type=Seconds(0.1, 86400),
    help="几秒后拔卡（默认一直插着）Remove the card after S seconds (default: Ctrl-C)",
)
@click.option(
    "--port",
    type=WholeNumber(1, 65535, "端口", "port"),
    default=35963,
    show_default=True,
    help="vpcd 端口（35963 = Virtual PCD 00 00）vpcd port",
)
@click.pass_obj
def sim_card(inv: Invocation, uid: str, remove_after: float | None, port: int) -> None:
    """把虚拟 IC 卡插入 vpcd 读卡器 Insert a virtual IC card into the vpcd reader."""
    from hardware.sim.vpcd_card import run_virtual_card

    try:
        bytes.fromhex(uid)
    except ValueError:
        raise click.BadParameter(
            f"不是十六进制：{shown(uid)} (not hex)", param_hint="--uid"
        ) from None
    stop = threading.Event()
    click.echo(f"虚拟卡 Virtual card {uid.upper()} → 127.0.0.1:{port}", err=True)
    _run_until_interrupted(lambda: run_virtual_card(uid, remove_after, port, stop), stop)
    click.echo("已拔卡 Card removed", err=True)
