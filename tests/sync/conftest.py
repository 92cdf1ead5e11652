"""A real HQ for the sync tests: `pos-hq serve` in a process of its own on a free loopback
port (plain http, or HTTPS with a `trustme` certificate), over a SQLite file or a fresh
PostgreSQL database (127.0.0.1:5432, trust auth; created and dropped per test). Without a
reachable PostgreSQL the PostgreSQL half is skipped on a developer's machine and fails in CI.

Each till gets a key folder of its own (a copy of the store's key file), so that the sync
key one test makes is never another test's.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from pos_app.services.store_secret import key_path
from tests.conftest import StoreFixture
from tests.sync_support.fault_proxy import FaultProxy
from tests.sync_support.hq_databases import hq_database, postgres_database
from tests.sync_support.hq_process import free_port
from tests.sync_support.hq_thread import HqThread
from tests.sync_support.tills import SyncedTill, Template, build_template, make_till

POS_HQ = [str(Path(sys.executable).parent / "pos-hq")]


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty HQ database on each of HQ's two databases."""
    with hq_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def hq_sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hq.sqlite3'}"


@pytest.fixture
def hq_pg() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@dataclass
class HqServer:
    """`pos-hq` on one database: its CLI, and its server in a process that tests may kill
    and start again (same port, same database)."""

    db_url: str
    workdir: Path
    port: int = field(default_factory=free_port)
    tls: tuple[Path, Path, Path] | None = None  # (CA file, certificate, key)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str | None:
        return str(self.tls[0]) if self.tls else None

    def cli(self, *args: str, code: int = 0) -> dict[str, Any]:
        """`pos-hq --db URL --json ARGS`, its one JSON object."""
        done = subprocess.run(
            [*POS_HQ, "--db", self.db_url, "--json", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == code, (done.stdout, done.stderr)
        data = json.loads(done.stdout.strip().splitlines()[-1])
        assert isinstance(data, dict)
        return data

    def enroll(self, store: str = "SH01", till: str | None = None) -> str:
        """A one-time enrollment token (for a new till, or again for `till`)."""
        args = ["till", "enroll", "--store", store] + (["--till", till] if till else [])
        return str(self.cli(*args)["token"])

    def start(self) -> None:
        args = [*POS_HQ, "--db", self.db_url, "serve", "--host", "127.0.0.1"]
        args += ["--port", str(self.port)]
        if self.tls:
            args += ["--cert", str(self.tls[1]), "--key", str(self.tls[2])]
        log = (self.workdir / "hq-serve.log").open("ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError((self.workdir / "hq-serve.log").read_text())
            try:
                verify = ssl.create_default_context(cafile=self.ca_file) if self.tls else True
                httpx.get(self.url + "/health", verify=verify, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("pos-hq serve did not start")

    def kill(self) -> None:
        """kill -9: no goodbye, as a crash or a pulled plug."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def tills(self) -> dict[str, dict[str, Any]]:
        return {t["till"]: t for t in self.cli("status")["tills"]}


def _hq(db_url: str, workdir: Path, tls: bool = False) -> Iterator[HqServer]:
    server = HqServer(db_url, workdir)
    if tls:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        paths = (workdir / "ca.pem", workdir / "hq-cert.pem", workdir / "hq-key.pem")
        ca.cert_pem.write_to_path(str(paths[0]))
        cert.cert_chain_pems[0].write_to_path(str(paths[1]))
        cert.private_key_pem.write_to_path(str(paths[2]))
        server.tls = paths
    server.cli("init")
    server.cli("store", "add", "--code", "SH01", "--name", "上海南京路店")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def hq(hq_db: str, tmp_path: Path) -> Iterator[HqServer]:
    """HQ on SQLite and on PostgreSQL, store SH01 added, serving plain http on loopback."""
    yield from _hq(hq_db, tmp_path)


@pytest.fixture
def hq_lite(hq_sqlite: str, tmp_path: Path) -> Iterator[HqServer]:
    """HQ on SQLite only (for tests about the till, not about HQ's database)."""
    yield from _hq(hq_sqlite, tmp_path)


@pytest.fixture
def hq_tls(hq_sqlite: str, tmp_path: Path) -> Iterator[HqServer]:
    """HQ serving HTTPS with a certificate from a test CA."""
    yield from _hq(hq_sqlite, tmp_path, tls=True)


@pytest.fixture
def till(store: StoreFixture, tmp_path: Path) -> StoreFixture:
    """The store with a key folder of its own (its store key copied in)."""
    keys = tmp_path / "till-keys"
    keys.mkdir(mode=0o700)
    source = key_path(store.ctx.key_dir, store.ctx.store.id)
    shutil.copy(source, keys / source.name)
    (keys / source.name).chmod(0o600)
    store.ctx.key_dir = keys
    store.ctx.forget_store()
    # HQ checks each request's time against its own (5 min): the till's clock is today's.
    store.clock.set(datetime.now(UTC))
    return store


# --- the fault tests' side (tests/sync_support): HQ in a thread, the fault proxy, tills ---

TILL_CODES = ("SH01-01", "SH01-02", "SH01-03")


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty HQ database, fresh for each test (not initialised)."""
    with hq_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def hq_inproc(hq_url: str) -> Iterator[HqThread]:
    """HQ's server (uvicorn, real HTTP on loopback) in a thread, on that database."""
    with HqThread(hq_url) as server:
        yield server


@pytest.fixture
def proxy(hq_inproc: HqThread) -> Iterator[FaultProxy]:
    """The fault proxy in front of `hq_inproc`."""
    with FaultProxy("127.0.0.1", hq_inproc.port) as running:
        yield running


@pytest.fixture(scope="session")
def till_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    """A store of its own for each till code the fault tests use, made once per session."""
    return {
        code: build_template(tmp_path_factory.mktemp(f"till-template-{code}"), code)
        for code in TILL_CODES
    }


@pytest.fixture
def new_till(till_templates, tmp_path: Path) -> Iterator[Callable[..., SyncedTill]]:
    """new_till("SH01-02") → a till store of SH01 with a member card and an open shift."""
    made: list[SyncedTill] = []

    def make(code: str = "SH01-01", card_no: str | None = None) -> SyncedTill:
        card = card_no or f"8866{len(made) + 1:04d}"
        till = make_till(till_templates[code], tmp_path, code, card)
        made.append(till)
        return till

    yield make
    for made_till in made:
        made_till.close()
