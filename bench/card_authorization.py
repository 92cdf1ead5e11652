"""Benchmark: online authorization of a card spend (till → HQ → till) against a signed request
that does nothing, and what the authorization adds to a sale.

    .venv/bin/python bench/card_authorization.py [-n 300] [--db URL] [--tmp .bench-tmp]

A real till store (the example rules, members with topped-up cards, pushed so HQ knows the
cards) enrolled at a real HQ: `pos-hq serve` on loopback over PostgreSQL (a database of the
run's own, dropped afterwards, unless --db names one). In the same run, alternately:

- `card_authorizer.authorize`: a signed `POST /v1/tills/{till}/holds` for ¥1 of a card's
  stored value — HQ verifies the signature and records the nonce, then in one transaction
  locks the card's row, sums its positions and live holds and inserts the hold — vs
  `card_authorizer.ping`: the same signed request to `POST /v1/tills/{till}/ping`, which
  only verifies and records the nonce. Target: p50 and p99 ratio ≤ 2.
- `checkout.sell` of a 3-line member sale paid ¥5 stored value + cash, on the enrolled till
  (HQ asked for the hold before the transaction, its answer mirrored, the hold id in the
  entry) vs the same sale on a store of its own without sync set up. Target: the online
  sale's p99 at most 50 ms above the plain sale's p99.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from common import DEFAULT_TMP, store_with_rules, summary_ms
from hq_server import hq_database, migrated_engine, served
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card
from hq import admin
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services import members, shifts, stored_value
from pos_app.services.auth import Actor
from pos_app.services.cards import issue_card
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.context import StoreContext
from pos_app.services.demo_sales import GOODS
from pos_app.services.sync_setup import setup
from pos_app.sync import card_authorizer
from pos_app.sync.card_authorizer import Authorized, HoldAsk
from pos_app.sync.pusher import push
from pos_app.sync.state import SyncConfig, read_config

TARGET_RATIO = 2.0
TARGET_ADDED_P99_MS = 50.0
STORE = "BM01"
CARDS = 20


def cards_for(ctx: StoreContext, cashier: Actor, prefix: str) -> list[str]:
    """CARDS members with a card each, ¥10,000 topped up."""
    out = []
    for i in range(CARDS):
        view = members.register_member(ctx, cashier, f"13{prefix}{i:07d}", f"会员{i}")
        card_no = f"88{prefix}{i:06d}"
        issue_card(ctx, cashier, view.member_no, card_no)
        stored_value.top_up(ctx, cashier, card_no, 1_000_000, tender="wechat")
        out.append(card_no)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=300, help="requests (and sales) of each kind")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--db", help="HQ database URL (default: a fresh PostgreSQL database)")
    parser.add_argument("--tmp", type=Path, default=DEFAULT_TMP, help="work folder")
    args = parser.parse_args()
    work = args.tmp / "card-authorization"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    with hq_database(args.db) as url:
        engine = migrated_engine(url)
        now = datetime.now(UTC)
        with Session(engine) as session, session.begin():
            admin.add_store(session, STORE, "基准测试门店 Bench Store", now)
            token = admin.enroll_till(session, STORE, now).token
        engine.dispose()
        online, online_admin, online_cashier = store_with_rules(work / "online", STORE)
        plain, plain_admin, plain_cashier = store_with_rules(work / "plain", "BM02")
        with served(url, work / "hq.log") as base:
            setup(online, online_admin, base, token)
            for ctx, adm, cashier in (
                (online, online_admin, online_cashier),
                (plain, plain_admin, plain_cashier),
            ):
                load_demo_catalogue(ctx, adm)
                shifts.open_shift(ctx, cashier, 100_000)
            online_cards = cards_for(online, online_cashier, "51")
            plain_cards = cards_for(plain, plain_cashier, "52")
            assert push(online).ok, "the till's cards did not reach HQ"
            config = read_config(online)
            holds, pings = round_trips(online, config, args.n, args.warmup)
            online_sales, plain_sales = sales(
                (online, online_cashier, online_cards),
                (plain, plain_cashier, plain_cards),
                args.n,
                args.warmup,
            )
        online.engine.dispose()
        plain.engine.dispose()
    shutil.rmtree(work, ignore_errors=True)

    h50, h99, hmean = summary_ms(holds)
    p50, p99, pmean = summary_ms(pings)
    o50, o99, omean = summary_ms(online_sales)
    s50, s99, smean = summary_ms(plain_sales)
    print(f"{args.n} of each kind, alternating, after {args.warmup} warm-up rounds")
    print(f"{'':<48} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    print(f"{'authorization (POST holds, PostgreSQL)':<48} {h50:8.3f} {h99:8.3f} {hmean:8.3f}")
    print(f"{'signed no-op (POST ping)':<48} {p50:8.3f} {p99:8.3f} {pmean:8.3f}")
    print(f"{'checkout.sell, online hold (SV + cash)':<48} {o50:8.3f} {o99:8.3f} {omean:8.3f}")
    print(f"{'checkout.sell, no sync set up (same sale)':<48} {s50:8.3f} {s99:8.3f} {smean:8.3f}")
    ratio50, ratio99 = h50 / p50, h99 / p99
    added50, added99 = o50 - s50, o99 - s99
    print(
        f"authorization round trip vs signed no-op: p50 ratio {ratio50:.2f}, p99 ratio "
        f"{ratio99:.2f} (target ≤ {TARGET_RATIO:.1f})"
    )
    print(
        f"a sale's added latency: p50 +{added50:.2f} ms, p99 +{added99:.2f} ms "
        f"(target p99 ≤ {TARGET_ADDED_P99_MS:.0f} ms)"
    )
    ok = ratio50 <= TARGET_RATIO and ratio99 <= TARGET_RATIO and added99 <= TARGET_ADDED_P99_MS
    return 0 if ok else 1


def round_trips(
    ctx: StoreContext, config: SyncConfig, n: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Holds of ¥1 on the till's cards vs signed no-ops, alternating. The till reports its
    own position of each card, as checkout does."""
    with read_session(ctx.engine) as s:
        cards = [(c.id, c.member_id, c.principal_fen, c.bonus_fen) for c in s.scalars(select(Card))]

    def hold(i: int) -> None:
        card_id, member_id, principal, bonus = cards[i % len(cards)]
        ask = HoldAsk(
            card_id=card_id,
            member_id=member_id,
            amount_fen=100,
            points=0,
            coupon_ids=(),
            own_principal_fen=principal,
            own_bonus_fen=bonus,
        )
        answer = card_authorizer.authorize(config, ctx.key_dir, ctx.clock, ask)
        assert isinstance(answer, Authorized), answer

    def ping(_i: int) -> None:
        card_authorizer.ping(config, ctx.key_dir, ctx.clock)

    for i in range(warmup):
        hold(i)
        ping(i)
    held: list[float] = []
    pinged: list[float] = []
    order = ((hold, held), (ping, pinged))
    for j in range(n):
        for fn, out in order if j % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            fn(j)
            out.append(time.perf_counter() - started)
    return held, pinged


def sales(
    online: tuple[StoreContext, Actor, list[str]],
    plain: tuple[StoreContext, Actor, list[str]],
    n: int,
    warmup: int,
) -> tuple[list[float], list[float]]:
    """The same member sale on the enrolled till and on the store without sync, alternating."""

    def request(card_no: str, i: int) -> SaleRequest:
        return SaleRequest(
            lines=tuple(LineRequest(sku, 1 + (i + k) % 2) for k, sku in enumerate(GOODS[:3])),
            tenders=(TenderRequest("stored_value", 500), TenderRequest("cash", 100_000)),
            card_no=card_no,
        )

    def sale(store: tuple[StoreContext, Actor, list[str]], i: int) -> None:
        ctx, cashier, cards = store
        sell(ctx, cashier, request(cards[i % len(cards)], i))

    for i in range(warmup):
        sale(online, i)
        sale(plain, i)
    timed: tuple[list[float], list[float]] = ([], [])
    for j in range(n):
        order = ((online, timed[0]), (plain, timed[1]))
        for store, out in order if j % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            sale(store, warmup + j)
            out.append(time.perf_counter() - started)
    return timed


if __name__ == "__main__":
    sys.exit(main())
