"""Benchmark: resident memory of the cashier app after 200 sales made through its screens,
against a bare Qt window.

    .venv/bin/python bench/till_memory.py [-n 200] [--demo] [--tmp .bench-tmp]

A fresh copy of the demo store (`pos-app demo --no-gui --members 200`, made once in --tmp,
with its simulated devices) is opened in a new process (offscreen Qt) by `build_till`, as
`pos-app` starts it; with --demo the simulator panel is there too (as `pos-app demo`). The
cashier signs in through the sign-in service with a shift opened, and then each sale is
made as a cashier makes it: `checkout_screen.add_code("V001")`, `add_code("6921168509256")`,
`open_payment()`, then Enter in the tender dialog (the cash prefilled with the amount due is
added), Enter again (the sale is recorded; `sig_sale_completed`), and Enter on the "sale
complete" page for the next customer. The sim printer prints every receipt (the real ESC/POS
driver and spool, a printer simulator in the same process that also renders each job to a
PNG, as the demo does).

It prints the process's RSS (psutil) when the till is ready, signed in, after the 1st, 20th,
50th, 100th and last sale and once every receipt has printed, the growth per sale (from the
20th sale on, after the caches have warmed up, and overall), sales per second, and the
floor: the RSS of a process that only made a QApplication and showed an empty QWidget.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import DEFAULT_TMP, REPO
from till_cold_start import child_env, ensure_demo_store

CHECKPOINTS = (1, 20, 50, 100)
CASHIER = ("cashier", "cashier123")  # the demo store's public demo login
FLOAT_FEN = 50_000

CHILD_BARE = r"""
import psutil
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
window = QWidget()
window.resize(1280, 800)

