"""The sync agent: pushes the till's records to HQ from a background thread, so a sale never
waits on the network (docs/sync-protocol.md, "Faults"), and pulls HQ's down feed after each
push HQ answered (docs/chain-protocol.md, "Down").

    agent = SyncAgent(ctx, on_status=...)
    agent.start()
    ctx.commit_listeners.append(agent.nudge)   # a local commit: push soon
    agent.sync_now()                           # a person asked: push now
    agent.stop()                               # the app exits

When to push:
- after a local commit (`nudge`), unless the agent is backing off after a failure: during an
  outage every sale would otherwise retry at once, and many tills together would hammer HQ
  the moment it comes back;
- when a person asks (`sync_now`), even while backing off;
- after a failure, once its back-off has passed: capped exponential with full jitter
  (`backoff_delay`: 1 s doubling to 5 min, the wait drawn uniformly below that ceiling, so
  tills that lost HQ together do not come back in step);
- otherwise every `idle_seconds`, which also keeps HQ's "last seen" fresh.

A fork, or a till not set up for sync, pauses the agent: only `sync_now` (or the idle timer)
tries again, since nothing changes by itself. Plain threads, no Qt: the app hands in a
callback that posts the status to its GUI thread.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pos_app.domain.errors import DomainError
from pos_app.services.context import StoreContext
from pos_app.sync.errors import SyncNotConfigured
from pos_app.sync.puller import PullOutcome, pull
from pos_app.sync.pusher import PushOutcome, PushResult, push
from pos_app.sync.status import SyncStatus, sync_status

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 300.0
IDLE_SECONDS = 60.0


def backoff_ceiling(
    failures: int, first: float = FIRST_RETRY_SECONDS, cap: float = MAX_RETRY_SECONDS
) -> float:
    """The longest wait after `failures` failures in a row: `first`, doubling, at most
    `cap` (0 before any failure)."""
    if failures <= 0:
        return 0.0
    # Past 2**32 × first the cap has long won; the bound keeps the power from overflowing.
    return min(cap, first * 2.0 ** min(failures - 1, 32))


def backoff_delay(
    failures: int,
    draw: float,
    first: float = FIRST_RETRY_SECONDS,
    cap: float = MAX_RETRY_SECONDS,
) -> float:
    """Full jitter: the wait before the next try is `draw` (uniform in [0, 1)) of the
    ceiling, so retries of many tills spread over the whole window."""
    return min(max(draw, 0.0), 1.0) * backoff_ceiling(failures, first, cap)


@dataclass(frozen=True)
class AgentState:
    """The agent's own view, next to the till's `SyncStatus`."""

    failures: int  # pushes that failed in a row (0: the last one went through)
    paused: bool  # a fork, or sync not set up: no push on local commits
    pushing: bool
    last_result: PushResult | None
    next_try_in: float  # seconds until the agent tries by itself


StatusCallback = Callable[[SyncStatus, AgentState], None]


class SyncAgent:
    """Pushes in a thread of its own: woken by local commits, by `sync_now`, by its back-off
    timer and its idle timer; stopped with `stop`."""

    def __init__(
        self,
        ctx: StoreContext,
        *,
        on_status: StatusCallback | None = None,
        idle_seconds: float = IDLE_SECONDS,
        first_retry: float = FIRST_RETRY_SECONDS,
        max_retry: float = MAX_RETRY_SECONDS,
        pusher: Callable[[StoreContext], PushOutcome] = push,
        puller: Callable[[StoreContext], PullOutcome] | None = None,
        draw: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        # The down feed is pulled after each push HQ answered (the idle timer makes that at
        # least every `idle_seconds`); a test's own pusher pulls only if given a puller too.
        self._pull = puller if puller is not None else (pull if pusher is push else None)
        self.pulls = 0
        self.on_status = on_status
        self.idle_seconds = idle_seconds
        self.first_retry, self.max_retry = first_retry, max_retry
        self._push, self._draw, self._clock = pusher, draw, clock
        self._cond = threading.Condition()
        self._nudged = False
        self._urgent = False
        self._stopping = False
        self._failures = 0
        self._paused = False
        self._pushing = False
        self._last: PushResult | None = None
        self._next_push = 0.0
        self._thread: threading.Thread | None = None
        self.pushes = 0  # attempts made (for tests and the log)

    # -- the app's side ----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._next_push = self._clock()  # the first push right away: catch up on start
        self._thread = threading.Thread(target=self._run, name="sync-agent", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """A local commit: push soon (or only refresh the status while backing off). Cheap
        and never raises: it runs at the end of every sale."""
        with self._cond:
            self._nudged = True
            self._cond.notify()

    def sync_now(self) -> None:
        """A person asked: push now, whatever the back-off says."""
        with self._cond:
            self._urgent = True
            self._cond.notify()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the thread: at once while it waits, after the request in flight otherwise
        (each has a timeout). True when it has ended."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def state(self) -> AgentState:
        with self._cond:
            return AgentState(
                failures=self._failures,
                paused=self._paused,
                pushing=self._pushing,
                last_result=self._last,
                next_try_in=max(0.0, self._next_push - self._clock()),
            )

    # -- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    now = self._clock()
                    if (
                        self._urgent
                        or now >= self._next_push
                        or (self._nudged and not self._backing_off())
                    ):
                        push_now = True
                        break
                    if self._nudged:  # backing off: only the status (more is pending)
                        push_now = False
                        break
                    self._cond.wait(self._next_push - now)
                self._urgent = self._nudged = False
                self._pushing = push_now
            if push_now:
                self._attempt()
            self._report()

    def _backing_off(self) -> bool:
        """After a failure, or paused by a fork or a till not set up (lock held)."""
        return self._failures > 0 or self._paused

    def _attempt(self) -> None:
        self.pushes += 1
        result: PushResult | None
        paused = False
        try:
            outcome = self._push(self.ctx)
            result = outcome.result
            paused = result is PushResult.FORK
        except SyncNotConfigured:
            result, paused = None, True
        except DomainError as exc:  # a key file gone, a store not set up: said in the log
            log.warning("sync: not pushed: %s", exc.en)
            result = PushResult.REFUSED
        except Exception:  # noqa: BLE001 — the agent must outlive any bug in a push
            log.exception("sync: the push failed")
            result = PushResult.REFUSED
        if result is not None and result is not PushResult.UNREACHABLE:
            self._attempt_pull()
        with self._cond:
            self._pushing = False
            self._last = result
            self._paused = paused
            if result is PushResult.DONE or paused:
                self._failures = 0
                delay = self.idle_seconds
            else:
                self._failures += 1
                delay = backoff_delay(
                    self._failures, self._draw(), self.first_retry, self.max_retry
                )
            self._next_push = self._clock() + delay
        if result is not PushResult.DONE and not paused:
            log.info("sync: next try in %.1f s (failure %d in a row)", delay, self._failures)

    def _attempt_pull(self) -> None:
        if self._pull is None:
            return
        self.pulls += 1
        try:
            outcome = self._pull(self.ctx)
        except DomainError as exc:  # a till not set up, a key file gone: said in the log
            log.warning("sync: not pulled: %s", exc.en)
            return
        except Exception:  # noqa: BLE001 — the agent must outlive any bug in a pull
            log.exception("sync: the pull failed")
            return
        if not outcome.ok:
            log.info("sync: pull %s: %s", outcome.result.value, outcome.error_en)

    def _report(self) -> None:
        if self.on_status is None:
            return
        try:
            status = sync_status(self.ctx)
            self.on_status(status, self.state())
        except Exception:  # noqa: BLE001 — a status the app cannot show is not worth a crash
            log.exception("sync: the status could not be read")
