"""A till's copies of what HQ sent it (docs/chain-protocol.md, "Down").

Every row the down feed writes on a till goes back up as that till's row, like any other
(HQ's rows of a till are what `pos-app sync restore` rebuilds it from: its mirror entries
name those members, stores, point lots, products and operators). HQ must not take such a
copy for the home store's data:

- a member row is a copy when its `registered_by_id` is the sending till's `hq-sync`
  operator (the till itself treats such a row as HQ's: the feed overwrites it);
- a store row is a copy when it is not the till's own store (see `hq.ingest`).

`chain_views` leaves copies out of the chain views and the feed; `conflicts` out of
`mobile_duplicate`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hq.models import HqRow
from pos_app.domain.entry_kinds import HQ_SYNC_LOGIN


def hq_sync_ids(session: Session, till_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Till id → the id of its `hq-sync` operator, for the tills (all when None) that sent
    one up (a till that never pulled has none)."""
    query = select(HqRow.till_id, HqRow.data).where(
        HqRow.table_name == "operator", HqRow.data["login"].as_string() == HQ_SYNC_LOGIN
    )
    if till_ids is not None:
        query = query.where(HqRow.till_id.in_(sorted(set(till_ids))))
    out: dict[int, str] = {}
    for till_id, data in session.execute(query):
        if isinstance(data, dict) and data.get("login") == HQ_SYNC_LOGIN:
            operator_id = data.get("id")
            if isinstance(operator_id, str):
                out[till_id] = operator_id
    return out


def is_member_copy(data: dict[str, Any], hq_sync_id: str | None) -> bool:
    """Whether a till's member row is its copy of what the feed sent it."""
    return hq_sync_id is not None and data.get("registered_by_id") == hq_sync_id
