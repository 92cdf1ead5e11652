"""`pos-hq serve` as a process the fault tests kill -9 and restart on the same database."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.sync_support.hq_databases import PG_ADMIN, postgres_database
from tests.sync_support.hq_process import HqProcess, health
from tests.sync_support.hq_thread import HqThread


def test_kill_9_and_restart_on_the_same_database_and_port(hq_url, tmp_path):
    with HqProcess(hq_url, tmp_path / "hq.log") as hq:
        hq.admin("store", "add", "--code", "SH01", "--name", "南京路店")
        enrolled = hq.admin("till", "enroll", "--store", "SH01")
        assert enrolled["till"] == "SH01-01"
        port = hq.port
        hq.kill()
        assert not hq.running
        assert health(hq.url) is None
        hq.restart()
        assert hq.port == port and hq.starts == 2
        assert health(hq.url) == {"status": "ok", "schema_current": True}
        tills = hq.admin("status")["tills"]
        assert [t["till"] for t in tills] == ["SH01-01"]  # what was committed survived
    assert not hq.running


def test_a_postgres_database_is_dropped_afterwards():
    with postgres_database() as url:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            assert found.fetchone() == (1,)
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        gone = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        assert gone.fetchone() is None


def test_a_server_that_cannot_start_says_why(tmp_path):
    hq = HqProcess(f"sqlite:///{tmp_path / 'hq.sqlite3'}", tmp_path / "hq.log", init=False)
    with pytest.raises(RuntimeError, match="not_initialised|未初始化|not set up"):
        hq.start()


def test_an_in_process_hq_restarts_quickly_on_the_same_port(hq_url):
    with HqThread(hq_url) as hq:
        port = hq.port
        assert health(hq.url) == {"status": "ok", "schema_current": True}
        started = time.monotonic()
        hq.restart()
        assert time.monotonic() - started < 2
        assert hq.port == port and hq.starts == 2
        assert health(hq.url) == {"status": "ok", "schema_current": True}
        hq.stop()
        assert health(hq.url) is None
