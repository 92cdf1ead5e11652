"""Benchmark: an IC card put on the reader to the CardPresented event with its number.

    .venv/bin/python bench/card_read.py [-n 50] [--warmup 3] [--floor 200]

Needs pcscd with the vpcd driver (scripts/start-pcscd). Everything goes through the real
stack: a VirtualCard connects to vpcd (127.0.0.1:35963), pcscd notices it, and
`PcscCardSource` (format=dec) reads it through pyscard and calls its listener. Each card
is inserted at a random moment (pcscd polls vpcd about every 0.4 s, so when a card is
noticed depends on when it came relative to that poll, as with a person tapping a card).
In the same run:

- insert → CardPresented: `VirtualCard.insert()` until the listener has the event with
  the normalized number (monitoring loop, connect, `FF CA`, normalise, callback);
- insert → pcscd reports it: a bare SCardGetStatusChange loop on a thread of its own,
  watching the same reader at the same time (what any PC/SC program waits for);
- the source's own part: per card, CardPresented minus the bare loop's report;
- raw floor: on a card already inserted, bare pyscard `connect()` + `FF CA` transmit +
  `disconnect()` (the least a card read costs once pcscd knows the card is there).

Prints p50/p95/max/mean of each and the ratios to the raw floor.
"""

from __future__ import annotations

import argparse
import queue
import random
import statistics
import sys
import threading
import time
from typing import Any

from common import percentile

from hardware.cards.pcsc_reader import PcscCardSource, list_readers
from hardware.events import CardEvent, CardPresented, CardRemoved
from hardware.sim.vpcd_card import VirtualCard
from hardware.uri import parse_device_uri

READER = "Virtual PCD 00 00"
PORT = 35963
UID = bytes.fromhex("04A1B2C3")
NUMBER = "0077705923"  # UID 04A1B2C3 in decimal, as format=dec gives it
GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]
PCSCD_POLL_S = 0.4
TIMEOUT = 5.0


class BareWatcher(threading.Thread):
    """A bare SCardGetStatusChange loop: puts (present, perf_counter()) on each change."""

    def __init__(self) -> None:
        super().__init__(name="bare-watcher", daemon=True)
        self.changes: queue.Queue[tuple[bool, float]] = queue.Queue()
        self.stop = threading.Event()

    def run(self) -> None:
        from smartcard import scard as s

        hresult, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
        assert hresult == s.SCARD_S_SUCCESS
        state, present = s.SCARD_STATE_UNAWARE, None
        try:
            while not self.stop.is_set():
                hresult, states = s.SCardGetStatusChange(ctx, 100, [(READER, state)])
                if hresult == s.SCARD_E_TIMEOUT:
                    continue
                at = time.perf_counter()
                assert hresult == s.SCARD_S_SUCCESS, hex(hresult)
                state = states[0][1] & ~s.SCARD_STATE_CHANGED
                now_present = bool(state & s.SCARD_STATE_PRESENT)
                if present is not None and now_present != present:
                    self.changes.put((now_present, at))
                present = now_present
        finally:
            s.SCardReleaseContext(ctx)

    def wait(self, present: bool) -> float:
        seen, at = self.changes.get(timeout=TIMEOUT)
        if seen != present:
            raise SystemExit(f"the bare loop saw present={seen}, expected {present}")
        return at


def next_event(events: queue.Queue[tuple[CardEvent, float]], kind: type) -> tuple[Any, float]:
    event, at = events.get(timeout=TIMEOUT)
    if not isinstance(event, kind):
        raise SystemExit(f"unexpected event {event!r} while waiting for {kind.__name__}")
    return event, at


def card_round(
    events: queue.Queue[tuple[CardEvent, float]], watcher: BareWatcher, rng: random.Random
) -> tuple[float, float]:
    """(insert → CardPresented, insert → bare loop's report) in seconds, for one card."""
    time.sleep(rng.uniform(0, PCSCD_POLL_S))  # a random moment relative to pcscd's poll
    card = VirtualCard(UID, port=PORT)
    started = time.perf_counter()
    card.insert()
    event, presented_at = next_event(events, CardPresented)
    reported_at = watcher.wait(True)
    if event.number != NUMBER:
        raise SystemExit(f"read {event.number!r}, expected {NUMBER!r}")
    card.remove()
    next_event(events, CardRemoved)  # the reader is empty again before the next card
    watcher.wait(False)
    return presented_at - started, reported_at - started


