"""Writing the down feed (docs/chain-protocol.md, "Down"): one `feed_change` row per thing
tills must hear about, in the transaction that changed it.

Ids come from the one-row `feed_clock`, taken with an UPDATE: its row lock makes concurrent
writers wait for each other's commit, so ids become visible in increasing order and a till's
cursor never passes a change that was still uncommitted when it pulled.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from hq.models import FeedChange, FeedClock


@dataclass(frozen=True)
class Change:
    # store, member, card, coupon, service_pass, coupon_template, rules, product, operator
    kind: str
    key: str
    store_id: int | None = None  # only this store's tills hear it
    region_id: int | None = None  # only this region's tills hear it
    origin_till_id: int | None = None  # the till whose push caused it


def record_changes(session: Session, changes: list[Change], now: str) -> None:
    """Append `changes` to the feed (duplicates within the list are written once)."""
    unique = list(dict.fromkeys(changes))
    if not unique:
        return
    last = session.execute(
        update(FeedClock)
        .where(FeedClock.id == 1)
        .values(value=FeedClock.value + len(unique))
        .returning(FeedClock.value)
    ).scalar_one()
    first = last - len(unique) + 1
    session.execute(
        insert(FeedChange),
        [
            {
                "id": first + i,
                "kind": c.kind,
                "key": c.key,
                "store_id": c.store_id,
                "region_id": c.region_id,
                "origin_till_id": c.origin_till_id,
                "at": now,
            }
            for i, c in enumerate(unique)
        ],
    )
