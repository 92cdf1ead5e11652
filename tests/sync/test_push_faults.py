"""A till's push through a faulty network, then a clean push: HQ must end holding exactly the
till's ledger — every (seq, hash), no more rows, no fork — whatever the fault did.

HQ is the real server (uvicorn on loopback) on SQLite and on PostgreSQL; the till is a real
store that sold and topped up; the fault proxy sits between them."""

from __future__ import annotations

import json

import pytest

from pos_app.sync.pusher import PushResult
from tests.sync.support import add_entries
from tests.sync_support.fault_proxy import Fault
from tests.sync_support.tills import (
    SyncedTill,
    enroll_at_hq,
    hq_chain,
    hq_entry_count,
    hq_fork_count,
    hq_head,
)

BATCHES = "POST /v1/tills/"

# fault → what the faulty push reports, and whether HQ took the batch
FAULTS = {
    "drop": (Fault.drop(), PushResult.UNREACHABLE, False),
    "delay": (Fault.delay(300), PushResult.DONE, True),
    "cut_body": (Fault.cut_body(900), PushResult.UNREACHABLE, False),
    "cut_response": (Fault.cut_response(), PushResult.UNREACHABLE, True),
    "duplicate": (Fault.duplicate(), PushResult.DONE, True),
}


def assert_hq_holds_exactly(hq, *tills: SyncedTill) -> None:
    for till in tills:
        assert hq_chain(hq.engine, till.code) == till.chain()
        assert hq_head(hq.engine, till.code) == till.chain()[-1]
        assert till.acked_seq() == till.chain()[-1][0]
        assert till.status().pending == 0
    assert hq_entry_count(hq.engine) == sum(len(t.chain()) for t in tills)
    assert hq_fork_count(hq.engine) == 0


@pytest.fixture
def hq(hq_inproc):
    """Here HQ is the in-process server the proxy fronts (not conftest's process)."""
    return hq_inproc


@pytest.fixture
def till(hq, proxy, new_till) -> SyncedTill:
    till = new_till("SH01-01")
    till.enroll(proxy.url, enroll_at_hq(hq.engine))
    till.trade(12)
    return till


@pytest.mark.parametrize("name", FAULTS)
def test_one_fault_then_a_clean_push_leaves_hq_with_exactly_the_ledger(name, hq, proxy, till):
    fault, reported, taken = FAULTS[name]
    proxy.set_fault(fault, match=BATCHES, times=1)
    first = till.push()
    assert first.result is reported, first
    assert proxy.faults_left() == 0  # the fault did hit the batch
    held = hq_chain(hq.engine, till.code)
    assert held == (till.chain() if taken else [])
    if not first.ok:
        assert till.status().pending > 0
        assert till.status().unreachable_since is not None

    second = till.push()
    assert second.ok, second
    if name == "cut_response":
        # HQ had it all: the till learns so from /head and resends nothing.
        assert (second.sent_entries, second.batches) == (0, 0)
    assert_hq_holds_exactly(hq, till)
    assert till.status().unreachable_since is None


def test_a_replayed_batch_is_refused_as_a_replay_and_changes_nothing(hq, proxy, till):
    proxy.set_fault(Fault.duplicate(), match=BATCHES, times=1)
    assert till.push().ok
    [replay] = proxy.replays
    assert replay.status == 409
    assert json.loads(replay.body)["code"] == "sync_replayed"
    assert_hq_holds_exactly(hq, till)


@pytest.mark.parametrize("name", ["drop", "cut_body", "cut_response"])
def test_a_fault_in_the_middle_of_a_long_push(name, hq, proxy, till):
    """A backlog of several batches, the fault on the second: HQ keeps the first (and the
    second when only its answer was lost), and the next push continues from there."""
    add_entries(till.store, 1100)  # more than one batch
    till.trade(3)  # and rows after the entries
    fault, _, taken = FAULTS[name]
    proxy.set_fault(fault, match=BATCHES, times=1, skip=1)
    first = till.push()
    assert first.result is PushResult.UNREACHABLE
    acked = hq_head(hq.engine, till.code)[0]
    assert acked >= 1000 if taken else 0 < acked <= 1000
    assert hq_chain(hq.engine, till.code) == till.chain()[:acked]
    assert till.push().ok
    assert_hq_holds_exactly(hq, till)


def test_slow_network_every_request_delayed(hq, proxy, till):
    proxy.set_fault(Fault.delay(100))
    outcome = till.push()
    assert outcome.ok
    assert_hq_holds_exactly(hq, till)


def test_hq_down_then_up_again(hq, proxy, till):
    proxy.set_fault(Fault.drop())
    outcomes = [till.push() for _ in range(3)]
    assert all(o.result is PushResult.UNREACHABLE for o in outcomes)
    since = till.status().unreachable_since
    assert since is not None
    till.trade(5)
    assert till.status().unreachable_since == since  # the outage's start is kept
    proxy.clear()
    assert till.push().ok
    assert_hq_holds_exactly(hq, till)
