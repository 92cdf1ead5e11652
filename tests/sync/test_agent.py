"""The sync agent: its back-off policy (a pure function), and the thread that pushes —
woken by local commits and by "sync now", backing off while HQ is away, paused by a fork or
a till not set up, and stopped at once on exit. The outage tests run the real pusher against
an HQ address nobody answers on."""

from __future__ import annotations

import random
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pos_app.services.checkout import sell
from pos_app.services.context import StoreContext
from pos_app.services.sync_identity import create_key_pair, sync_key_path
from pos_app.sync.agent import (
    MAX_RETRY_SECONDS,
    AgentState,
    SyncAgent,
    backoff_ceiling,
    backoff_delay,
)
from pos_app.sync.pusher import PushOutcome, PushResult
from pos_app.sync.status import SyncStatus
from tests.conftest import StoreFixture
from tests.services.support import ensure_till, req

# -- the policy -------------------------------------------------------------------------------


def test_the_ceiling_starts_at_one_second_doubles_and_stops_at_five_minutes() -> None:
    ceilings = [backoff_ceiling(n) for n in range(0, 12)]
    assert ceilings == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert backoff_ceiling(10_000) == MAX_RETRY_SECONDS == 300  # no overflow, still capped
    assert backoff_ceiling(3, first=0.5, cap=1.0) == 1.0


def test_full_jitter_draws_the_wait_anywhere_below_the_ceiling() -> None:
    assert backoff_delay(0, 0.9) == 0
    assert backoff_delay(1, 0.0) == 0
    assert backoff_delay(4, 0.5) == 4
    assert backoff_delay(20, 0.5) == 150
    assert backoff_delay(20, 1.5) == 300  # a draw out of range is clamped, never beyond cap
    assert backoff_delay(20, -1.0) == 0
    rng = random.Random(13)
    waits = [backoff_delay(12, rng.random()) for _ in range(2_000)]
    # Spread over the whole window (not "ceiling/2 + a little"): tills that lost HQ together
    # come back apart.
    assert 0 <= min(waits) < 5 and 295 < max(waits) < 300
    assert 140 < statistics.mean(waits) < 160


# -- the thread -------------------------------------------------------------------------------


class Script:
    """Push outcomes in order (the last repeats), counting calls; optionally slow."""

    def __init__(self, *results: PushResult, seconds: float = 0.0) -> None:
        self.results = list(results)
        self.calls = 0
        self.seconds = seconds

    def __call__(self, _ctx: StoreContext) -> PushOutcome:
        self.calls += 1
        if self.seconds:
            time.sleep(self.seconds)
        result = self.results[min(self.calls - 1, len(self.results) - 1)]
        return PushOutcome(result)


class Seen:
    """What the agent reported to the app, from its thread."""

    def __init__(self) -> None:
        self.reports: list[tuple[SyncStatus, AgentState]] = []
        self.lock = threading.Lock()

    def __call__(self, status: SyncStatus, state: AgentState) -> None:
        with self.lock:
            self.reports.append((status, state))

    @property
    def last(self) -> tuple[SyncStatus, AgentState]:
        with self.lock:
            return self.reports[-1]

    def __len__(self) -> int:
        with self.lock:
            return len(self.reports)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def stays(condition: Callable[[], bool], seconds: float = 0.3) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not condition():
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def agents() -> Iterator[list[SyncAgent]]:
    made: list[SyncAgent] = []
    yield made
    for agent in made:
        assert agent.stop(5.0)


def make_agent(
    store: StoreFixture, made: list[SyncAgent], seen: Seen | None = None, **kwargs: Any
) -> SyncAgent:
    agent = SyncAgent(store.ctx, on_status=seen, **kwargs)
    made.append(agent)
    store.ctx.commit_listeners.append(agent.nudge)
    agent.start()
    return agent


def test_a_sale_wakes_the_agent_and_pushes_pile_up_into_one(
    store: StoreFixture, agents: list[SyncAgent]
) -> None:
    script = Script(PushResult.DONE, seconds=0.2)
    seen = Seen()
    agent = make_agent(store, agents, seen, pusher=script, idle_seconds=60)
    wait_for(lambda: script.calls == 1 and not agent.state().pushing)  # the catch-up on start
    assert stays(lambda: script.calls == 1)  # nothing more until something happens
    ensure_till(store)  # importing goods and opening the shift commit: pushes
    wait_for(lambda: script.calls >= 2 and stays(lambda: not agent.state().pushing, 0.3))
    before = script.calls
    for _ in range(5):  # five sales while the agent pushes: one or two more pushes, not five
        sell(store.ctx, store.cashier, req(("X001", 1)))
    wait_for(lambda: not agent.state().pushing and stays(lambda: not agent.state().pushing, 0.3))
    assert before < script.calls <= before + 2
    status, state = seen.last
    assert state.failures == 0 and state.last_result is PushResult.DONE
    assert status.till_id == "SH01-01"


