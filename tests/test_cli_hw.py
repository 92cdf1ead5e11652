"""`pos-app hw …` and `sale --print` against a real TCP printer sink on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.printing.escpos_decoder import decode
from hardware.sim.printer_sink import PrinterSink
from pos_app.device_settings import SETTINGS_FILE, SPOOL_FILE
from tests.test_cli import Cli, copy_store
from tests.test_cli_sale import template_dir  # noqa: F401 -- the store with goods and a shift


@pytest.fixture
def sink() -> Iterator[PrinterSink]:
    with PrinterSink(port=0) as running:
        yield running


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def printer_columns(line: str) -> int:
    return sum(1 if ord(ch) < 0x80 else 2 for ch in line)


def test_print_test_reaches_the_printer_in_chinese_at_58_mm_gbk(
    tmp_path: Path, sink: PrinterSink
) -> None:
    c = Cli(tmp_path / "none")
    out = c.ok(f"hw print-test --printer tcp://127.0.0.1:{sink.port} --width 58 --encoding gbk")
    assert "已打印 printed" in out.stdout
    (job,) = sink.wait_for_jobs(1)
    printed = decode(job, "gbk", columns=32)
    assert "打印测试" in printed.text and "全角标点：，。！？" in printed.text
    total = next(line for line in printed.lines if "Total" in line)
    assert total.endswith("￥31.53") and printer_columns(total) == 32
    assert printed.qr_codes == ["POS-TEST-0001"] and printed.cuts == 1
    assert not (tmp_path / "none").exists(), "a test slip leaves no spool behind"


def test_print_test_image_mode_sends_a_picture_not_text(tmp_path: Path, sink: PrinterSink) -> None:
    c = Cli(tmp_path)
    c.ok(f"hw print-test --printer tcp://127.0.0.1:{sink.port} --image")
    (job,) = sink.wait_for_jobs(1)
    printed = decode(job)
    assert "打印测试" not in printed.text
    assert len(printed.images) == 1 and printed.images[0].width == 576


def test_print_test_to_a_printer_that_is_not_there_says_so_and_exits_1(tmp_path: Path) -> None:
    c = Cli(tmp_path)
    result = c.run(f"hw print-test --printer tcp://127.0.0.1:{free_port()} --timeout 2")
    assert result.exit_code == 1
    assert "未打印 not printed" in result.stdout and "refused" in result.stdout


@pytest.fixture
def shop(template_dir: Path, tmp_path: Path) -> Cli:  # noqa: F811
    """A store with operators, goods and an open shift."""
    return Cli(copy_store(template_dir, tmp_path / "store"))


def drawer_events(c: Cli) -> list[dict[str, object]]:
    trail = c.json("audit --limit 50", as_="manager")["events"]
    return [e for e in trail if e["action"] == "drawer.open"]


@pytest.mark.parametrize("pin", ["2", "5"])
def test_drawer_kick_reaches_the_printer_on_the_chosen_pin(
    shop: Cli, sink: PrinterSink, pin: str
) -> None:
    shop.ok(
        f"hw drawer --printer tcp://127.0.0.1:{sink.port} --pin {pin} --reason 找零", as_="cashier"
    )
    (job,) = sink.wait_for_jobs(1)
    assert decode(job).drawer_kicks == [int(pin)]
    (event,) = drawer_events(shop)
    assert event["outcome"] == "ok" and "找零" in str(event["detail"])


def test_the_drawer_opens_for_no_one_unknown_and_every_opening_is_audited(
    shop: Cli, sink: PrinterSink
) -> None:
    """Issue 11: `hw drawer` opened the drawer with no sign-in and no audit record."""
    uri = f"tcp://127.0.0.1:{sink.port}"
    anonymous = shop.run(f"hw drawer --printer {uri} --reason 找零", json=True)
    assert anonymous.exit_code == 2 and "credentials_missing" in anonymous.stdout
    wrong = shop.run(
        f"hw drawer --printer {uri} --reason 找零",
        json=True,
        env={"POS_OPERATOR": "cashier", "POS_PASSWORD": "wrong-password"},
    )
    assert wrong.exit_code == 1
    assert shop.run(f"hw drawer --printer {uri}", as_="cashier").exit_code == 2  # no reason
    assert not sink.jobs, "nothing reached the drawer"
    shop.ok(f"hw drawer --printer {uri} --reason 换零钱", as_="cashier")
    (event,) = drawer_events(shop)
    assert event["operator_id"] is not None and "换零钱" in str(event["detail"])


def test_drawer_on_a_printer_out_of_paper_opens_now_and_nothing_is_queued(
    shop: Cli, sink: PrinterSink
) -> None:
    """Out of paper, the change must still be given: the drawer opens by a real-time pulse
    (DLE DC4), and no ESC p waits in the printer to open it once paper is loaded."""
    sink.mode = "paper_out"
    result = shop.run(
        f"hw drawer --printer tcp://127.0.0.1:{sink.port} --reason 找零", as_="cashier", lang="en"
    )
    assert result.exit_code == 0, result.stderr
    sink.wait_for_records(1, timeout=5)  # the sink has read the kick's connection through
    assert sink.drawer_openings == [2]
    sink.mode = "normal"
    assert all(not decode(j).drawer_kicks for j in sink.jobs)  # nothing printed later
    assert [e["outcome"] for e in drawer_events(shop)] == ["ok"]


def test_a_malformed_uri_exits_2_with_the_reason(tmp_path: Path) -> None:
    result = Cli(tmp_path).run("hw drawer --printer lpt1: --reason 测试")
    assert result.exit_code == 2 and "无法识别的设备地址" in result.stderr
    result = Cli(tmp_path).run("hw read-card --source tcp://h:1", lang="en")
    assert result.exit_code == 2 and "cannot be a card source" in result.stderr


def test_hw_list_shows_each_configured_device_and_its_state(
    tmp_path: Path, sink: PrinterSink
) -> None:
    tmp_path.joinpath(SETTINGS_FILE).write_text(
        f'[devices]\nprinter = "tcp://127.0.0.1:{sink.port}"\ndrawer = true\n'
        f'display = "sim:display"\ncard_sources = ["sim:card"]\n',
        encoding="utf-8",
    )
    data = Cli(tmp_path).json("hw list")
    states = {(d["role"], d["uri"]): d["state"] for d in data["configured"]}
    assert states == {
        ("card_source", "sim:card"): "ready",
        ("printer", f"tcp://127.0.0.1:{sink.port}"): "ready",
        ("drawer", f"tcp://127.0.0.1:{sink.port}"): "ready",
        ("display", "sim:display"): "ready",
    }
    sink.mode = "paper_out"
    result = Cli(tmp_path).run("hw list")
    assert result.exit_code == 1 and "缺纸" in result.stdout


def test_sale_print_sends_the_receipt_after_the_commit(
    template_dir: Path,  # noqa: F811
    tmp_path: Path,
    sink: PrinterSink,
) -> None:
    c = Cli(copy_store(template_dir, tmp_path / "store"))
    (c.data_dir / SETTINGS_FILE).write_text(
        f'[devices]\nprinter = "tcp://127.0.0.1:{sink.port}"\npaper_mm = 80\n', encoding="utf-8"
    )
    data = c.json("sale --line V001:3 --line F001 --pay cash:100 --print", as_="cashier")
    assert data["print"]["state"] == "printed"
    (job,) = sink.wait_for_jobs(1)
    printed = decode(job, columns=48)
    assert data["receipt_no"] in printed.qr_codes
    assert any("【应收】" in line and line.endswith("￥33.20") for line in printed.lines)
    assert all(printer_columns(line) <= 48 for line in printed.lines)


def test_printer_off_at_sale_time_keeps_the_sale_and_the_receipt_prints_later_once(
    template_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    c = Cli(copy_store(template_dir, tmp_path / "store"))
    port = free_port()
    (c.data_dir / SETTINGS_FILE).write_text(
        f'[devices]\nprinter = "tcp://127.0.0.1:{port}?connect_timeout=0.5"\n', encoding="utf-8"
    )
    result = c.run("sale --line D001 --pay cash:2 --print", as_="cashier", lang="en")
    assert result.exit_code == 0, result.stderr
    assert "Receipt not printed" in result.stderr and "the sale stands" in result.stderr
    receipt_no = result.stdout.strip().splitlines()[-1]
    assert (c.data_dir / SPOOL_FILE).exists()
    # The printer comes back; the next receipt sent there takes the waiting one with it.
    with PrinterSink(port=port) as sink:
        c.ok(f"reprint {receipt_no} --print", as_="cashier")
        jobs = sink.wait_for_jobs(2)
    texts = [decode(j).text for j in jobs]
    assert sum("补打" in t for t in texts) == 1, "one original, one marked reprint"
    assert all(receipt_no in t for t in texts)
    assert len(sink.jobs) == 2


def test_read_card_from_a_serial_magstripe_reader(tmp_path: Path) -> None:
    from hardware.sim.pty_devices import MagstripeSim

    with MagstripeSim() as reader:
        timer = threading.Timer(
            0.5,
            reader.swipe,
            ("B6200001234567890^ZHANG/SAN^2912101", "6200001234567890=2912101"),
        )
        timer.start()
        data = Cli(tmp_path).json(f"hw read-card --source serial:{reader.path} --timeout 5")
        timer.join()
    assert (data["kind"], data["number"]) == ("magstripe", "6200001234567890")


def test_read_card_times_out_with_a_clear_message(tmp_path: Path) -> None:
    from hardware.sim.pty_devices import ScannerSim

    with ScannerSim() as scanner:
        result = Cli(tmp_path).run(
            f"hw read-card --source serial:{scanner.path} --timeout 0.5", lang="en"
        )
    assert result.exit_code == 1 and "No card within 0.5 s" in result.stderr


def test_display_shows_two_lines_and_the_total_lamp(tmp_path: Path) -> None:
    from hardware.sim.pty_devices import PoleDisplaySim

    with PoleDisplaySim() as pole:
        Cli(tmp_path).ok(
            f"hw display --device serial:{pole.path} --line1 TOTAL --line2 33.20 --lamp total"
        )
        assert pole.wait_for(lambda p: p.line2.strip() == "33.20" and p.lamp is not None)
        assert pole.line1.strip() == "TOTAL"
