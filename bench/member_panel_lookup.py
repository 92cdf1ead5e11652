"""Benchmark: a card tapped at the till to a filled member panel, in a store of a million
members, against a bare indexed SELECT of the member by card number.

    .venv/bin/python bench/member_panel_lookup.py [--db .bench-tmp/lookup-1m] [--cards 200]

The store is the one `member_lookup.py` builds (1,000,000 members imported from a generated
CSV, built on first use and reused from --db). The till is built on it by `build_till`
(offscreen Qt, Chinese UI) with only a simulated card reader (`sim:card`) in a folder of its
own, and the cashier signs in. For random issued cards of the store it times:

- the till's path: from `SimCardSource.present(card_no)` (the reader's thread reports the
  card, the hub re-emits it on the GUI thread, the checkout screen asks `member_panel` on the
  database worker, the answer comes back to the GUI thread and fills the panel) to the
  checkout screen's `sig_member_loaded`, emitted once the panel's labels are filled;
- the service alone on the same thread as the benchmark: `member_panel.member_panel(card_no=…)`
  (the member, their cards, usable coupons, service cards, last purchase, alerts);
- the physical floor: the member's row by card number, one indexed SELECT on an open sqlite3
  connection (and, for reference, `member_lookup.py`'s join of the member with all their
  cards).

Paths alternate in rounds of 20 cards, in rotating order. Prints p50/p95 of each and the
ratio of the till's path to the floor.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is first imported

from common import DEFAULT_TMP, PASSWORD, percentile
from member_lookup import RAW_BY_CARD, build_or_reuse, sample_keys

from pos_app.services.context import DB_FILENAME
from pos_app.services.member_panel import MemberPanel, member_panel
from pos_app.services.sign_in import sign_in

RAW_MEMBER_BY_CARD = """
SELECT m.* FROM card AS k JOIN member AS m ON m.id = k.member_id WHERE k.card_no = ?
"""
TILL_DEVICES = '[devices]\ncard_sources = ["sim:card"]\n'
ROUND = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_TMP / "lookup-1m", help="store dir")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--cards", type=int, default=200, help="cards tapped")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    from PySide6.QtCore import QEventLoop, QTimer

    from pos_app.ui.operations import pending_operations
    from pos_app.ui.till_app import build_till, close_till

    ctx, _, _ = build_or_reuse(args.db, args.members)
    cards, _ = sample_keys(args.db, args.cards + args.warmup, args.seed)
    till_dir = args.db.parent / "member-panel-till"
    till_dir.mkdir(parents=True, exist_ok=True)
    (till_dir / "settings.toml").write_text(TILL_DEVICES, encoding="utf-8")

    window = build_till(ctx, till_dir, language="zh_CN")
    window.show()
    cashier = sign_in(ctx, "cashier", PASSWORD)
    window.session.signed_in(cashier, None)
    hub = window.session.devices
    screen = window.checkout_screen

    def run_until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(1)
        deadline = time.monotonic() + timeout
        timer.timeout.connect(lambda: loop.quit() if cond() or time.monotonic() > deadline else 0)
        timer.start()
        loop.exec()
        timer.stop()
        if not cond():
            raise SystemExit("timed out")

    run_until(lambda: hub.sim_card_source() is not None and pending_operations() == 0)
    source = hub.sim_card_source()
    assert source is not None
    assert window.stack.currentWidget() is screen and hub.cards_are_for(screen)

    # One tap: from present() to sig_member_loaded, with the loop woken by the signal itself.
    loop = QEventLoop()
    loaded: list[tuple[float, MemberPanel]] = []

    def on_loaded(panel: MemberPanel) -> None:
        loaded.append((time.perf_counter(), panel))
        loop.quit()

    screen.sig_member_loaded.connect(on_loaded)
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)

    def tap(card_no: str) -> float:
        loaded.clear()
        started = time.perf_counter()
        source.present(card_no, kind="ic")
        guard.start(10_000)
        loop.exec()
        guard.stop()
        if not loaded:
            raise SystemExit(f"no member panel for a card (alert: {window.alert_bar.text!r})")
        at, panel = loaded[0]
        assert panel.presented_card_no == card_no
        return at - started

    raw = sqlite3.connect(args.db / DB_FILENAME, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")

    def raw_member(card_no: str) -> float:
        started = time.perf_counter()
        row = raw.execute(RAW_MEMBER_BY_CARD, (card_no,)).fetchone()
        seconds = time.perf_counter() - started
        assert row is not None
        return seconds

    def raw_join(card_no: str) -> float:
        started = time.perf_counter()
        rows = raw.execute(RAW_BY_CARD, (card_no,)).fetchall()
        seconds = time.perf_counter() - started
        assert rows
        return seconds

    def service(card_no: str) -> float:
        started = time.perf_counter()
        member_panel(ctx, cashier, card_no=card_no)
        return time.perf_counter() - started

    paths: dict[str, Callable[[str], float]] = {
        "till": tap,
        "service": service,
        "raw_join": raw_join,
        "raw_member": raw_member,
    }
    warm, timed = cards[: args.warmup], cards[args.warmup :]
    for fn in paths.values():
        for card_no in warm:
            fn(card_no)
    results: dict[str, list[float]] = {k: [] for k in paths}
    names = list(paths)
    for n, i in enumerate(range(0, len(timed), ROUND)):
        # Rotate which path meets a round's cards first (and so reads their pages cold).
        order = names[n % len(names) :] + names[: n % len(names)]
        for key in order:
            results[key] += [paths[key](card_no) for card_no in timed[i : i + ROUND]]
    raw.close()
    close_till(window)

    labels = {
        "till": "card tap → sig_member_loaded (till)",
        "service": "member_panel.member_panel(card_no=…)",
        "raw_join": "raw SELECT member + all cards",
        "raw_member": "raw SELECT member row by card (floor)",
    }
    print(f"{len(timed)} cards tapped in a store of {args.members:,} members ({args.db})")
    print(f"{'path':<42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for key, label in labels.items():
        samples = results[key]
        print(
            f"{label:<42} {percentile(samples, 50) * 1e3:8.3f} "
            f"{percentile(samples, 95) * 1e3:8.3f} {max(samples) * 1e3:8.3f}"
        )
    t50, t95 = percentile(results["till"], 50), percentile(results["till"], 95)
    s50 = percentile(results["service"], 50)
    r50, r95 = percentile(results["raw_member"], 50), percentile(results["raw_member"], 95)
    print(
        f"card to member panel p50 {t50 * 1e3:.2f} ms (p95 {t95 * 1e3:.2f}) vs raw indexed "
        f"SELECT p50 {r50 * 1e3:.3f} ms (p95 {r95 * 1e3:.3f}) → ratio {t50 / r50:.0f}; the "
        f"service alone p50 {s50 * 1e3:.2f} ms (ratio {s50 / r50:.0f}), the till adds "
        f"{(t50 - s50) * 1e3:.2f} ms (reader thread, GUI thread, db worker, filling the panel)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
