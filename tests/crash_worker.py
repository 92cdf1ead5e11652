"""Child process for tests/test_crash.py: tops up one card in a loop until it is killed.

Two ways to run it (both are real, separate Python processes the test kills with SIGKILL):

    python tests/crash_worker.py life DATA_DIR CARD_NO TAG SEED
        One life: open the store, sign in once, then top up again and again.

    python tests/crash_worker.py serve DATA_DIR CARD_NO
        A fork server: imports everything once, then for each "life TAG SEED" line on stdin
        forks a child that lives exactly as above; "reap TAG" waits for that child (after the
        test killed it) and reports its exit status. Forking skips the ~0.5 s of imports a
        fresh interpreter needs, so hundreds of kills fit in a test run.

The operator's login and password come from the environment (POS_CRASH_LOGIN,
POS_CRASH_PASSWORD). Protocol on stdout, one line per event, each written with a single
unbuffered os.write (atomic on a pipe, and in the kernel the moment the call returns, so a
line written before SIGKILL is never lost):

    PID tag pid                 (server) a life was forked
    READY tag                   the store is open and the operator signed in
    BEGIN tag ref amount        a top-up service call is about to start
    LOCKED tag ref              ... its BEGIN IMMEDIATE holds the write lock (SQLAlchemy event)
    COMMITTED tag ref           ... its COMMIT returned (Session after_commit event)
    ACK tag ref entry_id amount bonus   ... the call returned: the top-up is acknowledged
    FAIL tag message            the life raised (a bug: the test fails)
    EXIT tag status             (server) the killed life was reaped
"""

from __future__ import annotations

import os
import random
import sys
import time
import traceback

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from pos_app.services.context import open_store
from pos_app.services.sign_in import sign_in
from pos_app.services.stored_value import top_up

# Amounts in fen: below and above the bonus thresholds (500 and 1000 yuan) and the tier
# thresholds (1000 and 3000 yuan), so some top-ups write two or three entries at once.
AMOUNTS = (5_000, 10_000, 12_345, 50_000, 66_600, 100_000, 300_000)
TENDERS = ("cash", "bank", "wechat", "alipay")
MAX_LIFE_SECONDS = 60.0  # a life the test forgot to kill ends by itself


def emit(line: str) -> None:
    os.write(1, (line + "\n").encode())


def life(data_dir: str, card_no: str, tag: str, seed: int) -> None:
    rng = random.Random(seed)
    parent = os.getppid()
    started = time.monotonic()
    ctx = open_store(data_dir)
    actor = sign_in(ctx, os.environ["POS_CRASH_LOGIN"], os.environ["POS_CRASH_PASSWORD"])
    current: list[str] = []  # the reference of the top-up in progress, if any

    # Registered after db.engine's own "begin" listener, so this runs once BEGIN IMMEDIATE
    # has taken the write lock: from here until COMMIT a transaction is open.
    # Read transactions (BEGIN DEFERRED, e.g. loading the store row) are not counted.
    @event.listens_for(ctx.engine, "begin")
    def _locked(conn: Connection) -> None:
        if current and conn.get_execution_options().get("begin", "IMMEDIATE") == "IMMEDIATE":
            emit(f"LOCKED {tag} {current[0]}")

    @event.listens_for(Session, "after_commit")
    def _committed(session: Session) -> None:
        options = session.get_bind().get_execution_options()
        if current and options.get("begin", "IMMEDIATE") == "IMMEDIATE":
            emit(f"COMMITTED {tag} {current[0]}")

    emit(f"READY {tag}")
    i = 0
    while time.monotonic() - started < MAX_LIFE_SECONDS and os.getppid() == parent:
        i += 1
        ref = f"{tag}.{i}"
        amount = rng.choice(AMOUNTS)
        current[:] = [ref]
        emit(f"BEGIN {tag} {ref} {amount}")
        result = top_up(ctx, actor, card_no, amount, tender=rng.choice(TENDERS), reference=ref)
        current.clear()
        emit(f"ACK {tag} {ref} {result.entry_id} {result.amount_fen} {result.bonus_fen}")


def guarded_life(data_dir: str, card_no: str, tag: str, seed: int) -> int:
    try:
        life(data_dir, card_no, tag, seed)
    except BaseException as exc:  # report anything, then die: the test fails on FAIL
        traceback.print_exc()
        emit(f"FAIL {tag} {type(exc).__name__}: {exc}".replace("\n", " ")[:400])
        return 2
    return 0


def serve(data_dir: str, card_no: str) -> None:
    children: dict[str, int] = {}
    for line in sys.stdin:
        command = line.split()
        if not command:
            continue
        if command[0] == "life":
            tag, seed = command[1], int(command[2])
            pid = os.fork()
            if pid == 0:  # the child: never returns into this loop
                os._exit(guarded_life(data_dir, card_no, tag, seed))
            children[tag] = pid
            emit(f"PID {tag} {pid}")
        elif command[0] == "reap":
            # The child stays a zombie (its pid cannot be reused) until the test has killed it.
            tag = command[1]
            _, status = os.waitpid(children.pop(tag), 0)
            emit(f"EXIT {tag} {status}")
        elif command[0] == "quit":
            break
    for pid in children.values():  # only if the test went away without reaping
        os.waitpid(pid, 0)


def main(argv: list[str]) -> int:
    if argv[:1] == ["life"] and len(argv) == 5:
        _, data_dir, card_no, tag, seed = argv
        return guarded_life(data_dir, card_no, tag, int(seed))
    if argv[:1] == ["serve"] and len(argv) == 3:
        serve(argv[1], argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
