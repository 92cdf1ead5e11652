"""Benchmark: 200 simulated tills pushing to one HQ on PostgreSQL at once.

    .venv/bin/python bench/sync_fleet.py [--tills 200] [--rounds 10] [--batch 100] [--db URL]

Each till is enrolled (one-time token, its own Ed25519 key) and then pushes `rounds` signed
batches of `batch` hash-chained entries, all tills at the same time, each waiting for HQ's
acknowledgement before its next batch (as the pusher does). HQ is `pos-hq serve` (one
process, as production starts it) on a PostgreSQL database of the run's own. The tills run
in this process on asyncio; their bodies are encoded before the clock starts, so what is
timed is signing, HTTP, and HQ's checks and inserts.

Prints entries/s over the whole fleet, each batch's ack latency (p50, p99, max), and the
bare COPY of the same rows into a table shaped like HQ's (the physical limit), with the
ratio. Exits 1 when a batch is refused or HQ does not end holding every entry (no target is
set for the fleet's rate; it is compared with the 20,000 entries/s of HQ ingest).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from common import DEFAULT_TMP, percentile
from hq_server import bare_copy_seconds, held_entries, hq_database, libpq_dsn, migrated_engine
from hq_server import served as hq_served
from simulated_till import SimulatedTill, enroll_fleet

from pos_app.domain.sync_signing import sign_request

TARGET_ENTRIES_PER_S = 20_000
# A connection that breaks (HQ closing a kept-alive connection as the till reuses it, or a
# disconnect under load) is tried again at once, as the pusher's next push would; counted.
RETRIES = 3


async def push_all(
    base: str, tills: list[SimulatedTill], bodies: dict[str, list[bytes]]
) -> tuple[float, list[float], list[str], list[str]]:
    """(seconds, every batch's ack latency (retries included), refusals, retried errors) of
    all tills pushing at once."""
    latencies: list[float] = []
    refusals: list[str] = []
    retries: list[str] = []
    limits = httpx.Limits(max_connections=len(tills), max_keepalive_connections=len(tills))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        start = asyncio.Event()

        async def till_pushes(till: SimulatedTill) -> None:
            path = f"/v1/tills/{till.code}/batches"
            await start.wait()
            for body in bodies[till.code]:
                sent = time.perf_counter()
                for attempt in range(RETRIES + 1):
                    # Signed afresh each try (a new nonce), as the pusher's next push would.
                    headers = sign_request(
                        till.key, till.code, "POST", path, body, datetime.now(UTC)
                    )
                    headers["Content-Type"] = "application/json"
                    try:
                        response = await client.post(path, content=body, headers=headers)
                        break
                    except httpx.TransportError as exc:
                        if attempt == RETRIES:
                            refusals.append(f"{till.code}: {type(exc).__name__} {exc}")
                            return
                        retries.append(type(exc).__name__)
                latencies.append(time.perf_counter() - sent)
                if response.status_code != 200:
                    refusals.append(f"{till.code}: {response.status_code} {response.text[:200]}")
                    return

        tasks = [asyncio.create_task(till_pushes(till)) for till in tills]
        await asyncio.sleep(0.1)  # every task is waiting at the gate
        started = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        return time.perf_counter() - started, latencies, refusals, retries


def enroll_over_http(base: str, tills: list[SimulatedTill]) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        for till in tills:
            response = client.post(
                "/v1/enroll",
                content=till.enroll_body(),
                headers={"Content-Type": "application/json"},
            )
            response.raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tills", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10, help="batches per till")
    parser.add_argument("--batch", type=int, default=100, help="entries per batch (≤ 1000)")
    parser.add_argument("--db", help="HQ database URL (default: a fresh PostgreSQL database)")
    parser.add_argument("--workers", type=int, default=2, help="pos-hq serve worker processes")
    parser.add_argument("--tmp", type=Path, default=DEFAULT_TMP, help="folder for the HQ log")
    args = parser.parse_args()
    args.tmp.mkdir(parents=True, exist_ok=True)
    log = args.tmp / "sync-fleet-hq.log"

    with hq_database(args.db) as url:
        engine = migrated_engine(url)
        tills = enroll_fleet(engine, args.tills)
        engine.dispose()
        started = time.perf_counter()
        bodies = {
            till.code: [
                json.dumps(
                    {"entries": till.entries(args.batch), "rows": []}, separators=(",", ":")
                ).encode()
                for _ in range(args.rounds)
            ]
            for till in tills
        }
        total = args.tills * args.rounds * args.batch
        print(
            f"{args.tills} tills × {args.rounds} batches × {args.batch} entries = {total:,} "
            f"entries made in {time.perf_counter() - started:.1f} s (not timed)"
        )
        with hq_served(url, log, args.workers) as base:
            enroll_over_http(base, tills)
            seconds, latencies, refusals, retries = asyncio.run(push_all(base, tills, bodies))
        dsn = libpq_dsn(url)
        rows = held_entries(dsn)
        copy_seconds = bare_copy_seconds(dsn, rows, chunk=args.batch)

    rate = total / seconds
    copy_rate = len(rows) / copy_seconds
    p50, p99 = percentile(latencies, 50) * 1e3, percentile(latencies, 99) * 1e3
    print(
        f"fleet: {total:,} entries acknowledged in {seconds:.2f} s → {rate:,.0f} entries/s "
        f"({len(latencies):,} batches; ack latency p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
        f"max {max(latencies) * 1e3:.0f} ms; {len(retries)} connections broke and were "
        f"retried{': ' + ', '.join(sorted(set(retries))) if retries else ''})"
    )
    print(
        f"bare COPY of the same {len(rows):,} rows, {args.batch} per transaction: "
        f"{copy_seconds:.2f} s → {copy_rate:,.0f} entries/s; "
        f"fleet/COPY throughput ratio {rate / copy_rate:.2f}"
    )
    print(
        f"summary: {args.tills} tills at once → {rate:,.0f} entries/s, p99 ack {p99:.0f} ms; "
        f"HQ holds {len(rows):,} of {total:,}"
    )
    for refusal in refusals[:5]:
        print(f"refused: {refusal}")
    if rate < TARGET_ENTRIES_PER_S:
        print(
            f"note: below the {TARGET_ENTRIES_PER_S:,} entries/s HQ ingest target "
            "(bench/hq_ingest.py measures that one); here each batch also pays a signature, "
            "a nonce, a till lock and a commit"
        )
    return 0 if not refusals and len(rows) == total else 1


if __name__ == "__main__":
    sys.exit(main())
