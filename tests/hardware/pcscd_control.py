"""Reaching, starting and restarting pcscd (with the vpcd driver) for the IC-reader tests.

The tests run against the real stack: pyscard → pcscd → vpcd → a VirtualCard over TCP. They
need a pcscd with the vpcd readers. When it is not reachable they skip, except in CI
(CI=true), where .ci/run installed and started it, so they fail instead.

pcscd is started as scripts/start-pcscd does (`pcscd --foreground`, as root) but from
here, in a session of its own with its output appended to a log file, so a pcscd started by
a test outlives the test run and serves the next one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SOCKET = Path("/run/pcscd/pcscd.comm")
PID_FILE = Path("/run/pcscd/pcscd.pid")
LOG_FILE = Path("/tmp/pcscd.log")
VPCD_READER = "Virtual PCD 00 00"
VPCD_READER_2 = "Virtual PCD 00 01"
VPCD_PORT = 35963
VPCD_PORT_2 = 35964

# The pcscd processes started here, to reap them when they are stopped again.
_started: dict[int, subprocess.Popen[bytes]] = {}


def vpcd_readers() -> list[str]:
    """The vpcd readers pcscd shows now ([] when pcscd or pyscard is not there)."""
    try:
        from smartcard import scard
    except ImportError:
        return []
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return []
    try:
        hresult, readers = scard.SCardListReaders(ctx, [])
        if hresult != scard.SCARD_S_SUCCESS:
            return []
        return [r for r in readers if r.startswith("Virtual PCD")]
    finally:
        scard.SCardReleaseContext(ctx)


def card_present(reader: str) -> bool | None:
    """Whether pcscd sees a card on `reader` now (None when pcscd or the reader is not there)."""
    try:
        from smartcard import scard
    except ImportError:
        return None
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return None
    try:
        hresult, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        if hresult != scard.SCARD_S_SUCCESS or states[0][1] & scard.SCARD_STATE_UNKNOWN:
            return None
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(ctx)


def wait_card_state(reader: str, present: bool, timeout: float = 3.0) -> bool:
    """Poll until pcscd sees a card on `reader` (or none, with present=False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if card_present(reader) is present:
            return True
        time.sleep(0.02)
    return card_present(reader) is present


def pcscd_reachable() -> bool:
    """True when pcscd answers and shows both vpcd readers."""
    return {VPCD_READER, VPCD_READER_2} <= set(vpcd_readers())


def _pid() -> int | None:
    """The running pcscd's process id, from its pid file (None when it is not running)."""
    try:
        # pcscd writes "<pid>\n\0".
        pid = int(PID_FILE.read_text().strip().strip("\x00").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def wait_reachable(timeout: float = 5.0) -> bool:
    """Poll until pcscd shows the vpcd readers or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pcscd_reachable():
            return True
        time.sleep(0.05)
    return pcscd_reachable()


def start_pcscd(timeout: float = 5.0) -> bool:
    """Start pcscd unless it runs; True once it shows the vpcd readers."""
    if pcscd_reachable():
        return True
    if _pid() is None:
        exe = shutil.which("pcscd") or (
            "/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None
        )
        if exe is None or os.geteuid() != 0:
            return False
        with LOG_FILE.open("ab") as log:
            proc = subprocess.Popen(
                [exe, "--foreground"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # not killed with the test run's process group
            )
        _started[proc.pid] = proc
    return wait_reachable(timeout)


def stop_pcscd(timeout: float = 5.0) -> None:
    """Stop the running pcscd (by the process id in its pid file) and wait until it is gone."""
    pid = _pid()
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = _started.get(pid)
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.05)
        if _pid() != pid and not SOCKET.exists():
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
    if pid in _started:
        with contextlib.suppress(subprocess.TimeoutExpired):
            _started.pop(pid).wait(timeout=timeout)


def restart_pcscd(timeout: float = 5.0) -> bool:
    """Stop pcscd and start it again; True once it shows the vpcd readers."""
    stop_pcscd(timeout)
    return start_pcscd(timeout)


def require_pcscd() -> None:
    """Skip (fail in CI) unless pcscd with the vpcd readers is reachable, starting it if
    it is installed and not running."""
    if start_pcscd():
        return
    why = "pcscd with the vpcd driver is not reachable (scripts/start-pcscd starts it)"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture
def pcscd() -> Iterator[None]:
    """A running pcscd with the vpcd readers, both empty; afterwards pcscd is left running
    and the readers empty again (pcscd takes up to ~0.5 s to notice a card is gone, and a
    card still seen would be reported to the next test)."""
    require_pcscd()
    for reader in (VPCD_READER, VPCD_READER_2):
        assert wait_card_state(reader, present=False), f"a card is left in {reader}"
    yield
    if not pcscd_reachable():
        start_pcscd()
    for reader in (VPCD_READER, VPCD_READER_2):
        wait_card_state(reader, present=False)
