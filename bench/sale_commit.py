"""Benchmark: a 20-line member sale with a coupon, paid part stored value and part cash,
committed and fsync'd, against the disk's own limit.

    .venv/bin/python bench/sale_commit.py [-n 300] [--tmp .bench-tmp]

Both run in the same folder (so on the same disk), alternately, after a warm-up:

- `pos_app.services.checkout.sell` on a real store: 20 lines from the demo catalogue, a
  member card (tier discount, member prices, promotions), a 满20减8 coupon, ¥50 from stored
  value and the rest in cash with change — priced inside the write transaction, and written
  as the purchase, the stored-value payment, the coupon redemption, the points earned, the
  sale with its lines and tenders and the receipt document, in one BEGIN IMMEDIATE … COMMIT
  (WAL, synchronous=FULL);
- a bare transaction with the sqlite3 module on a file with the same pragmas: BEGIN
  IMMEDIATE; INSERT one row; COMMIT — the cost of one durable commit on this disk.

Prints p50/p99/mean of both and the ratio (target ≤ 2.0), and where the sale's time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import DEFAULT_TMP, store_with_rules, summary_ms
from topup_commit import bare_commit, bare_connection

from pos_app.domain.coupons import TemplateSpec
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services import coupons, members, shifts, stored_value
from pos_app.services.cards import issue_card
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.demo_sales import GOODS

TARGET_RATIO = 2.0
SKUS = GOODS[:20]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=300, help="commits of each kind")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="print where a sale's time goes")
    parser.add_argument("--tmp", type=Path, default=DEFAULT_TMP, help="work folder")
    args = parser.parse_args()

    args.tmp.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sale-", dir=args.tmp))
    try:
        ctx, admin, cashier = store_with_rules(work / "store")
        load_demo_catalogue(ctx, admin)
        shifts.open_shift(ctx, cashier, 100_000)
        coupons.add_template(
            ctx,
            admin,
            TemplateSpec(
                code="ALL20-8",
                name="满20减8",
                kind="amount_off",
                threshold_fen=2000,
                amount_off_fen=800,
                valid_days=30,
            ),
        )
        total = args.n + args.warmup + (1 if args.profile else 0)
        codes = coupons.make_batch(ctx, admin, "ALL20-8", total, "bench").codes
        cards = []
        for i in range(args.members):
            view = members.register_member(ctx, cashier, f"1390000{i:04d}", f"会员{i}")
            card_no = f"8866{i:06d}"
            issue_card(ctx, cashier, view.member_no, card_no)
            stored_value.top_up(ctx, cashier, card_no, 1_000_000, tender="wechat")
            cards.append(card_no)
        bare = bare_connection(work / "bare.sqlite3")

        def request(i: int) -> SaleRequest:
            return SaleRequest(
                lines=tuple(LineRequest(sku, 1 + (i + k) % 3) for k, sku in enumerate(SKUS)),
                tenders=(TenderRequest("stored_value", 5000), TenderRequest("cash", 100_000)),
                card_no=cards[i % len(cards)],
                coupon_codes=(codes[i],),
            )

        def sale(i: int) -> None:
            sell(ctx, cashier, request(i))

        for i in range(args.warmup):
            sale(i)
            bare_commit(bare, i)
        service: list[float] = []
        floor: list[float] = []
        for j in range(args.n):
            i = args.warmup + j
            order = ((sale, service), (lambda k: bare_commit(bare, k), floor))
            for fn, out in order if j % 2 == 0 else order[::-1]:
                started = time.perf_counter()
                fn(i)
                out.append(time.perf_counter() - started)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(sale, total - 1)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        bare.close()
        ctx.engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    s50, s99, smean = summary_ms(service)
    b50, b99, bmean = summary_ms(floor)
    print(f"{args.n} commits of each kind, alternating, after {args.warmup} warm-up rounds")
    print(f"{'':<36} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    print(f"{'checkout.sell (20 lines, coupon, SV+cash)':<36} {s50:8.3f} {s99:8.3f} {smean:8.3f}")
    print(f"{'bare fsync commit (sqlite3)':<36} {b50:8.3f} {b99:8.3f} {bmean:8.3f}")
    ratio = s50 / b50
    print(
        f"sale commit p50 {s50:.2f} ms vs bare fsync commit p50 {b50:.2f} ms → ratio "
        f"{ratio:.2f} (target ≤ {TARGET_RATIO:.1f})"
    )
    extra = s50 - b50
    print(
        f"the sale adds {extra:.2f} ms (p50) above one fsync'd commit; the ratio is ≤ "
        f"{TARGET_RATIO:.1f} on a disk whose bare commit takes "
        f"≥ {extra / (TARGET_RATIO - 1):.2f} ms"
    )
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
