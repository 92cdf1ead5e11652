"""Chain-wide reports from what the tills sent up: daily sales per store, and member
liabilities (stored value and points) per store and for the whole chain.

Sales come from the replicated `sale` and `sale_tender` rows (the newest version of each),
summed in the database; a business day is a calendar day in the chain's time zone
(Asia/Shanghai unless told), i.e. a half-open range of the UTC business times the tills
record. Liabilities come from the ledger: every principal, bonus and points delta, summed by
the store whose till wrote it; the chain total is what members hold across the chain.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hq.models import HqLedgerEntry, HqRow, Store, Till
from pos_app.domain.entry_kinds import MIRROR_KINDS

CHAIN_TIMEZONE = "Asia/Shanghai"


def business_day_bounds(day: date, zone: ZoneInfo) -> tuple[str, str]:
    """[start, end) of a business day as UTC ISO text, comparable with the tills' times."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start.isoformat(timespec="microseconds"), end.isoformat(timespec="microseconds")


def _in_day(table: str, start: str, end: str) -> Any:
    moment = HqRow.data["business_time"].as_string()
    return (HqRow.table_name == table) & (moment >= start) & (moment < end)


def sales_report(session: Session, day: date, zone: ZoneInfo) -> dict[str, Any]:
    start, end = business_day_bounds(day, zone)

    def fen(name: str) -> Any:
        return func.coalesce(func.sum(HqRow.data[name].as_integer()), 0)

    kind = HqRow.data["kind"].as_string()
    per_store = session.execute(
        select(
            Store.code,
            func.sum(case((kind == "sale", 1), else_=0)),
            func.sum(case((kind == "refund", 1), else_=0)),
            fen("gross_fen"),
            fen("discount_fen"),
            fen("rounding_fen"),
            fen("total_fen"),
        )
        .join(Till, Till.id == HqRow.till_id)
        .join(Store, Store.id == Till.store_id)
        .where(_in_day("sale", start, end))
        .group_by(Store.code)
        .order_by(Store.code)
    ).all()
    # Grouped over a subquery: PostgreSQL does not match a JSON path in GROUP BY to the same
    # path in the select list when each carries its own bound parameter.
    paid = (
        select(
            Store.code.label("store"),
            HqRow.data["tender"].as_string().label("tender"),
            HqRow.data["amount_fen"].as_integer().label("amount_fen"),
        )
        .join(Till, Till.id == HqRow.till_id)
        .join(Store, Store.id == Till.store_id)
        .where(_in_day("sale_tender", start, end))
        .subquery()
    )
    tenders = session.execute(
        select(paid.c.store, paid.c.tender, func.sum(paid.c.amount_fen)).group_by(
            paid.c.store, paid.c.tender
        )
    ).all()
    by_tender: dict[str, dict[str, int]] = {}
    for store, tender, amount in tenders:
        by_tender.setdefault(store, {})[str(tender)] = int(amount)
    stores = [
        {
            "store": store,
            "sales": int(sales),
            "refunds": int(refunds),
            "gross_fen": int(gross),
            "discount_fen": int(discount),
            "rounding_fen": int(rounding),
            "total_fen": int(total),
            "tenders": dict(sorted(by_tender.get(store, {}).items())),
        }
        for store, sales, refunds, gross, discount, rounding, total in per_store
    ]
    figures = ("sales", "refunds", "gross_fen", "discount_fen", "rounding_fen", "total_fen")
    chain_total: dict[str, Any] = {name: sum(s[name] for s in stores) for name in figures}
    chain_tenders: dict[str, int] = {}
    for store_tenders in by_tender.values():
        for tender, amount in store_tenders.items():
            chain_tenders[tender] = chain_tenders.get(tender, 0) + amount
    chain_total["tenders"] = dict(sorted(chain_tenders.items()))
    return {
        "day": day.isoformat(),
        "timezone": zone.key,
        "stores": stores,
        "chain": chain_total,
    }


def liabilities_report(session: Session) -> dict[str, Any]:
    rows = session.execute(
        select(
            Store.code,
            func.coalesce(func.sum(HqLedgerEntry.principal_delta), 0),
            func.coalesce(func.sum(HqLedgerEntry.bonus_delta), 0),
            func.coalesce(func.sum(HqLedgerEntry.points_delta), 0),
        )
        .join(Till, Till.store_id == Store.id)
        .join(HqLedgerEntry, HqLedgerEntry.till_id == Till.id)
        # A mirror is what a till was told of the other tills' money: counting it would count
        # every balance once more for each store that has heard of the card.
        .where(HqLedgerEntry.kind.not_in(sorted(MIRROR_KINDS)))
        .group_by(Store.code)
        .order_by(Store.code)
    ).all()
    stores = [
        {
            "store": store,
            "principal_fen": int(principal),
            "bonus_fen": int(bonus),
            "stored_value_fen": int(principal) + int(bonus),
            "points": int(points),
        }
        for store, principal, bonus, points in rows
    ]
    figures = ("principal_fen", "bonus_fen", "stored_value_fen", "points")
    return {
        "stores": stores,
        "chain": {name: sum(s[name] for s in stores) for name in figures},
    }
