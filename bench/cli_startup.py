"""Benchmark: how long `pos-app` commands take from launch to exit, against the interpreter.

    .venv/bin/python bench/cli_startup.py [-n 10] [--tmp .bench-tmp]

Each run is a fresh process of the installed console script (`.venv/bin/pos-app`), timed
from the parent until it exits: `pos-app --help`, `pos-app balance --help`, and a real read
command, `pos-app report range` of today on a demo store (made once in --tmp with
`pos-app demo --no-gui --members 50`, reused afterwards). The physical floor is measured in
the same run: `python -c pass` (the interpreter alone) and `python -c "import click"` (the
least any click command line can do). Runs alternate in rotating order after a warm-up, so
all see the same file cache. Prints the median of each and its ratio to the floor; exits 1
when `pos-app --help` takes 0.3 s or more (the target).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import DEFAULT_TMP, REPO

HELP_TARGET_S = 0.3
MANAGER = {"POS_OPERATOR": "manager", "POS_PASSWORD": "manager123"}  # the demo's logins


def child_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POS_")}
    env.update(MANAGER, POS_DATA_DIR=str(data_dir))
    env["POS_KEY_DIR"] = str(DEFAULT_TMP / "keys")
    return env


def ensure_demo_store(tmp: Path, pos_app: Path) -> Path:
    data_dir = tmp / "cli-demo"
    if not (data_dir / "settings.toml").exists():
        tmp.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        subprocess.run(
            [str(pos_app), "--data-dir", str(data_dir), "demo", "--no-gui", "--members", "50"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=child_env(data_dir),
            cwd=REPO,
        )
        print(f"made the demo store in {data_dir} ({time.perf_counter() - started:.1f} s)")
    return data_dir


def run_once(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env, cwd=REPO)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10, help="runs of each")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--tmp", type=Path, default=DEFAULT_TMP)
    args = parser.parse_args()

    pos_app = Path(sys.executable).parent / "pos-app"
    data_dir = ensure_demo_store(args.tmp, pos_app)
    env = child_env(data_dir)
    today = date.today().isoformat()
    cases: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import click"': [sys.executable, "-c", "import click"],
        "pos-app --help": [str(pos_app), "--help"],
        "pos-app balance --help": [str(pos_app), "balance", "--help"],
        "pos-app report range (today)": [
            str(pos_app), "report", "range", "--from", today, "--to", today,
        ],
    }  # fmt: skip
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for _ in range(args.warmup):
        for name in names:
            run_once(cases[name], env)
    for i in range(args.n):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # rotating order
            samples[name].append(run_once(cases[name], env))

    medians = {name: statistics.median(s) for name, s in samples.items()}
    floor = medians['python -c "import click"']
    print(f"{args.n} runs of each, median (min) — fresh processes, demo store {data_dir}")
    for name, seconds in medians.items():
        ratio = f"× {seconds / floor:4.1f} of import click" if name.startswith("pos-app") else ""
        print(f"  {name:<30} {seconds * 1e3:7.0f} ms ({min(samples[name]) * 1e3:5.0f})  {ratio}")
    help_s = medians["pos-app --help"]
    met = help_s < HELP_TARGET_S
    print(
        f"pos-app --help p50 {help_s * 1e3:.0f} ms vs python -c 'import click' "
        f"{floor * 1e3:.0f} ms → ratio {help_s / floor:.2f} (target < {HELP_TARGET_S * 1e3:.0f} "
        f"ms: {'met' if met else 'NOT met'}); balance --help "
        f"{medians['pos-app balance --help'] * 1e3:.0f} ms, report range "
        f"{medians['pos-app report range (today)'] * 1e3:.0f} ms"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
