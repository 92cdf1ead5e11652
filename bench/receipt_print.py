"""Benchmark: a 20-line Chinese member receipt built, encoded and sent to a printer, against
the bare cost of sending the same bytes over TCP.

    .venv/bin/python bench/receipt_print.py [-n 200] [--paper 80] [--image] [--tmp .bench-tmp]

Both run alternately against listeners on 127.0.0.1, after a warm-up:

- the app's path: `receipt_print_document` (layout at the paper's columns, full-width ￥),
  `EscposPrinter.print` (ESC/POS encoding in GB18030 with Chinese mode, the job stored in the
  fsync'd spool), then the spooler's status query, the send, the post-send status query, and
  the job marked printed in the spool — timed until `wait()` sees it printed by the
  `PrinterSink` simulator;
- the floor: connect, `sendall` of the very bytes the encoder produced, close, timed until
  a bare listener thread has read them all.

Prints p50/p99/mean of each stage and of both paths, and the ratio.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import DEFAULT_TMP, summary_ms

from hardware.printing.document import PrinterProfile
from hardware.printing.escpos_encoder import encode
from hardware.printing.escpos_printer import EscposPrinter
from hardware.printing.jobs import JobState
from hardware.sim.printer_sink import PrinterSink
from hardware.uri import parse_device_uri
from pos_app.domain.receipt import (
    ReceiptAdjustment,
    ReceiptDocument,
    ReceiptLine,
    ReceiptMember,
    ReceiptTender,
)
from pos_app.services.receipt_printing import receipt_print_document

NAMES = [
    "有机菠菜500g",
    "红富士苹果",
    "农夫山泉550ml",
    "伊利纯牛奶250ml",
    "乐事薯片原味70g",
    "五常大米5kg",
    "金龙鱼花生油1.8L",
    "海天酱油500ml",
    "蒙牛酸奶",
    "康师傅红烧牛肉面",
    "维达抽纸3层",
    "舒肤佳香皂",
    "青岛啤酒500ml",
    "三只松鼠坚果礼盒",
    "鲜鸡蛋30枚",
    "冷冻水饺1kg",
    "百事可乐2L",
    "洽洽瓜子",
    "德芙巧克力",
    "Nescafé 雀巢咖啡",
]


def sample_receipt() -> ReceiptDocument:
    """A member sale of 20 lines with member prices, a coupon, stored value and cash."""
    lines = tuple(
        ReceiptLine(
            i + 1,
            f"S{i:03d}",
            name,
            1 + i % 3,
            380 + 137 * i,
            (1 + i % 3) * (380 + 137 * i),
            (1 + i % 3) * (380 + 137 * i) - (20 if i % 4 == 0 else 0),
            (ReceiptAdjustment("member_price", "M", "会员价", "Member price", 20),)
            if i % 4 == 0
            else (),
        )
        for i, name in enumerate(NAMES)
    )
    gross = sum(line.gross_fen for line in lines)
    discount = sum(line.gross_fen - line.net_fen for line in lines) + 800
    total = gross - discount
    return ReceiptDocument(
        store_code="SH01",
        store_name="上海南京路店",
        receipt_no="SH01-01-261123-0042",
        kind="sale",
        business_time="2026-11-23 10:00",
        operator_name="王收银",
        lines=lines,
        gross_fen=gross,
        discount_fen=discount,
        rounding_fen=0,
        total_fen=total,
        tenders=(
            ReceiptTender(
                "stored_value",
                "储值卡",
                "Stored value",
                5000,
                detail_zh="本金 ¥50.00",
                detail_en="principal ¥50.00",
            ),
            ReceiptTender("cash", "现金", "Cash", total - 5000),
        ),
        cash_given_fen=total - 5000 + 37,
        change_fen=37,
        sale_adjustments=(
            ReceiptAdjustment("coupon", "VEG20-8", "蔬菜满20减8", "¥8 off veg over ¥20", 800),
        ),
        coupons_used=("CP8888 蔬菜满20减8",),
        member=ReceiptMember(
            "SH010000001",
            "张三",
            "138****8000",
            "金卡",
            "Gold",
            "8888****0001",
            45000,
            40000,
            5000,
            120,
            5120,
        ),
    )


class BareListener:
    """Reads whole connections and signals when one has delivered `expect` bytes."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.done = threading.Event()
        self.expect = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            got = 0
            with conn:
                while chunk := conn.recv(65536):
                    got += len(chunk)
            if got >= self.expect:
                self.done.set()

    def send(self, data: bytes) -> float:
        self.expect = len(data)
        self.done.clear()
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(data)
        self.done.wait(5)
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200, help="receipts of each kind")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--paper", type=int, choices=(58, 80), default=80)
    parser.add_argument("--image", action="store_true", help="image mode (raster receipt)")
    parser.add_argument("--tmp", type=Path, default=DEFAULT_TMP)
    args = parser.parse_args()
    args.tmp.mkdir(parents=True, exist_ok=True)
    profile = PrinterProfile(paper_mm=args.paper, image=args.image)
    receipt = sample_receipt()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp, PrinterSink() as sink:
        printer = EscposPrinter(
            parse_device_uri(f"tcp://127.0.0.1:{sink.port}"), profile, Path(tmp) / "spool.db"
        )
        bare = BareListener()
        build, enc, app, floor = [], [], [], []
        size = 0
        try:
            for i in range(args.warmup + args.n):
                t0 = time.perf_counter()
                doc = receipt_print_document(receipt, profile)
                t1 = time.perf_counter()
                data = encode(doc, profile)
                t2 = time.perf_counter()
                size = len(data)
                # The app's whole path, from the receipt document to "printed".
                t3 = time.perf_counter()
                job = printer.print(receipt_print_document(receipt, profile))
                info = printer.wait(job, 10)
                t4 = time.perf_counter()
                if info.state != JobState.PRINTED:
                    print(f"job {i} ended {info.state}: {info.last_error}", file=sys.stderr)
                    return 1
                sent = bare.send(data)
                if i >= args.warmup:
                    build.append(t1 - t0)
                    enc.append(t2 - t1)
                    app.append(t4 - t3)
                    floor.append(sent)
        finally:
            printer.close()
            bare.server.close()
    mode = "image" if args.image else "text GB18030"
    print(f"receipt: 20 lines, {args.paper} mm, {mode}, {size:,} bytes; n={args.n}")
    print(f"{'':34}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for label, samples in (
        ("layout (receipt_print_document)", build),
        ("ESC/POS encode", enc),
        ("app: document → printed at sink", app),
        ("floor: TCP send of the same bytes", floor),
    ):
        p50, p99, mean = summary_ms(samples)
        print(f"{label:34}{p50:9.2f}{p99:9.2f}{mean:9.2f}")
    ratio = summary_ms(app)[0] / summary_ms(floor)[0]
    print(
        f"receipt print p50 {summary_ms(app)[0]:.2f} ms vs bare TCP send p50 "
        f"{summary_ms(floor)[0]:.2f} ms → ratio {ratio:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
