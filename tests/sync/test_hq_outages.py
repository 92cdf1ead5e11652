"""HQ going away: killed with -9 in the middle of a push and started again on the same
database, and hours offline while the till keeps trading. Afterwards HQ holds exactly the
till's ledger, `pos-hq verify` passes, and no fork was recorded."""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import UTC, datetime

import pytest

from hq.engine import open_engine
from pos_app.sync.pusher import PushResult
from tests.conftest import FakeClock
from tests.sync.support import add_entries
from tests.sync_support.fault_proxy import Fault, FaultProxy
from tests.sync_support.hq_process import POS_HQ, HqProcess
from tests.sync_support.hq_thread import HqThread
from tests.sync_support.tills import (
    enroll_at_hq,
    hq_chain,
    hq_entry_count,
    hq_fork_count,
    make_till,
)
from tests.test_cli import Cli, one_json


def pos_hq_verify(db_url: str) -> int:
    return subprocess.run(
        [str(POS_HQ), "--db", db_url, "verify"], capture_output=True, timeout=60
    ).returncode


def taken_batches(proxy: FaultProxy) -> list[object]:
    return [r for r in proxy.records if r.status == 200 and "/batches" in r.request_line]


def test_hq_killed_9_in_the_middle_of_a_push_and_restarted(hq_url, tmp_path, new_till):
    till = new_till("SH01-01")
    add_entries(till.store, 4500)  # five batches
    with HqProcess(hq_url, tmp_path / "hq.log") as hq, FaultProxy("127.0.0.1", hq.port) as proxy:
        engine = open_engine(hq_url)
        try:
            till.enroll(hq.url, enroll_at_hq(engine))
            till.point_at(proxy.url)
            proxy.set_fault(Fault.delay(250), match="/batches")  # a slow link: time to kill
            outcome: list[PushResult] = []
            pushing = threading.Thread(target=lambda: outcome.append(till.push().result))
            pushing.start()
            deadline = time.monotonic() + 30
            while (
                sum(1 for r in proxy.records if r.status == 200 and "/batches" in r.request_line)
                < 2
            ):
                assert time.monotonic() < deadline, "the push never got going"
                time.sleep(0.01)
            hq.kill()  # the next batch is on its way through the slow link
            pushing.join(timeout=60)
            assert outcome == [PushResult.UNREACHABLE]
            held = hq_chain(engine, till.code)
            assert 2000 <= len(held) < len(till.chain())
            assert held == till.chain()[: len(held)]

            hq.start()  # same database, same port
            proxy.clear()
            assert till.push().ok
            assert hq_chain(engine, till.code) == till.chain()
            assert hq_entry_count(engine) == len(till.chain())
            assert hq_fork_count(engine) == 0
            status = hq.admin("status")["tills"]
            assert [(t["till"], t["entries"], t["forks"]) for t in status] == [
                ("SH01-01", len(till.chain()), 0)
            ]
        finally:
            engine.dispose()
    assert pos_hq_verify(hq_url) == 0


@pytest.fixture
def shared_clock() -> FakeClock:
    """One clock for the till and HQ, so hours pass for both without waiting."""
    return FakeClock(datetime.now(UTC))


def test_hours_offline_the_backlog_grows_then_everything_arrives(
    hq_url, tmp_path, till_templates, shared_clock
):
    hq = HqThread(hq_url, clock=shared_clock).start()
    try:
        till = make_till(
            till_templates["SH01-01"], tmp_path, "SH01-01", "88660001", clock=shared_clock
        )
        till.enroll(hq.url, enroll_at_hq(hq.engine))
        till.trade(3)
        assert till.push().ok
        cli = Cli(till.store.data_dir)
        hq.stop()
        pending = []
        for _hour in range(6):
            till.trade(4)
            shared_clock.advance(hours=1)
            result = cli.run("sync", "push", json=True)
            assert result.exit_code == 4, (result.stdout, result.stderr)
            assert "HQ cannot be reached" in result.stderr
            assert one_json(result.stdout)["result"] == "unreachable"
            status = one_json(cli.run("sync", "status", json=True).stdout)
            pending.append(status["pending"])
            assert status["acked_seq"] < status["head_seq"]
        assert pending == sorted(pending) and pending[0] < pending[-1]
        assert till.status().unreachable_since is not None

        hq.start()  # six hours later, for HQ too
        outcome = till.push()
        assert outcome.ok and outcome.pending == 0
        assert hq_chain(hq.engine, till.code) == till.chain()
        assert hq_entry_count(hq.engine) == len(till.chain())
        assert till.status().unreachable_since is None
        done = one_json(cli.run("sync", "status", json=True).stdout)
        assert (done["pending"], done["acked_seq"]) == (0, done["head_seq"])
        till.close()
    finally:
        hq.close()
