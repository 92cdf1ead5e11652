"""A hypothesis state machine over 2–3 real tills and one HQ, with a fault proxy between.

Rules: trade (top-ups and sales), push, push through one fault (drop, delay, cut mid-body,
cut the response after HQ has done the work, duplicate), restart HQ, take HQ down and bring
it back, re-send the last request HQ was sent (a replay). After every step HQ holds, for
each till, a prefix of that till's ledger (every (seq, hash) equal), at least as long as
what the till knows HQ acknowledged, each entry exactly once, and no fork; after a clean push
with HQ up, HQ holds the till's whole ledger.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from pos_app.sync.pusher import PushResult
from tests.sync_support.fault_proxy import Fault, FaultProxy
from tests.sync_support.hq_databases import hq_database
from tests.sync_support.hq_thread import HqThread
from tests.sync_support.tills import (
    SyncedTill,
    Template,
    enroll_at_hq,
    hq_chain,
    hq_entry_count,
    hq_fork_count,
    hq_head,
    make_till,
)

FAULTS = st.sampled_from(
    [
        Fault.drop(),
        Fault.delay(50),
        Fault.cut_body(300),
        Fault.cut_body(2000),
        Fault.cut_response(),
        Fault.duplicate(),
    ]
)


class SyncMachine(RuleBasedStateMachine):
    templates: dict[str, Template] = {}  # one store per till code, set by the test
    database_kind = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="sync-machine-"))
        self._database = hq_database(self.database_kind, self.folder)
        self.hq = HqThread(self._database.__enter__()).start()
        self.proxy = FaultProxy("127.0.0.1", self.hq.port).start()
        self.tills: list[SyncedTill] = []
        self.hq_up = True

    @initialize(count=st.integers(min_value=2, max_value=3))
    def make_tills(self, count: int) -> None:
        for n in range(1, count + 1):
            code = f"SH01-0{n}"
            till = make_till(self.templates[code], self.folder, code, f"8866{n:04d}")
            till.enroll(self.proxy.url, enroll_at_hq(self.hq.engine))
            self.tills.append(till)

    def till(self, index: int) -> SyncedTill:
        return self.tills[index % len(self.tills)]

    @rule(index=st.integers(0, 2), count=st.integers(1, 4))
    def trade(self, index: int, count: int) -> None:
        self.till(index).trade(count)

    @rule(index=st.integers(0, 2))
    def push(self, index: int) -> None:
        till = self.till(index)
        outcome = till.push()
        if not self.hq_up:
            assert outcome.result is PushResult.UNREACHABLE, outcome
            return
        assert outcome.ok, outcome
        assert outcome.pending == 0
        assert hq_chain(self.hq.engine, till.code) == till.chain()

    @rule(index=st.integers(0, 2), fault=FAULTS, skip=st.integers(0, 1))
    def push_through_fault(self, index: int, fault: Fault, skip: int) -> None:
        till = self.till(index)
        self.proxy.set_fault(fault, match="/batches", times=1, skip=skip)
        outcome = till.push()
        self.proxy.clear()
        assert outcome.result in (PushResult.DONE, PushResult.UNREACHABLE), outcome

    @precondition(lambda self: self.hq_up)
    @rule()
    def restart_hq(self) -> None:
        self.hq.restart()

    @precondition(lambda self: self.hq_up)
    @rule()
    def take_hq_down(self) -> None:
        self.hq.stop()
        self.hq_up = False

    @precondition(lambda self: not self.hq_up)
    @rule()
    def bring_hq_back(self) -> None:
        self.hq.start()
        self.hq_up = True

    @precondition(lambda self: any("/batches" in r.request_line for r in self.proxy.records))
    @rule()
    def replay_last_batch(self) -> None:
        """The last batch request seen on the wire, sent again byte for byte. If HQ had it,
        the nonce is known (409 sync_replayed); if it never arrived (dropped, cut), it may
        still be taken now — or found stale — but never taken twice."""
        last = [r for r in self.proxy.records if "/batches" in r.request_line][-1]
        again = self.proxy.resend(last)
        if not self.hq_up:
            assert again.status is None
        elif last.status is not None:  # HQ answered the original: it knows the nonce
            assert again.status == 409, again

    @invariant()
    def hq_holds_a_prefix_of_each_ledger_exactly_once(self) -> None:
        total = 0
        for till in self.tills:
            held = hq_chain(self.hq.engine, till.code)
            chain = till.chain()
            assert held == chain[: len(held)]
            assert len(held) >= till.acked_seq()
            if held:
                assert hq_head(self.hq.engine, till.code) == held[-1]
            total += len(held)
        assert hq_entry_count(self.hq.engine) == total
        assert hq_fork_count(self.hq.engine) == 0

    def teardown(self) -> None:
        self.proxy.close()
        self.hq.close()
        for till in self.tills:
            till.close()
        self._database.__exit__(None, None, None)
        shutil.rmtree(self.folder, ignore_errors=True)


class SyncMachineOnPostgres(SyncMachine):
    database_kind = "postgresql"


# No shrinking: a failing run prints its steps as found, and never spends minutes shrinking
# a sequence of real pushes.
MACHINE_SETTINGS = dict(
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    stateful_step_count=15,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_hq_is_the_union_of_the_tills_acked_ledgers_on_sqlite(till_templates):
    SyncMachine.templates = till_templates
    run_state_machine_as_test(SyncMachine, settings=settings(max_examples=15, **MACHINE_SETTINGS))


def test_hq_is_the_union_of_the_tills_acked_ledgers_on_postgres(till_templates):
    SyncMachineOnPostgres.templates = till_templates
    run_state_machine_as_test(
        SyncMachineOnPostgres, settings=settings(max_examples=8, **MACHINE_SETTINGS)
    )


@pytest.fixture(autouse=True)
def _no_template_left_behind():
    yield
    SyncMachine.templates = {}
    SyncMachineOnPostgres.templates = {}
