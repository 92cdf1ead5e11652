"""Power can fail at any instant (PRODUCT §13): kill a till process mid-work, many times.

A child process (tests/crash_worker.py) opens the store, signs in, and tops up one card in a
loop, writing an acknowledgement after each top-up returns. The test kills it with SIGKILL
after a random delay — often a very short one, so many kills land inside a transaction —
and starts another, POS_CRASH_KILLS times (200 by default, and in CI). Afterwards the ledger
must verify, every acknowledged top-up must be in it, the card must hold exactly what the
ledger's top-ups add up to, and the sequence must have no gap.

Most lives are forked from a server process that has already imported the app (a fresh
interpreter costs ~0.5 s of imports); every POS_CRASH_SPAWN_EVERY-th life (default 10) is a
brand-new `python tests/crash_worker.py` process, and all are when fork is not available.
POS_CRASH_SEED makes the kill schedule repeatable.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import select

from db.engine import read_session
from db.models import Card, LedgerEntry
from pos_app.domain.entry_kinds import EntryKind
from pos_app.services import members
from pos_app.services.cards import issue_card
from pos_app.services.context import DB_FILENAME, open_store
from pos_app.services.verify import verify_ledger
from tests.conftest import PASSWORD

REPO = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "crash_worker.py"
CARD_NO = "66660001"
KILL = getattr(signal, "SIGKILL", signal.SIGTERM)
LINE_TIMEOUT = 60.0

pytestmark = pytest.mark.slow


def _kills() -> int:
    return int(os.environ.get("POS_CRASH_KILLS", "200"))


class Lines:
    """Lines from a child's stdout, read by a thread so the test can wait with a timeout."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self._queue.put(raw.decode().rstrip("\n"))
        self._queue.put(None)

    def next(self) -> str | None:
        """The next line, or None at end of file."""
        try:
            return self._queue.get(timeout=LINE_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no output from the worker for {LINE_TIMEOUT} s") from None


@dataclass
class Life:
    tag: str
    fresh: bool  # a new interpreter (True) or forked from the server
    kill_while: str  # "starting" (random moment after start) or "working" (after READY)
    delay: float
    ready: bool = False
    began: list[tuple[str, int]] = field(default_factory=list)
    locked: set[str] = field(default_factory=set)
    committed: set[str] = field(default_factory=set)
    acked: dict[str, tuple[str, int, int]] = field(default_factory=dict)

    def take(self, line: str, stderr: Path) -> None:
        """Record one protocol line of this life."""
        word, *rest = line.split(" ")
        if word == "FAIL":
            raise AssertionError(f"worker life failed: {line}\n{stderr.read_text()[-3000:]}")
        assert rest and rest[0] == self.tag, f"line of another life: {line!r}"
        if word == "READY":
            self.ready = True
        elif word == "BEGIN":
            self.began.append((rest[1], int(rest[2])))
        elif word == "LOCKED":
            self.locked.add(rest[1])
        elif word == "COMMITTED":
            self.committed.add(rest[1])
        elif word == "ACK":
            assert self.began and self.began[-1][0] == rest[1], line
            self.acked[rest[1]] = (rest[2], int(rest[3]), int(rest[4]))

    @property
    def killed_at(self) -> str:
        """Where in the top-up loop the kill landed."""
        flight = self.in_flight
        if flight is None:
            return "while starting (before any top-up)" if not self.began else "between top-ups"
        ref = flight[0]
        if ref in self.committed:
            return "after COMMIT, before the call returned"
        if ref in self.locked:
            return "inside the transaction (write lock held)"
        return "in the call, before BEGIN IMMEDIATE"

    @property
    def in_flight(self) -> tuple[str, int] | None:
        """The top-up the kill interrupted: begun, never acknowledged."""
        if self.began and self.began[-1][0] not in self.acked:
            return self.began[-1]
        return None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["POS_CRASH_LOGIN"] = "cashier"
    env["POS_CRASH_PASSWORD"] = PASSWORD
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _wait_ready(life: Life, lines: Lines, stderr: Path) -> None:
    while not life.ready:
        line = lines.next()
        if line is None:
            raise AssertionError(f"worker ended before READY\n{stderr.read_text()[-3000:]}")
        life.take(line, stderr)


def _spawned_life(life: Life, data_dir: Path, seed: int, stderr: Path) -> None:
    with stderr.open("ab") as err:
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "life", str(data_dir), CARD_NO, life.tag, str(seed)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=REPO,
            env=_env(),
        )
    try:
        assert proc.stdout is not None
        lines = Lines(proc.stdout)
        if life.kill_while == "working":
            _wait_ready(life, lines, stderr)
        time.sleep(life.delay)
        proc.send_signal(KILL)
        while (line := lines.next()) is not None:
            life.take(line, stderr)
    finally:
        proc.kill()  # a no-op once it is dead; Popen never signals a reaped pid
        proc.wait(timeout=30)
    assert proc.returncode == -KILL or os.name == "nt", f"exit {proc.returncode}, not killed"


