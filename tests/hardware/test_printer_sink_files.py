"""What the TCP printer sink leaves in its picture folder (`png_dir`): every receipt kept,
numbered on from the folder's highest number across runs, none for a drawer kick alone."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from hardware.printing.escpos_encoder import FS_CHINESE_OFF, FS_CHINESE_ON, drawer_kick
from hardware.sim.printer_sink import PrinterSink

ESC_INIT = b"\x1b@"


def receipt(text: str) -> bytes:
    chinese = FS_CHINESE_ON + text.encode("gb18030") + FS_CHINESE_OFF
    return ESC_INIT + chinese + b"\n\x1dV\x00"


def send(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(data)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_new_run_numbers_on_from_the_folder_and_overwrites_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "sim-printer"
    with PrinterSink(png_dir=folder) as first:
        send(first.port, receipt("第一张 first"))
        first.wait_for_jobs(1)
    assert names(folder) == ["0001.png", "0001.txt"]
    earlier = {name: (folder / name).read_bytes() for name in names(folder)}
    (folder / "0007.txt").write_text("留着 kept by hand\n", encoding="utf-8")
    (folder / "logo.png").write_bytes(b"not a receipt")

    with PrinterSink(png_dir=folder) as second:  # a new run, as the next process's would be
        send(second.port, receipt("第二张 second"))
        second.wait_for_jobs(1)
        send(second.port, receipt("第三张 third"))
        second.wait_for_jobs(2)
        records = second.records

    assert names(folder) == [
        "0001.png", "0001.txt", "0007.txt",
        "0008.png", "0008.txt", "0009.png", "0009.txt",
        "logo.png",
    ]  # fmt: skip
    assert {name: (folder / name).read_bytes() for name in earlier} == earlier
    assert (folder / "0007.txt").read_text(encoding="utf-8") == "留着 kept by hand\n"
    assert "第二张 second" in (folder / "0008.txt").read_text(encoding="utf-8")
    assert "第三张 third" in (folder / "0009.txt").read_text(encoding="utf-8")
    assert [r.png for r in records] == [folder / "0008.png", folder / "0009.png"]
    assert (folder / "0009.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_two_sinks_on_one_folder_never_write_over_each_other(tmp_path: Path) -> None:
    folder = tmp_path / "sim-printer"
    per_sink = 8
    with PrinterSink(png_dir=folder) as a, PrinterSink(png_dir=folder) as b:
        texts = {
            sink.port: [f"{name}{i:02d}" for i in range(per_sink)]
            for sink, name in ((a, "A"), (b, "B"))
        }

        def print_all(port: int) -> None:
            for text in texts[port]:
                send(port, receipt(text))

        senders = [threading.Thread(target=print_all, args=(s.port,)) for s in (a, b)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        a.wait_for_jobs(per_sink)
        b.wait_for_jobs(per_sink)

    txts = sorted(folder.glob("*.txt"))
    assert len(txts) == len(list(folder.glob("*.png"))) == 2 * per_sink
    printed = {path.read_text(encoding="utf-8").strip() for path in txts}
    assert printed == {text for sent in texts.values() for text in sent}


def test_a_drawer_kick_alone_leaves_no_picture(tmp_path: Path) -> None:
    folder = tmp_path / "sim-printer"
    with PrinterSink(png_dir=folder) as sink:
        send(sink.port, ESC_INIT + drawer_kick(2))
        (kick,) = sink.wait_for_records(1)
        assert not folder.exists() or names(folder) == []
        send(sink.port, receipt("小票 receipt"))
        sink.wait_for_jobs(2)
        records = sink.records
    assert (kick.printed, kick.png) == (True, None)  # the printer took it: the drawer opened
    assert names(folder) == ["0001.png", "0001.txt"]  # the next receipt is the first picture
    assert records[1].png == folder / "0001.png"
