"""Benchmark: cold start of the cashier app to a ready till, against a bare Qt window.

    .venv/bin/python bench/till_cold_start.py [-n 5] [--warmup 1] [--tmp .bench-tmp]

A demo store (`pos-app demo --no-gui --members 200`) is made once in --tmp and reused. Each
run starts a fresh Python process (offscreen Qt) and times, from the parent, the moment the
child prints its ready line:

- the till: `build_till(..., demo=True)` on the demo store as `pos-app demo` starts it,
  window shown; ready once the sign-in screen has painted and every background operation
  has delivered its result (the devices opened: sim card reader, sim printer, sim display;
  the simulator panel's first look for a receipt picture);
- the physical floor: a process that imports PySide6.QtWidgets, makes a QApplication and
  shows an empty QWidget of the same size; ready once it has painted.

The runs alternate (till, bare, till, …) after a warm-up, so both see the same file cache.
It also times the import of `pos_app.ui.till_app` alone in a fresh process, against the
import of PySide6.QtWidgets alone and an empty interpreter, and prints where the till's
start goes (imports, store and window, until ready), as seen from inside the child.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import DEFAULT_TMP, REPO, percentile

READY = "READY"

# The till as `pos-app demo` starts it; prints stage times (seconds since the parent's
# launch, from time.time()) and the ready line.
CHILD_TILL = r"""
import sys, time
t0 = float(sys.argv[1])
stages = [("interpreter", time.time() - t0)]
from pathlib import Path
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from pos_app.services.context import open_store
from pos_app.ui.operations import pending_operations
from pos_app.ui.till_app import build_till, close_till
stages.append(("imports", time.time() - t0))
data_dir = Path(sys.argv[2])
ctx = open_store(data_dir)
window = build_till(ctx, data_dir, demo=True)
stages.append(("store+window built", time.time() - t0))
app = QApplication.instance()
painted = []

class Painted(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not painted:
            painted.append(time.time() - t0)
        return False

watch = Painted()
window.sign_in_screen.installEventFilter(watch)
window.show()

def check():
    ready = painted and pending_operations() == 0
    if ready and window.stack.currentWidget() is window.sign_in_screen:
        timer.stop()
        stages.append(("first paint", painted[0]))
        stages.append(("devices open, idle", time.time() - t0))
        print("READY", flush=True)
        print("STAGES " + " ".join(f"{name.replace(' ', '_')}={s:.4f}" for name, s in stages),
              flush=True)
        app.quit()

timer = QTimer()
timer.timeout.connect(check)
timer.start(1)
app.exec()
close_till(window)
"""

# The floor: Qt alone, an empty window of the till's size, painted.
CHILD_BARE = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv[:1])
window = QWidget()
window.resize(1280, 800)

class Painted(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not done:
            done.append(1)
            print("READY", flush=True)
            QTimer.singleShot(0, app.quit)  # after the paint, as the till's check runs
        return False

done = []
watch = Painted()
window.installEventFilter(watch)
window.show()
app.exec()
"""

CHILD_IMPORT = r"""
import time
t = time.perf_counter()
import {module}
print(time.perf_counter() - t, flush=True)
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("POS_DATA_DIR", None)
    return env


def ensure_demo_store(tmp: Path) -> Path:
    """The demo store of 200 members with simulated devices, made on first use."""
    data_dir = tmp / "till-demo"
    if not (data_dir / "settings.toml").exists():
        tmp.mkdir(parents=True, exist_ok=True)
        pos_app = Path(sys.executable).parent / "pos-app"
        started = time.perf_counter()
        subprocess.run(
            [str(pos_app), "--data-dir", str(data_dir), "demo", "--no-gui", "--members", "200"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=child_env(),
            cwd=REPO,
        )
        print(f"made the demo store in {data_dir} ({time.perf_counter() - started:.1f} s)")
    return data_dir


def time_to_ready(code: str, *args: str) -> tuple[float, dict[str, float]]:
    """Seconds from launching `python -c code` to its ready line, and its stage times."""
    started_wall = time.time()
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", code, f"{started_wall:.6f}", *args],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=REPO,
    )
    assert child.stdout is not None
    ready_at = None
    stages: dict[str, float] = {}
    for line in child.stdout:
        if line.strip() == READY and ready_at is None:
            ready_at = time.perf_counter() - started
        elif line.startswith("STAGES "):
            for item in line.split()[1:]:
                name, value = item.split("=")
                stages[name] = float(value)
    if child.wait(timeout=60) != 0 or ready_at is None:
        raise SystemExit(f"the child process failed (exit {child.returncode})")
    return ready_at, stages


def time_import(module: str) -> float:
    """Seconds to import `module` in a fresh interpreter (measured inside it)."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD_IMPORT.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(),
        cwd=REPO,
    )
    return float(out.stdout.strip())


def time_interpreter() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=child_env())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=5, help="runs of each")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--tmp", type=Path, default=DEFAULT_TMP)
    args = parser.parse_args()

    data_dir = ensure_demo_store(args.tmp)
    for _ in range(args.warmup):
        time_to_ready(CHILD_TILL, str(data_dir))
        time_to_ready(CHILD_BARE)
    till: list[float] = []
    bare: list[float] = []
    stages: list[dict[str, float]] = []
    for i in range(args.n):
        # Alternate which goes first, so neither always follows the other's file reads.
        order = ("till", "bare") if i % 2 == 0 else ("bare", "till")
        for which in order:
            if which == "till":
                seconds, seen = time_to_ready(CHILD_TILL, str(data_dir))
                till.append(seconds)
                stages.append(seen)
            else:
                bare.append(time_to_ready(CHILD_BARE)[0])

    imports: dict[str, list[float]] = {"pos_app.ui.till_app": [], "PySide6.QtWidgets": []}
    empty: list[float] = []
    for _ in range(args.n):
        for module, samples in imports.items():
            samples.append(time_import(module))
        empty.append(time_interpreter())

    def ms(samples: list[float]) -> str:
        return (
            f"p50 {percentile(samples, 50) * 1e3:7.1f} ms  min {min(samples) * 1e3:7.1f} ms  "
            f"max {max(samples) * 1e3:7.1f} ms"
        )

    print(f"{args.n} cold starts of each, demo store of 200 members ({data_dir})")
    print(f"{'till to sign-in screen, devices open':<44} {ms(till)}")
    print(f"{'bare QApplication + empty QWidget painted':<44} {ms(bare)}")
    print(f"{'import pos_app.ui.till_app (in the child)':<44} {ms(imports['pos_app.ui.till_app'])}")
    print(f"{'import PySide6.QtWidgets (in the child)':<44} {ms(imports['PySide6.QtWidgets'])}")
    print(f"{'empty interpreter (python -c pass)':<44} {ms(empty)}")
    print("where the till's start goes (median seconds since launch, seen from the child):")
    for name in stages[0]:
        print(f"  {name.replace('_', ' '):<28} {statistics.median(s[name] for s in stages):.3f} s")
    t50, b50 = percentile(till, 50), percentile(bare, 50)
    print(
        f"till cold start p50 {t50 * 1e3:.0f} ms (min {min(till) * 1e3:.0f}) vs bare Qt window "
        f"p50 {b50 * 1e3:.0f} ms (min {min(bare) * 1e3:.0f}) → ratio {t50 / b50:.2f}; "
        f"import pos_app.ui.till_app p50 "
        f"{percentile(imports['pos_app.ui.till_app'], 50) * 1e3:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