class ForkServer:
    def __init__(self, data_dir: Path, stderr: Path) -> None:
        self.stderr = stderr
        with stderr.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER), "serve", str(data_dir), CARD_NO],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=REPO,
                env=_env(),
            )
        assert self.proc.stdout is not None
        self.lines = Lines(self.proc.stdout)

    def _send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()

    def _next(self) -> str:
        line = self.lines.next()
        if line is None:
            raise AssertionError(f"fork server died\n{self.stderr.read_text()[-3000:]}")
        return line

    def run(self, life: Life, seed: int) -> None:
        self._send(f"life {life.tag} {seed}")
        word, tag, pid_text = self._next().split(" ")
        assert (word, tag) == ("PID", life.tag)
        pid = int(pid_text)
        try:
            if life.kill_while == "working":
                while not life.ready:
                    life.take(self._next(), self.stderr)
            time.sleep(life.delay)
        finally:
            # Safe: the server reaps this pid only after "reap", so it cannot have been reused.
            os.kill(pid, KILL)
            self._send(f"reap {life.tag}")
        while True:
            line = self._next()
            if line.startswith("EXIT "):
                _, tag, status = line.split(" ")
                assert tag == life.tag
                assert os.WIFSIGNALED(int(status)) and os.WTERMSIG(int(status)) == KILL, (
                    f"life {tag} ended with status {status}, not by the kill"
                )
                return
            life.take(line, self.stderr)

    def close(self) -> None:
        try:
            self._send("quit")
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


@dataclass(frozen=True)
class Topup:
    entry_id: str
    ref: str
    principal_delta: int
    bonus_delta: int


def _plan(rng: random.Random, index: int, fresh: bool) -> Life:
    """When to kill: mostly soon after READY (inside the top-up loop), sometimes during start."""
    tag = f"L{index}"
    roll = rng.random()
    if roll < 0.1:  # while opening the store / signing in (a fresh interpreter takes longer)
        return Life(tag, fresh, "starting", rng.uniform(0, 0.8 if fresh else 0.12))
    if roll < 0.45:  # very short: often before or inside the first transaction
        return Life(tag, fresh, "working", rng.uniform(0, 0.004))
    if roll < 0.9:
        return Life(tag, fresh, "working", rng.uniform(0, 0.06))
    return Life(tag, fresh, "working", rng.uniform(0.06, 0.3))


