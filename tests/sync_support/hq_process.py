"""`pos-hq serve` as a real process the tests can start, kill -9 and start again on the same
database and port, and the `pos-hq` admin commands (init, store add, till enroll, status)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

POS_HQ = Path(sys.executable).with_name("pos-hq")
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pos_hq(db_url: str, *args: str) -> dict[str, Any]:
    """Run `pos-hq --db URL --json ARGS...`; its JSON answer (raises when it exits non-zero)."""
    done = subprocess.run(
        [str(POS_HQ), "--db", db_url, "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pos-hq {' '.join(args)} exited {done.returncode}: {done.stderr}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def health(url: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """HQ's /health answer, or None when nothing answers at `url`."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            answer: dict[str, Any] = json.load(response)
            return answer
    except (OSError, urllib.error.URLError, ValueError):
        return None


class HqProcess:
    """One `pos-hq serve` on 127.0.0.1; `with HqProcess(db_url) as hq:` starts and stops it.

    The database is initialised on the first start. Its output goes to `log_path` (a file,
    so a chatty server never blocks on a full pipe)."""

    def __init__(
        self, db_url: str, log_path: Path, port: int | None = None, *, init: bool = True
    ) -> None:
        self.db_url = db_url
        self.init = init
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> HqProcess:
        if self.running:
            raise RuntimeError("HQ is already running")
        if self.starts == 0 and self.init:
            pos_hq(self.db_url, "init")
        self.starts += 1
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(POS_HQ), "--db", self.db_url, "serve", "--host", "127.0.0.1"]
                + ["--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + START_TIMEOUT
        while health(self.url) is None:
            if self.process.poll() is not None:
                raise RuntimeError(f"pos-hq serve exited {self.process.returncode}: {self.log()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"pos-hq serve did not answer in {START_TIMEOUT} s: {self.log()}"
                )
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """kill -9: no shutdown handlers, no flushing, open transactions simply vanish."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> HqProcess:
        """kill -9, then serve the same database on the same port."""
        self.kill()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def admin(self, *args: str) -> dict[str, Any]:
        return pos_hq(self.db_url, *args)

    def __enter__(self) -> HqProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
