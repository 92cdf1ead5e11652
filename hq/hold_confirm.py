"""Confirming online authorizations (docs/chain-protocol.md, "Spending a card anywhere").

A sale's `sv_payment` / `points_redeemed` / `coupon_redeemed` entries name the hold HQ gave
for them (`"hold_id"` in the payload). When the ingest adds such an entry to the positions,
the hold stops counting in the same transaction (`confirmed`, with the entry's seq), so the
amount is counted exactly once: as held before, as spent after.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from hq.models import Hold


def confirm(session: Session, till: int, entries: Sequence[dict[str, Any]]) -> int:
    """Confirm the holds of `till` its new entries name; returns how many changed."""
    changed = 0
    for entry in entries:
        payload = entry.get("payload")
        if not payload or '"hold_id"' not in payload:  # most entries: no JSON parse
            continue
        try:
            hold_id = json.loads(payload).get("hold_id")
        except (ValueError, AttributeError):
            continue
        if not isinstance(hold_id, str):
            continue
        # A hold that expired or was released before its entry came still moved the money:
        # the entry is what counts now.
        result = session.execute(
            update(Hold)
            .where(Hold.id == hold_id, Hold.till_id == till, Hold.state != "confirmed")
            .values(state="confirmed", entry_seq=entry["store_seq"], settled_at=entry["wall_time"])
            .execution_options(synchronize_session=False)
        )
        changed += result.rowcount  # type: ignore[attr-defined]
    return changed