def test_sigkill_at_random_moments_never_loses_or_half_writes_a_top_up(store, tmp_path):
    kills = _kills()
    seed = int(os.environ.get("POS_CRASH_SEED", str(random.randrange(10**9))))
    print(f"crash test seed {seed} (set POS_CRASH_SEED to repeat the kill schedule)")
    rng = random.Random(seed)
    spawn_every = max(1, int(os.environ.get("POS_CRASH_SPAWN_EVERY", "10")))
    can_fork = hasattr(os, "fork")

    member = members.register_member(store.ctx, store.cashier, "13900139000", "崩溃测试")
    issue_card(store.ctx, store.cashier, member.member_no, CARD_NO)
    store.at_till(store.cashier)  # the workers top up in the cashier's shift
    store.ctx.engine.dispose()
    data_dir, stderr = store.data_dir, tmp_path / "worker-stderr.txt"
    stderr.touch()

    started = time.monotonic()
    lives: list[Life] = []
    server = ForkServer(data_dir, stderr) if can_fork else None
    try:
        for i in range(kills):
            fresh = server is None or i % spawn_every == 0
            life = _plan(rng, i, fresh)
            lives.append(life)
            if fresh:
                _spawned_life(life, data_dir, rng.randrange(10**9), stderr)
            else:
                assert server is not None
                server.run(life, rng.randrange(10**9))
    finally:
        if server is not None:
            server.close()
    elapsed = time.monotonic() - started

    # The store after the last kill, opened the way the till would open it on restart.
    ctx = open_store(data_dir)
    try:
        report = verify_ledger(ctx)
        assert report.ok, report.problems[:10]
        with read_session(ctx.engine) as s:
            card = s.scalars(select(Card).where(Card.card_no == CARD_NO)).one()
            card_principal, card_bonus = card.principal_fen, card.bonus_fen
            seqs = list(s.scalars(select(LedgerEntry.store_seq).order_by(LedgerEntry.store_seq)))
            topups = [
                Topup(
                    e.entry_id, json.loads(e.payload)["reference"], e.principal_delta, e.bonus_delta
                )
                for e in s.scalars(
                    select(LedgerEntry).where(
                        LedgerEntry.card_id == card.id, LedgerEntry.kind == EntryKind.TOPUP
                    )
                )
            ]
            money_moves = set(
                s.scalars(
                    select(LedgerEntry.entry_id).where(
                        LedgerEntry.card_id == card.id,
                        (LedgerEntry.principal_delta != 0) | (LedgerEntry.bonus_delta != 0),
                    )
                )
            )
    finally:
        ctx.engine.dispose()

    assert seqs == list(range(1, len(seqs) + 1)), "store_seq has a gap"
    by_ref = {t.ref: t for t in topups}
    assert len(by_ref) == len(topups), "one top-up recorded twice"
    assert money_moves == {t.entry_id for t in topups}, "money moved by something else"

    acked = {ref: ack for life in lives for ref, ack in life.acked.items()}
    in_flight = {f[0]: f[1] for life in lives if (f := life.in_flight)}
    for ref, (entry_id, amount, bonus) in acked.items():
        entry = by_ref.get(ref)
        assert entry is not None, f"acknowledged top-up {ref} ({entry_id}) is not in the ledger"
        assert (entry.entry_id, entry.principal_delta, entry.bonus_delta) == (
            entry_id,
            amount,
            bonus,
        )
    phantoms = set(by_ref) - set(acked) - set(in_flight)
    assert not phantoms, f"top-ups in the ledger that no life ever began: {sorted(phantoms)[:5]}"
    landed = {ref for ref in in_flight if ref in by_ref}
    for ref in landed:
        assert by_ref[ref].principal_delta == in_flight[ref]
    where = Counter(life.killed_at for life in lives)
    for life in lives:
        if life.in_flight is None:
            continue
        ref = life.in_flight[0]
        if ref in life.committed:
            assert ref in by_ref, f"{ref} committed but is not in the ledger"
        if ref not in life.locked:
            assert ref not in by_ref, f"{ref} is in the ledger but never took the write lock"
    open_txn = [life for life in lives if life.killed_at.startswith("inside")]
    open_landed = sum(life.in_flight[0] in by_ref for life in open_txn if life.in_flight)

    assert card_principal == sum(t.principal_delta for t in topups)
    assert card_bonus == sum(t.bonus_delta for t in topups)
    assert card_principal == sum(a[1] for a in acked.values()) + sum(
        in_flight[ref] for ref in landed
    )

    with sqlite3.connect(data_dir / DB_FILENAME) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    raw.close()

    phases = Counter(life.kill_while for life in lives)
    print(
        f"\ncrash test (seed {seed}): {len(lives)} kills in {elapsed:.1f} s "
        f"({sum(life.fresh for life in lives)} fresh interpreters, the rest forked); "
        f"kills while starting: {phases['starting']}, while working: {phases['working']}; "
        f"acknowledged top-ups: {len(acked)}; ledger top-ups: {len(topups)}, "
        f"entries: {len(seqs)}; killed inside a top-up call: {len(in_flight)} "
        f"({len(landed)} had committed before the kill, "
        f"{len(in_flight) - len(landed)} left nothing behind); where the kills "
        f"landed: {dict(where)}; of the {len(open_txn)} killed with the transaction open, "
        f"{open_landed} had got as far as committing"
    )
    assert len(lives) >= kills
