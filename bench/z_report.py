"""Benchmark: the Z report / day-end over a day of 50,000 sales, and a month of 1.5 million.

    .venv/bin/python bench/z_report.py [--db .bench-tmp/z-report] [--days 30]
                                       [--sales-per-day 50000] [--runs 5]

The store is built once and reused from --db on later runs (building a month takes a few
minutes). It holds a month of trading written the way checkout writes it, but in bulk:
`sale` and `sale_tender` rows, and every ledger entry through `LedgerWriter.append_rows` so
the hash chain is valid — purchases, stored-value payments, points earned and redeemed,
refunds (about 1 %, with their stored value, points and tenders reversed), top-ups with
their bonus, member registrations, two shifts a day with floats, paid-in/out and counts.
About 30 % of sales are members' (half of those paid from stored value, some with points);
the rest are non-members paying cash, WeChat, Alipay or by bank card. Sale lines and receipt
documents are not written: no report reads them.

It then times, through the services a manager uses:
- the Z report of one day of the month (`reports.day_report`, the figures day-end
  records), target ≤ 1 s; and of one of that day's shifts;
- the month's range report with its per-day lines (`reports.range_report`), target ≤ 5 s;
- the month's staff report, and one `day_end` (which records a day; the next run closes
  the next day);
and prints the figures, the ratio to each target, and the query plans.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import DEFAULT_TMP, PASSWORD, Progress, open_existing, store_with_rules
from sqlalchemy import select

from db.engine import write_session
from db.ledger import LedgerWriter, new_id
from db.models import RulesVersion
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.money import format_fen
from pos_app.domain.report_figures import Figures
from pos_app.services.auth import Actor
from pos_app.services.context import DB_FILENAME, StoreContext, iso
from pos_app.services.figures_query import report_queries
from pos_app.services.reports import day_end, day_report, range_report, staff_report, z_report
from pos_app.services.shifts import ShiftReport
from pos_app.services.sign_in import sign_in
from pos_app.services.store_setup import add_operator

DAY_TARGET_S = 1.0
MONTH_TARGET_S = 5.0
FIRST_DAY = date(2026, 3, 1)
MEMBERS_BEFORE = 20_000  # registered (and topped up) in the month before
REGISTRATIONS_PER_DAY = 150
TOPUPS_PER_DAY = 800
REFUND_SHARE = 0.01
MEMBER_SHARE = 0.30
CASHIERS = ("cashier", "cashier2", "cashier3", "cashier4")
META = "bench-meta.json"
PRICES = (200, 350, 300, 320, 650, 550, 400, 750, 990, 1280, 1590, 2990, 500, 680, 450, 380,
          560, 1280, 698, 990, 3990, 1290, 1150, 690, 4990, 600, 8900, 1500)  # fmt: skip


# -- Building the store ----------------------------------------------------------------------


@dataclass
class CardState:
    member_id: str
    card_id: str
    principal: int = 0
    bonus: int = 0
    points: int = 0


@dataclass
class ShiftCash:
    float_fen: int = 50_000
    cash_in: int = 0
    cash_out: int = 0

    @property
    def expected(self) -> int:
        return self.float_fen + self.cash_in - self.cash_out


@dataclass
class DayRows:
    """What one day writes, by table; ledger rows grouped by the operator who wrote them."""

    entries: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (op, t, row)
    sales: list[dict[str, Any]] = field(default_factory=list)
    tenders: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)
    shifts: list[dict[str, Any]] = field(default_factory=list)


def _insert_sql(table: str, row: dict[str, Any]) -> str:
    cols = ", ".join(row)
    return f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + c for c in row)})"


def _bonus(amount: int) -> int:
    """The example rules: 充500送50, 充1000送150."""
    return 15_000 if amount >= 100_000 else 5_000 if amount >= 50_000 else 0


class StoreBuilder:
    """Writes the month day by day, one transaction a day, in time order."""

    def __init__(self, ctx: StoreContext, operators: dict[str, str], seed: int) -> None:
        self.ctx = ctx
        self.ops = operators
        self.rng = random.Random(seed)
        self.store_id = ctx.store.id
        self.tz = ctx.tz
        self.cards: list[CardState] = []
        self.member_seq = 0
        self.shift_no = 0
        self.receipt_seq = 0
        with write_session(ctx.engine) as s:
            self.rules_version = s.scalar(select(RulesVersion.version).order_by(
                RulesVersion.version.desc()).limit(1)) or 1  # fmt: skip

    # One day's events, generated in time order --------------------------------------------

    def local(self, day: date, seconds: float) -> str:
        start = datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(UTC)
        return iso(start + timedelta(seconds=seconds))

    def new_member(self, rows: DayRows, op: str, t: str) -> None:
        self.member_seq += 1
        n = self.member_seq
        member_id, card_id = new_id(), new_id()
        rows.members.append(
            {
                "id": member_id,
                "member_no": f"BM01{n:07d}",
                "mobile": f"139{n:08d}",
                "mobile_last4": f"{n:08d}"[-4:],
                "name": f"会员{n}",
                "store_id": self.store_id,
                "registered_by_id": self.ops[op],
                "created_at": t,
                "tier_code": "normal",
                "tier_since": t,
                "points_balance": 0,
                "points_debt": 0,
            }
        )
        rows.cards.append(
            {
                "id": card_id,
                "card_no": f"88{n:08d}",
                "media": "ic",
                "member_id": member_id,
                "created_at": t,
                "state": "active",
                "principal_fen": 0,
                "bonus_fen": 0,
                "pin_failures": 0,
            }
        )
        rows.entries.append((op, t, {"kind": EntryKind.MEMBER_REGISTERED, "member_id": member_id}))
        rows.entries.append(
            (op, t, {"kind": EntryKind.CARD_ISSUED, "member_id": member_id, "card_id": card_id})
        )
        self.cards.append(CardState(member_id, card_id))

    def top_up(self, rows: DayRows, op: str, t: str, card: CardState, cash: ShiftCash) -> None:
        amount = self.rng.choice((10_000, 20_000, 30_000, 50_000, 50_000, 100_000, 200_000))
        tender = self.rng.choices(("cash", "wechat", "alipay", "bank"), (40, 35, 20, 5))[0]
        bonus = _bonus(amount)
        card.principal += amount
        card.bonus += bonus
        if tender == "cash":
            cash.cash_in += amount
        rows.entries.append(
            (
                op,
                t,
                {
                    "kind": EntryKind.TOPUP,
                    "member_id": card.member_id,
                    "card_id": card.card_id,
                    "principal_delta": amount,
                    "bonus_delta": bonus,
                    "amount_fen": amount,
                    "tender": tender,
                },
            )
        )

    def sale(
        self, rows: DayRows, op: str, t: str, day: date, shift_id: str, cash: ShiftCash
    ) -> dict[str, Any] | None:
        rng = self.rng
        card = rng.choice(self.cards) if self.cards and rng.random() < MEMBER_SHARE else None
        gross = sum(rng.choice(PRICES) * rng.choice((1, 1, 1, 2)) for _ in range(rng.randint(1, 6)))
        discount = gross * 5 // 100 if card else (gross * 10 // 100 if rng.random() < 0.1 else 0)
        rounding = (gross - discount) % 10 if rng.random() < 0.3 else 0
        total = gross - discount - rounding
        self.receipt_seq += 1
        sale_id, purchase_id = new_id(), new_id()
        receipt_no = f"BM01-{day.strftime('%y%m%d')}-{self.receipt_seq:07d}"
        rows.entries.append(
            (
                op,
                t,
                {
                    "entry_id": purchase_id,
                    "kind": EntryKind.PURCHASE,
                    "member_id": card.member_id if card else None,
                    "amount_fen": total,
                    "payload": {"receipt_no": receipt_no, "sale_id": sale_id},
                },
            )
        )
        tenders: list[tuple[str, int, str | None]] = []  # (tender, amount, entry id)
        change = 0
        left = total
        sv_split = (0, 0)
        points_paid = 0
        if card is not None:
            roll = rng.random()
            if roll < 0.5 and card.principal + card.bonus > 0:
                amount = min(left, card.principal + card.bonus)
                principal = min(amount, card.principal)  # principal first
                bonus = amount - principal
                card.principal -= principal
                card.bonus -= bonus
                sv_id = new_id()
                sv_split = (principal, bonus)
                rows.entries.append(
                    (
                        op,
                        t,
                        {
                            "entry_id": sv_id,
                            "kind": EntryKind.SV_PAYMENT,
                            "member_id": card.member_id,
                            "card_id": card.card_id,
                            "principal_delta": -principal,
                            "bonus_delta": -bonus,
                            "amount_fen": amount,
                            "related_entry_id": purchase_id,
                            "payload": {"receipt_no": receipt_no},
                        },
                    )
                )
                tenders.append(("stored_value", amount, sv_id))
                left -= amount
            elif roll < 0.6 and card.points >= 200:
                points_paid = min(left // 2, card.points)  # 100 points = ¥1
                card.points -= points_paid
                pts_id = new_id()
                rows.entries.append(
                    (
                        op,
                        t,
                        {
                            "entry_id": pts_id,
                            "kind": EntryKind.POINTS_REDEEMED,
                            "member_id": card.member_id,
                            "points_delta": -points_paid,
                            "related_entry_id": purchase_id,
                            "payload": {"receipt_no": receipt_no, "amount_fen": points_paid},
                        },
                    )
                )
                tenders.append(("points", points_paid, pts_id))
                left -= points_paid
        if left > 0:
            tender = rng.choices(("cash", "wechat", "alipay", "bank"), (45, 30, 20, 5))[0]
            if tender == "cash":
                given = -(-left // 1_000) * 1_000  # the next ¥10 note
                change = given - left
                cash.cash_in += left
            tenders.append((tender, left, None))
        earned = (total - points_paid) // 100 if card else 0
        if card is not None and earned > 0:
            card.points += earned
            rows.entries.append(
                (
                    op,
                    t,
                    {
                        "kind": EntryKind.POINTS_EARNED,
                        "member_id": card.member_id,
                        "points_delta": earned,
                        "related_entry_id": purchase_id,
                    },
                )
            )
        sale = {
            "id": sale_id,
            "receipt_no": receipt_no,
            "kind": "sale",
            "original_sale_id": None,
            "shift_id": shift_id,
            "operator_id": self.ops[op],
            "approved_by_id": None,
            "member_id": card.member_id if card else None,
            "card_id": card.card_id if card else None,
            "business_time": t,
            "gross_fen": gross,
            "discount_fen": discount,
            "rounding_fen": rounding,
            "total_fen": total,
            "change_fen": change,
            "points_earned": earned,
            "entry_id": purchase_id,
        }
        rows.sales.append(sale)
        for seq, (tender, amount, entry_id) in enumerate(tenders, 1):
            rows.tenders.append(
                {
                    "sale_id": sale_id,
                    "seq": seq,
                    "tender": tender,
                    "amount_fen": amount,
                    "reference": None,
                    "entry_id": entry_id,
                    "business_time": t,
                }
            )
        if rng.random() >= REFUND_SHARE:
            return None
        return {
            "sale": sale,
            "card": card,
            "tenders": tenders,
            "sv_split": sv_split,
            "points_paid": points_paid,
            "earned": earned,
        }

    def refund(
        self, rows: DayRows, op: str, t: str, day: date, shift_id: str, cash: ShiftCash,
        original: dict[str, Any],
    ) -> None:  # fmt: skip
        sale, card = original["sale"], original["card"]
        self.receipt_seq += 1
        refund_id, entry_id = new_id(), new_id()
        receipt_no = f"BM01-{day.strftime('%y%m%d')}-{self.receipt_seq:07d}"
        member_id = card.member_id if card else None
        rows.entries.append(
            (
                op,
                t,
                {
                    "entry_id": entry_id,
                    "kind": EntryKind.PURCHASE_REFUNDED,
                    "member_id": member_id,
                    "amount_fen": sale["total_fen"],
                    "related_entry_id": sale["entry_id"],
                    "payload": {
                        "receipt_no": receipt_no,
                        "original_receipt_no": sale["receipt_no"],
                    },
                },
            )
        )
        for tender, amount, tender_entry in original["tenders"]:
            if tender == "stored_value":
                principal, bonus = original["sv_split"]
                card.principal += principal
                card.bonus += bonus
                rows.entries.append(
                    (
                        op,
                        t,
                        {
                            "kind": EntryKind.SV_PAYMENT_REFUNDED,
                            "member_id": member_id,
                            "card_id": card.card_id,
                            "principal_delta": principal,
                            "bonus_delta": bonus,
                            "amount_fen": amount,
                            "related_entry_id": tender_entry,
                        },
                    )
                )
            elif tender == "points":
                card.points += amount
                rows.entries.append(
                    (
                        op,
                        t,
                        {
                            "kind": EntryKind.POINTS_RETURNED,
                            "member_id": member_id,
                            "points_delta": amount,
                            "related_entry_id": tender_entry,
                        },
                    )
                )
            elif tender == "cash":
                cash.cash_out += amount
        if card is not None and original["earned"] > 0:
            card.points -= original["earned"]
            rows.entries.append(
                (
                    op,
                    t,
                    {
                        "kind": EntryKind.POINTS_REVERSED,
                        "member_id": member_id,
                        "points_delta": -original["earned"],
                        "related_entry_id": entry_id,
                    },
                )
            )
        rows.sales.append(
            {
                **sale,
                "id": refund_id,
                "receipt_no": receipt_no,
                "kind": "refund",
                "original_sale_id": sale["id"],
                "shift_id": shift_id,
                "operator_id": self.ops[op],
                "business_time": t,
                "gross_fen": -sale["gross_fen"],
                "discount_fen": -sale["discount_fen"],
                "rounding_fen": -sale["rounding_fen"],
                "total_fen": -sale["total_fen"],
                "change_fen": 0,
                "points_earned": -original["earned"],
                "entry_id": entry_id,
            }
        )
        for seq, (tender, amount, _) in enumerate(original["tenders"], 1):
            rows.tenders.append(
                {
                    "sale_id": refund_id,
                    "seq": seq,
                    "tender": tender,
                    "amount_fen": -amount,
                    "reference": None,
                    "entry_id": None,
                    "business_time": t,
                }
            )

    def build_day(self, day: date, sales: int) -> DayRows:
        """Two shifts (08:00–15:00, 15:00–22:00), each with its own cashier."""
        rng = self.rng
        rows = DayRows()
        for half, (open_s, close_s) in enumerate(((8 * 3600, 15 * 3600), (15 * 3600, 22 * 3600))):
            op = CASHIERS[(day.toordinal() * 2 + half) % len(CASHIERS)]
            self.shift_no += 1
            shift_id = new_id()
            cash = ShiftCash()
            opened = self.local(day, open_s)
            rows.entries.append(
                (op, opened, {"entry_id": shift_id, "kind": EntryKind.SHIFT_OPENED,
                              "amount_fen": cash.float_fen,
                              "payload": {"shift_no": self.shift_no,
                                          "business_day": day.isoformat()}})
            )  # fmt: skip
            shift = {
                "id": shift_id,
                "shift_no": self.shift_no,
                "business_day": day.isoformat(),
                "opened_by_id": self.ops[op],
                "opened_at": opened,
                "float_fen": cash.float_fen,
                "state": "closed",
            }
            span = close_s - open_s - 60
            share = sales // 2 + (sales % 2 if half else 0)
            events: list[tuple[float, int, str, Any]] = []
            for i, when in enumerate(sorted(rng.uniform(1, span) for _ in range(share))):
                events.append((open_s + when, i, "sale", None))
            n = 10**7
            for kind, count in (
                ("register", REGISTRATIONS_PER_DAY // 2),
                ("topup", TOPUPS_PER_DAY // 2),
                ("paid_in", 1),
                ("paid_out", 2),
            ):
                for _ in range(count):
                    n += 1
                    events.append((open_s + rng.uniform(1, span), n, kind, None))
            heapq.heapify(events)
            while events:
                at, _, kind, data = heapq.heappop(events)
                t = self.local(day, at)
                if kind == "sale":
                    refund = self.sale(rows, op, t, day, shift_id, cash)
                    later = at + rng.uniform(300, 3600)
                    if refund is not None and later < open_s + span:
                        n += 1
                        heapq.heappush(events, (later, n, "refund", refund))
                elif kind == "refund":
                    self.refund(rows, op, t, day, shift_id, cash, data)
                elif kind == "register":
                    self.new_member(rows, op, t)
                elif kind == "topup" and self.cards:
                    self.top_up(rows, op, t, rng.choice(self.cards), cash)
                elif kind == "paid_in":
                    cash.cash_in += 20_000
                    rows.entries.append((op, t, {"kind": EntryKind.CASH_PAID_IN,
                                                 "amount_fen": 20_000,
                                                 "payload": {"reason": "换零钱"}}))  # fmt: skip
                elif kind == "paid_out":
                    amount = rng.choice((1_500, 3_000, 8_800))
                    cash.cash_out += amount
                    rows.entries.append((op, t, {"kind": EntryKind.CASH_PAID_OUT,
                                                 "amount_fen": amount,
                                                 "payload": {"reason": "快递费"}}))  # fmt: skip
            closed = self.local(day, close_s - 30)
            counted = cash.expected + rng.choice((0, 0, 0, 0, -100, 100, -1_000))
            rows.entries.append(
                (op, closed, {"kind": EntryKind.SHIFT_CLOSED, "amount_fen": counted,
                              "related_entry_id": shift_id,
                              "payload": {"shift_no": self.shift_no,
                                          "expected_cash_fen": cash.expected,
                                          "counted_fen": counted,
                                          "over_short_fen": counted - cash.expected}})
            )  # fmt: skip
            shift.update(
                closed_by_id=self.ops[op],
                closed_at=closed,
                counted_fen=counted,
                expected_cash_fen=cash.expected,
            )
            rows.shifts.append(shift)
        return rows

    def members_before(self, count: int) -> DayRows:
        """Members registered in the month before, each topped up once."""
        rows = DayRows()
        cash = ShiftCash()
        day0 = FIRST_DAY - timedelta(days=28)
        for i in range(count):
            t = self.local(day0 + timedelta(days=i * 28 // count), 9 * 3600 + i % 40_000)
            self.new_member(rows, "admin", t)
            self.top_up(rows, "admin", t, self.cards[-1], cash)
        return rows

    # Writing -------------------------------------------------------------------------------

    def write(self, rows: DayRows) -> int:
        """One transaction: the ledger (hash-chained, in time order), then the projections."""
        with write_session(self.ctx.engine) as session:
            raw = session.connection().connection.driver_connection
            assert raw is not None
            writer = LedgerWriter(session, self.store_id, self.ops["admin"], self.rules_version,
                                  iso(datetime.now(UTC)), till_id=self.ctx.till_id)  # fmt: skip
            ordered = sorted(rows.entries, key=lambda e: e[1])  # stable: same-time stays put
            out: list[dict[str, Any]] = []
            for op, t, row in ordered:
                writer.operator_id = self.ops[op]
                row["business_time"] = t
                out.extend(writer.append_rows([row]))
            for table, batch in (("member", rows.members), ("card", rows.cards)):
                if batch:
                    raw.executemany(_insert_sql(table, batch[0]), batch)
            raw.executemany(_insert_sql("ledger_entry", out[0]), out)
            for table, batch in (("shift", rows.shifts), ("sale", rows.sales),
                                 ("sale_tender", rows.tenders)):  # fmt: skip
                if batch:
                    raw.executemany(_insert_sql(table, batch[0]), batch)
            return len(out)

    def write_balances(self) -> None:
        with write_session(self.ctx.engine) as session:
            raw = session.connection().connection.driver_connection
            assert raw is not None
            raw.executemany(
                "UPDATE card SET principal_fen = ?, bonus_fen = ? WHERE id = ?",
                [(c.principal, c.bonus, c.card_id) for c in self.cards],
            )
            raw.executemany(
                "UPDATE member SET points_balance = ? WHERE id = ?",
                [(max(c.points, 0), c.member_id) for c in self.cards],
            )


def build(db: Path, days: int, sales_per_day: int) -> tuple[StoreContext, Actor, Actor]:
    db.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ctx, admin, cashier = store_with_rules(db)
    add_operator(ctx, admin, "manager", "李店长", "manager", PASSWORD)
    for login in CASHIERS[1:]:
        add_operator(ctx, admin, login, f"收银员{login[-1]}", "cashier", PASSWORD)
    with write_session(ctx.engine) as s:
        raw = s.connection().connection.driver_connection
        assert raw is not None
        operators = dict(raw.execute("SELECT login, id FROM operator").fetchall())
    builder = StoreBuilder(ctx, operators, seed=20260301)
    entries = builder.write(builder.members_before(MEMBERS_BEFORE))
    progress = Progress("building the month (days)")
    for i in range(days):
        entries += builder.write(builder.build_day(FIRST_DAY + timedelta(days=i), sales_per_day))
        progress(i + 1, days)
    builder.write_balances()
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in db.iterdir()) / 1e9
    print(
        f"built {days} days × {sales_per_day:,} sales, {entries:,} ledger entries in "
        f"{seconds:.0f} s; store {size:.2f} GB"
    )
    (db / META).write_text(json.dumps({"days": days, "sales_per_day": sales_per_day}))
    return ctx, admin, cashier


def build_or_reuse(db: Path, days: int, sales_per_day: int) -> tuple[StoreContext, Actor, Actor]:
    meta = db / META
    if meta.exists():
        have = json.loads(meta.read_text())
        if have == {"days": days, "sales_per_day": sales_per_day}:
            existing = open_existing(db)
            assert existing is not None
            print(f"reusing {db}: {days} days × {sales_per_day:,} sales")
            return existing
        raise SystemExit(f"{db} was built for {have}: remove it first")
    if (db / DB_FILENAME).exists():
        raise SystemExit(f"{db} holds a store that was not finished building: remove it first")
    return build(db, days, sales_per_day)


# -- Timing ------------------------------------------------------------------------------------


def time_runs(fn: Callable[[], Any], runs: int) -> tuple[Any, list[float]]:
    samples = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return result, samples


def verdict(seconds: float, target: float) -> str:
    return f"ratio {seconds / target:.2f} to target ≤ {target:g} s: {'met' if seconds <= target else 'NOT met'}"  # noqa: E501


def show_figures(label: str, f: Figures) -> None:
    yuan = format_fen
    print(f"  {label}:")
    print(
        f"    sales {f.sales_count:,} = {yuan(f.sales_fen)} (gross {yuan(f.gross_fen)}, "
        f"discounts {yuan(f.discount_fen)}, rounding {yuan(f.rounding_fen)}); refunds "
        f"{f.refunds_count:,} = {yuan(f.refunds_fen)}; net {yuan(f.net_fen)}; average "
        f"{yuan(f.average_ticket_fen)}"
    )
    print("    tenders: " + ", ".join(f"{t.tender} {yuan(t.net_fen)}" for t in f.tenders))
    print(
        f"    members {f.member_sales_count:,} sales {yuan(f.member_net_fen)}, non-members "
        f"{f.non_member_sales_count:,} {yuan(f.non_member_net_fen)}; new members "
        f"{f.members_registered:,}"
    )
    print(
        f"    top-ups {f.topups_count:,} = {yuan(f.topups_fen)} (+{yuan(f.topups_bonus_fen)} "
        f"bonus); stored value used {yuan(f.sv_principal_used_fen)} principal + "
        f"{yuan(f.sv_bonus_used_fen)} bonus; points issued {f.points_issued:,}, redeemed "
        f"{f.points_redeemed:,}, reversed {f.points_reversed:,}"
    )
    c = f.cash
    print(
        f"    cash: float {yuan(c.float_fen)} + in {yuan(c.in_fen)} − out {yuan(c.out_fen)} = "
        f"expected {yuan(c.expected_fen)}; counted "
        f"{yuan(c.counted_fen) if c.counted_fen is not None else '-'}, over/short "
        f"{yuan(c.over_short_fen) if c.over_short_fen is not None else '-'}"
    )
    problems = f.problems()
    print(f"    identities: {problems or 'OK'}")


def explain(ctx: StoreContext, start: str, end: str) -> None:
    path = ctx.engine.url.database
    assert path is not None
    con = sqlite3.connect(path)
    try:
        for name, stmt in report_queries(start, end).items():
            sql = str(stmt.compile(ctx.engine, compile_kwargs={"literal_binds": True}))
            plan = con.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
            print(f"  {name}: " + " | ".join(row[-1] for row in plan))
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_TMP / "z-report", help="store folder")
    parser.add_argument("--days", type=int, default=30, help="days of trading in the store")
    parser.add_argument("--sales-per-day", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each report")
    args = parser.parse_args()

    ctx, _admin, _ = build_or_reuse(args.db, args.days, args.sales_per_day)
    manager = sign_in(ctx, "manager", PASSWORD)
    first, last = FIRST_DAY, FIRST_DAY + timedelta(days=args.days - 1)
    day = FIRST_DAY + timedelta(days=args.days // 2)
    ok = True

    print(f"\nZ report of one day ({day}), {args.runs} runs:")
    one_day, samples = time_runs(lambda: day_report(ctx, manager, day), args.runs)
    median = statistics.median(samples)
    print(
        f"  day Z report: first {samples[0] * 1e3:.0f} ms, median {median * 1e3:.0f} ms → "
        + verdict(median, DAY_TARGET_S)
    )
    ok &= median <= DAY_TARGET_S
    show_figures(f"day {day}" + (" (closed)" if one_day.closed else ""), one_day.figures)
    shift_no = one_day.shifts[0].shift_no
    shift_report, samples = time_runs(lambda: z_report(ctx, manager, shift_no=shift_no), args.runs)
    assert isinstance(shift_report, ShiftReport)
    print(
        f"  shift {shift_no} Z report: median {statistics.median(samples) * 1e3:.0f} ms "
        f"({shift_report.figures.sales_count:,} sales)"
    )

    print(f"\nRange report of the month ({first} – {last}), {max(2, args.runs // 2)} runs:")
    month, samples = time_runs(
        lambda: range_report(ctx, manager, first, last), max(2, args.runs // 2)
    )
    median = statistics.median(samples)
    print(
        f"  month range report: first {samples[0]:.2f} s, median {median:.2f} s → "
        + verdict(median, MONTH_TARGET_S)
    )
    ok &= median <= MONTH_TARGET_S
    show_figures(f"{len(month.days)} days", month.figures)
    staff, samples = time_runs(lambda: staff_report(ctx, manager, first, last), 1)
    print(f"  month staff report: {samples[0]:.2f} s, {len(staff.lines)} operators")

    closing = next(
        (
            d
            for d in (first + timedelta(days=i) for i in range(args.days))
            if not day_report(ctx, manager, d).closed
        ),
        None,
    )
    if closing is not None:
        started = time.perf_counter()
        closed = day_end(ctx, manager, closing)
        seconds = time.perf_counter() - started
        print(
            f"\nday-end of {closing} (records it): {seconds * 1e3:.0f} ms → "
            + verdict(seconds, DAY_TARGET_S)
            + f"; net {closed.figures.net_fen / 100:,.2f}"
        )
        started = time.perf_counter()
        z_report(ctx, manager, day=closing)
        print(f"  shown again from the record: {(time.perf_counter() - started) * 1e3:.0f} ms")

    print("\nquery plans (one day):")
    explain(ctx, ctx.day_start_iso(day), ctx.day_start_iso(day + timedelta(days=1)))
    ctx.engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