def card_present() -> bool:
    from smartcard import scard as s

    hresult, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
    try:
        hresult, states = s.SCardGetStatusChange(ctx, 0, [(READER, s.SCARD_STATE_UNAWARE)])
        return hresult == s.SCARD_S_SUCCESS and bool(states[0][1] & s.SCARD_STATE_PRESENT)
    finally:
        s.SCardReleaseContext(ctx)


def raw_floor(n: int) -> list[float]:
    """Bare pyscard connect + FF CA + disconnect on a card already inserted."""
    from smartcard.System import readers

    reader = next(r for r in readers() if str(r) == READER)
    samples = []
    with VirtualCard(UID, port=PORT):
        deadline = time.monotonic() + TIMEOUT
        while not card_present():  # until pcscd has seen (and powered) the card
            if time.monotonic() > deadline:
                raise SystemExit("pcscd did not see the card")
            time.sleep(0.02)
        for _ in range(n):
            started = time.perf_counter()
            connection = reader.createConnection()
            connection.connect()
            data, sw1, sw2 = connection.transmit(GET_UID)
            connection.disconnect()
            samples.append(time.perf_counter() - started)
            assert bytes(data) == UID and (sw1, sw2) == (0x90, 0x00)
    return samples


def row(label: str, samples: list[float]) -> str:
    p50, p95 = percentile(samples, 50) * 1e3, percentile(samples, 95) * 1e3
    top, mean = max(samples) * 1e3, statistics.fmean(samples) * 1e3
    return f"{label:<42} {p50:9.2f} {p95:9.2f} {top:9.2f} {mean:9.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=50, help="cards presented")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--floor", type=int, default=200, help="bare reads for the raw floor")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    if READER not in list_readers():
        print(f"pcscd with the vpcd reader {READER!r} is not reachable (scripts/start-pcscd)")
        return 2
    if card_present():
        print(f"a card is already in {READER!r}; remove it first")
        return 2
    rng = random.Random(args.seed)
    events: queue.Queue[tuple[CardEvent, float]] = queue.Queue()
    watcher = BareWatcher()
    watcher.start()
    source = PcscCardSource(parse_device_uri(f"pcsc:{READER}?format=dec"))
    source.start(lambda event: events.put((event, time.perf_counter())))
    presented: list[float] = []
    reported: list[float] = []
    try:
        time.sleep(0.3)  # both loops have seen the empty reader
        for i in range(args.warmup + args.n):
            to_event, to_report = card_round(events, watcher, rng)
            if i >= args.warmup:
                presented.append(to_event)
                reported.append(to_report)
            done = i + 1 - args.warmup
            if done > 0:
                sys.stderr.write(f"\rcards presented: {done}/{args.n}\x1b[K")
                sys.stderr.flush()
        sys.stderr.write("\n")
    finally:
        source.close()
        watcher.stop.set()
        watcher.join()
    own = [p - r for p, r in zip(presented, reported, strict=True)]
    floor = raw_floor(args.floor)

    print(f"{args.n} cards at random moments after {args.warmup} warm-up cards; {READER}")
    print(f"{'':<42} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'mean ms':>9}")
    print(row("insert → CardPresented (PcscCardSource)", presented))
    print(row("insert → pcscd reports it (bare loop)", reported))
    print(row("source's own part (CardPresented − report)", own))
    print(row(f"raw floor: bare connect + FF CA ({args.floor}×)", floor))
    p50, report50, own50, floor50 = (
        percentile(x, 50) * 1e3 for x in (presented, reported, own, floor)
    )
    print(
        f"card read p50 {p50:.1f} ms vs bare connect + FF CA p50 {floor50:.2f} ms → ratio "
        f"{p50 / floor50:.0f} (pcscd noticing the card is {report50:.1f} ms of it); the "
        f"source's own part p50 {own50:.2f} ms → ratio {own50 / floor50:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