class Painted(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(50, app.quit)
        return False

watch = Painted()
window.installEventFilter(watch)
window.show()
app.exec()
print(psutil.Process().memory_info().rss, flush=True)
"""

CHILD_IMPORTS = r"""
import psutil
from PySide6.QtWidgets import QApplication
import pos_app.ui.till_app
app = QApplication([])
print(psutil.Process().memory_info().rss, flush=True)
"""


def rss_of(code: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(),
        cwd=REPO,
    )
    return int(out.stdout.strip().splitlines()[-1])


def fresh_copy(store: Path, run_dir: Path) -> None:
    """The demo store as made, without the earlier runs' receipts or print spool."""
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(
        store, run_dir, ignore=shutil.ignore_patterns("sim-printer", "print-spool*", "*.png")
    )


# -- the child: the till, driven through its screens ----------------------------------------


def run_child(run_dir: Path, sales: int, demo: bool) -> dict[str, Any]:
    import psutil
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget

    from pos_app.services.context import open_store
    from pos_app.services.shifts import current_shift, open_shift
    from pos_app.services.sign_in import sign_in
    from pos_app.ui.operations import pending_operations
    from pos_app.ui.till_app import build_till, close_till

    process = psutil.Process()

    def rss() -> int:
        return int(process.memory_info().rss)

    def wait_until(cond: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
        """Run the event loop until `cond()` (checked every millisecond, without spinning)."""
        if cond():
            return
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(1)
        deadline = time.monotonic() + timeout

        def check() -> None:
            if cond() or time.monotonic() > deadline:
                loop.quit()

        timer.timeout.connect(check)
        timer.start()
        loop.exec()
        timer.stop()
        if not cond():
            alert = window.alert_bar.text if window is not None else ""
            from pos_app.ui import operations

            running = [getattr(op._fn, "__qualname__", op._fn) for op in operations._running]
            import threading
            import traceback

            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                print(f"--- {names.get(ident)}", file=sys.stderr)
                traceback.print_stack(frame, file=sys.stderr)
            raise SystemExit(
                f"timed out waiting for {what or cond} (alert bar: {alert!r}; "
                f"running: {running}; quote: {screen.current_quote is not None})"
            )

    def idle() -> bool:
        return pending_operations() == 0

    def press_enter(dialog: QWidget) -> None:
        """Enter, where the dialog has put the cursor (as a cashier's keyboard sends it)."""
        target = dialog.focusWidget() or QApplication.focusWidget() or dialog
        QTest.keyClick(target, Qt.Key.Key_Return)

    ctx = open_store(run_dir)
    window = screen = None
    window = build_till(ctx, run_dir, demo=demo)
    window.show()
    wait_until(lambda: idle() and window.session.devices._printer is not None, what="devices")
    QTest.qWait(50)  # the first paint
    out: dict[str, Any] = {"ready": rss()}

    actor = sign_in(ctx, *CASHIER)
    shift = current_shift(ctx, actor) or open_shift(ctx, actor, FLOAT_FEN)
    window.session.signed_in(actor, shift)
    wait_until(idle, what="sign-in")
    screen = window.checkout_screen
    if window.stack.currentWidget() is not screen:
        # The window's sign-in handler failed before showing the checkout (see stderr).
        print("warning: the checkout screen was not shown on sign-in", file=sys.stderr)
        window.show_screen(screen)
    out["signed_in"] = rss()

    printed: set[str] = set()
    window.session.devices.sig_job.connect(
        lambda job: printed.add(job.job_id) if job.state == "printed" else None
    )
    completed: list[str] = []
    screen.sig_sale_completed.connect(lambda result: completed.append(result.receipt_no))
    started = time.perf_counter()
    for n in range(1, sales + 1):
        screen.add_code("V001")
        screen.add_code("6921168509256")
        wait_until(lambda: idle() and screen.current_quote is not None, what="the cart priced")
        screen.open_payment()
        wait_until(lambda: screen.tender_dialog is not None and screen.tender_dialog.isVisible())
        dialog = screen.tender_dialog
        press_enter(dialog)  # the prefilled cash is added: the bill is covered
        wait_until(dialog.covered, what="cash added")
        press_enter(dialog)  # the sale is recorded
        wait_until(lambda n=n: len(completed) == n, what=f"sale {n}")
        wait_until(lambda d=dialog: d.stack.currentIndex() == d.DONE, what="done page")
        press_enter(dialog)  # next customer
        wait_until(lambda d=dialog: not d.isVisible(), what="dialog closed")
        if n in CHECKPOINTS:
            out[f"sale_{n}"] = rss()
    seconds = time.perf_counter() - started
    out[f"sale_{sales}"] = rss()
    wait_until(lambda: idle() and len(printed) >= sales, timeout=120, what="receipts")
    out["printed"] = len(printed)
    out["receipts"] = len(set(completed))
    out["all_printed"] = rss()
    gc.collect()
    QTest.qWait(50)  # deleteLater of closed dialogs
    out["after_gc"] = rss()
    out["seconds"] = seconds
    close_till(window)
    return out


# -- the parent -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200, help="sales")
    parser.add_argument("--demo", action="store_true", help="with the simulator panel")
    parser.add_argument("--tmp", type=Path, default=DEFAULT_TMP)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print("RESULT " + json.dumps(run_child(args.child, args.n, args.demo)), flush=True)
        # Skip the interpreter's teardown of the Qt objects: not what is measured, and
        # PySide has been seen to abort in it ("bool_dealloc") after a clean run.
        os._exit(0)

    store = ensure_demo_store(args.tmp)
    run_dir = args.tmp / "till-memory-run"
    fresh_copy(store, run_dir)
    bare = rss_of(CHILD_BARE)
    imports = rss_of(CHILD_IMPORTS)
    command = [sys.executable, __file__, "--child", str(run_dir), "-n", str(args.n)]
    out = subprocess.run(
        command + (["--demo"] if args.demo else []),
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
    )
    lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"the till process failed (exit {out.returncode})")
    r = json.loads(lines[-1][len("RESULT ") :])
    n = args.n

    def mb(value: float) -> str:
        return f"{value / 2**20:7.1f} MB"

    print(
        f"{n} sales through the checkout screen and tender dialog, receipts on sim:printer"
        f"{' (with the simulator panel)' if args.demo else ''}"
    )
    rows = [
        ("bare QApplication + empty QWidget (floor)", bare),
        ("QApplication + imports of the till, no window", imports),
        ("till ready (sign-in screen, devices open)", r["ready"]),
        ("signed in, checkout screen", r["signed_in"]),
        *((f"after sale {k}", r[f"sale_{k}"]) for k in CHECKPOINTS if k < n),
        (f"after sale {n}", r[f"sale_{n}"]),
        ("every receipt printed", r["all_printed"]),
        ("after gc.collect()", r["after_gc"]),
    ]
    for label, value in rows:
        print(f"  {label:<48} {mb(value)}")
    steady_from = 20 if n > 20 else 1
    steady = (r[f"sale_{n}"] - r[f"sale_{steady_from}"]) / max(1, n - steady_from)
    overall = (r[f"sale_{n}"] - r["signed_in"]) / n
    print(
        f"  growth per sale: {steady / 1024:.1f} KB from sale {steady_from} on, "
        f"{overall / 1024:.1f} KB overall; {n / r['seconds']:.1f} sales/s "
        f"({r['seconds'] * 1e3 / n:.0f} ms a sale); {r['receipts']} receipts, "
        f"{r['printed']} printed"
    )
    print(
        f"till RSS after {n} sales {r[f'sale_{n}'] / 2**20:.1f} MB (ready: "
        f"{r['ready'] / 2**20:.1f} MB) vs bare Qt window {bare / 2**20:.1f} MB → ratio "
        f"{r[f'sale_{n}'] / bare:.2f}; growth {steady / 1024:.1f} KB a sale; "
        f"{n / r['seconds']:.1f} sales/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