def test_a_failed_push_backs_off_and_a_person_can_still_sync_now(
    store: StoreFixture, agents: list[SyncAgent]
) -> None:
    script = Script(PushResult.UNREACHABLE, PushResult.UNREACHABLE, PushResult.DONE)
    seen = Seen()
    agent = make_agent(
        store, agents, seen, pusher=script, first_retry=30, draw=lambda: 0.999, idle_seconds=60
    )
    wait_for(lambda: script.calls == 1 and agent.state().failures == 1)
    assert 25 < agent.state().next_try_in <= 30
    reports = len(seen)
    ensure_till(store)  # a commit while backing off: the status is refreshed, no push
    wait_for(lambda: len(seen) > reports)
    assert stays(lambda: script.calls == 1)
    agent.sync_now()  # the button: pushes at once, back-off or not
    wait_for(lambda: script.calls == 2 and agent.state().failures == 2)
    assert 55 < agent.state().next_try_in <= 60  # 30 s doubled, the draw at the top
    agent.sync_now()
    wait_for(lambda: script.calls == 3 and agent.state().failures == 0)
    assert agent.state().last_result is PushResult.DONE


def test_retries_follow_the_back_off_by_themselves(
    store: StoreFixture, agents: list[SyncAgent]
) -> None:
    script = Script(PushResult.UNREACHABLE)
    started = time.monotonic()
    agent = make_agent(store, agents, pusher=script, first_retry=0.05, max_retry=0.2)
    wait_for(lambda: script.calls >= 6)
    # 0.05 + 0.1 + 0.2 + 0.2 + 0.2 s at most (draws below the ceiling): well under 2 s.
    assert time.monotonic() - started < 2.0
    assert agent.state().failures >= 5


def test_a_fork_pauses_the_agent_until_someone_asks(
    store: StoreFixture, agents: list[SyncAgent]
) -> None:
    script = Script(PushResult.FORK)
    agent = make_agent(store, agents, pusher=script, idle_seconds=60)
    wait_for(lambda: script.calls == 1 and agent.state().paused)
    ensure_till(store)
    sell(store.ctx, store.cashier, req(("X001", 1)))
    assert stays(lambda: script.calls == 1)
    agent.sync_now()
    wait_for(lambda: script.calls == 2)


def test_a_push_that_crashes_does_not_end_the_agent(
    store: StoreFixture, agents: list[SyncAgent]
) -> None:
    calls: list[int] = []

    def broken(_ctx: StoreContext) -> PushOutcome:
        calls.append(1)
        raise RuntimeError("a bug in a push")

    agent = make_agent(store, agents, pusher=broken, first_retry=0.02, max_retry=0.05)
    wait_for(lambda: len(calls) >= 3)
    assert agent.running and agent.state().failures >= 2


def test_stop_ends_a_waiting_agent_at_once(store: StoreFixture, agents: list[SyncAgent]) -> None:
    script = Script(PushResult.DONE)
    agent = make_agent(store, agents, pusher=script, idle_seconds=3600)
    wait_for(lambda: script.calls == 1)
    started = time.monotonic()
    assert agent.stop(5.0)
    assert time.monotonic() - started < 0.5
    assert not agent.running


# -- with the real pusher ---------------------------------------------------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def set_up_sync(store: StoreFixture, hq_url: str) -> None:
    """What `pos-app sync setup` leaves once HQ has said yes: the key pair and sync_state."""
    ctx = store.ctx
    # Every test store is a copy of one template (till SH01-01) sharing this run's key
    # folder, as restored copies would: the first test to set up sync makes the key.
    if not sync_key_path(ctx.key_dir, ctx.till_id).exists():
        create_key_pair(ctx.key_dir, ctx.till_id)
    with ctx.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO sync_state (id, hq_url, store_code, enrolled_at) VALUES (1, ?, ?, ?)",
            (hq_url, ctx.store.code, ctx.now_iso()),
        )


def test_while_hq_is_away_the_real_pusher_records_the_outage_and_the_agent_backs_off(
    store: StoreFixture, agents: list[SyncAgent]
) -> None:
    set_up_sync(store, f"http://127.0.0.1:{closed_port()}")
    seen = Seen()
    agent = make_agent(store, agents, seen, first_retry=0.05, max_retry=0.1)
    wait_for(lambda: agent.state().failures >= 3, timeout=15)
    status, state = seen.last
    assert status.configured and status.unreachable_since is not None
    assert status.pending > 0 and status.acked_seq == 0
    assert state.last_result is PushResult.UNREACHABLE
    # A sale in the outage is not held up by it.
    ensure_till(store)
    started = time.monotonic()
    sell(store.ctx, store.cashier, req(("X001", 1)))
    assert time.monotonic() - started < 1.0
    wait_for(lambda: seen.last[0].pending > status.pending)


def test_a_till_not_set_up_pauses_the_agent(store: StoreFixture, agents: list[SyncAgent]) -> None:
    seen = Seen()
    agent = make_agent(store, agents, seen, idle_seconds=60)
    wait_for(lambda: agent.state().paused and len(seen) >= 1)
    status, state = seen.last
    assert not status.configured and state.failures == 0
    before = agent.pushes
    ensure_till(store)
    assert stays(lambda: agent.pushes == before)


def test_the_agent_pulls_after_each_push_hq_answered(
    store: StoreFixture, agents: list[SyncAgent]
) -> None:
    from pos_app.sync.puller import PullOutcome, PullResult

    pulls: list[int] = []

    def puller(_ctx: StoreContext) -> PullOutcome:
        pulls.append(1)
        return PullOutcome(PullResult.DONE)

    script = Script(PushResult.DONE, PushResult.UNREACHABLE, PushResult.DONE)
    agent = make_agent(
        store, agents, pusher=script, puller=puller, idle_seconds=0.05, first_retry=0.01
    )
    wait_for(lambda: script.calls >= 3)
    assert agent.stop(5.0)
    # The idle timer pushes (and so pulls) again and again; an unreachable push pulls not.
    assert len(pulls) == script.calls - 1
