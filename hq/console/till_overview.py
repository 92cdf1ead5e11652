"""The dashboard's figures: every store and till a viewer may see, with its sync state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hq.console.sign_in import Viewer
from hq.models import Fork, Region, Store, Till

# A till that has not pushed for this long is shown as unreachable: it pushes every few
# seconds while it runs, so an hour means it is off, cut off, or broken.
UNREACHABLE_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class TillLine:
    store_code: str
    store_name: str
    region: str | None
    code: str
    enrolled: bool  # the till redeemed its token (has a key)
    enrolled_at: str
    last_seen: str | None
    lag: timedelta | None  # now − last_seen
    acked_seq: int
    head_hash: str | None
    forks: int

    @property
    def unreachable(self) -> bool:
        return self.lag is None or self.lag > UNREACHABLE_AFTER


def till_lines(
    session: Session, viewer: Viewer, now: datetime, till_code: str | None = None
) -> list[TillLine]:
    """The viewer's tills by store and code (one till with `till_code`; none if out of
    scope, so another store's till is not found rather than forbidden)."""
    forks = select(func.count()).select_from(Fork).where(Fork.till_id == Till.id)
    query = (
        select(
            Store.code,
            Store.name,
            Region.code,
            Till.code,
            Till.public_key,
            Till.enrolled_at,
            Till.last_seen,
            Till.acked_seq,
            Till.head_hash,
            forks.scalar_subquery(),
        )
        .join(Store, Store.id == Till.store_id)
        .outerjoin(Region, Region.id == Store.region_id)
        .order_by(Store.code, Till.code)
    )
    if viewer.store_ids is not None:
        query = query.where(Till.store_id.in_(viewer.store_ids))
    if till_code is not None:
        query = query.where(Till.code == till_code)
    lines = []
    for store, name, region, code, key, enrolled_at, seen, acked, head, n_forks in session.execute(
        query
    ):
        lag = now - datetime.fromisoformat(seen) if seen else None
        lines.append(
            TillLine(
                store,
                name,
                region,
                code,
                key is not None,
                enrolled_at,
                seen,
                lag,
                int(acked or 0),
                head,
                int(n_forks),
            )
        )
    return lines


def fork_rows(session: Session, till_code: str) -> list[tuple[int, str, str]]:
    """(seq, received hash, detected at) of a till's forks, newest first."""
    rows = session.execute(
        select(Fork.seq, Fork.received_hash, Fork.detected_at)
        .join(Till, Till.id == Fork.till_id)
        .where(Till.code == till_code)
        .order_by(Fork.id.desc())
    )
    return [(int(seq), h, at) for seq, h, at in rows]
