"""Reading the down feed (docs/chain-protocol.md, "Down"): what a till has not heard yet.

A page holds, for each (kind, key) changed after the till's cursor and in its scope, the
key's **current** state (one item, at the key's highest change id), in id order. The state
comes from a builder per kind (`BUILDERS`), asked once per page with all the page's keys of
its kind, as the pulling till must see it: a card's and a member's external values are the
chain's less the pulling till's own position. A key its builder no longer finds (a card HQ
knows only from entries so far) is left out; its next change brings it.

Master data kinds (rules, product, operator, coupon_template) add builders of their own to
the registry the same way: `Builder(session, till, keys) -> {key: data}`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hq import master_feed
from hq.models import (
    CardPosition,
    ChainCard,
    ChainMember,
    FeedChange,
    HqLedgerEntry,
    HqRow,
    MemberPosition,
    Region,
    Store,
    Till,
)
from pos_app.domain.entry_kinds import EntryKind

MAX_LIMIT = 1000
DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class PullingTill:
    """The till a page is built for: its id, code, store and the store's region."""

    id: int
    code: str
    store_id: int
    region_id: int | None


Builder = Callable[[Session, PullingTill, list[str]], dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class FeedPage:
    items: list[dict[str, Any]]
    cursor: int
    more: bool

    def as_json(self) -> dict[str, Any]:
        return {"items": self.items, "cursor": self.cursor, "more": self.more}


def pulling_till(session: Session, code: str) -> PullingTill:
    till_id, store_id, region_id = session.execute(
        select(Till.id, Till.store_id, Store.region_id)
        .join(Store, Store.id == Till.store_id)
        .where(Till.code == code)
    ).one()
    return PullingTill(till_id, code, store_id, region_id)


def read_feed(session: Session, till: PullingTill, after: int, limit: int) -> FeedPage:
    """One page of the feed for `till` after change id `after`."""
    newest = func.max(FeedChange.id)
    scoped = (
        select(FeedChange.kind, FeedChange.key, newest.label("id"))
        .where(
            FeedChange.id > after,
            or_(FeedChange.store_id.is_(None), FeedChange.store_id == till.store_id),
            or_(FeedChange.region_id.is_(None), FeedChange.region_id == till.region_id),
        )
        .group_by(FeedChange.kind, FeedChange.key)
        .order_by(newest)
        .limit(limit + 1)
    )
    changed = session.execute(scoped).all()
    more = len(changed) > limit
    changed = changed[:limit]
    keys: dict[str, list[str]] = defaultdict(list)
    for kind, key, _ in changed:
        keys[kind].append(key)
    built: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, wanted in keys.items():
        builder = BUILDERS.get(kind)
        built[kind] = builder(session, till, wanted) if builder is not None else {}
    items = [
        {"id": change_id, "kind": kind, "key": key, "data": built[kind][key]}
        for kind, key, change_id in changed
        if key in built[kind]
    ]
    cursor = changed[-1][2] if changed else after
    return FeedPage(_with_card_members(session, till, items), cursor, more)


def _with_card_members(
    session: Session, till: PullingTill, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A card's member comes with it when the page does not hold the member already (its
    own change may be on a later page): a till cannot keep a card whose member it lacks."""
    members = {item["key"] for item in items if item["kind"] == "member"}
    wanted = sorted(
        {
            str(item["data"]["member_id"])
            for item in items
            if item["kind"] == "card" and item["data"].get("member_id")
        }
        - members
    )
    if not wanted:
        return items
    extra = _member_items(session, till, wanted)
    out: list[dict[str, Any]] = []
    for item in items:
        member_id = item["data"].get("member_id") if item["kind"] == "card" else None
        if member_id in extra:
            data = extra.pop(member_id)
            out.append({"id": item["id"], "kind": "member", "key": member_id, "data": data})
        out.append(item)
    return out


def _chunks(keys: list[str], size: int = 500) -> list[list[str]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _store_items(session: Session, _till: PullingTill, codes: list[str]) -> dict[str, Any]:
    """A chain store, by its code: `id` is the store's own id on its tills (members of the
    store name it), so a till can make the row its members need."""
    out: dict[str, Any] = {}
    for part in _chunks(codes):
        rows = session.execute(
            select(Store.id, Store.code, Store.name, Region.code)
            .outerjoin(Region, Region.id == Store.region_id)
            .where(Store.code.in_(part))
        ).all()
        uuids = _store_uuids(session, [row[0] for row in rows])
        for store_id, code, name, region in rows:
            if store_id in uuids:
                out[code] = {"id": uuids[store_id], "code": code, "name": name, "region": region}
    return out


def _store_uuids(session: Session, store_ids: list[int]) -> dict[int, str]:
    uuids: dict[int, str] = {}
    for store_id, uuid in session.execute(
        select(Till.store_id, Till.source_store_id)
        .where(Till.store_id.in_(store_ids), Till.source_store_id.is_not(None))
        .order_by(Till.id)
    ):
        uuids.setdefault(store_id, uuid)
    return uuids


# The member row's projections: a till recomputes its own from its ledger and mirrors.
MEMBER_PROJECTIONS = ("points_balance", "points_debt", "tier_since", "tier_locked_until")


def _member_items(session: Session, till: PullingTill, ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in _chunks(ids):
        points = _others(
            session,
            select(MemberPosition.member_id, MemberPosition.till_id, MemberPosition.points).where(
                MemberPosition.member_id.in_(part)
            ),
            till.id,
        )
        members = session.scalars(select(ChainMember).where(ChainMember.id.in_(part))).all()
        stores = _home_stores(session, [m.home_store_id for m in members])
        for m in members:
            data = {k: v for k, v in (m.data or {}).items() if k not in MEMBER_PROJECTIONS}
            data.update(
                external_points=points.get(m.id, (0,))[0],
                tier_code=m.tier_code or data.get("tier_code"),
                home_store=stores.get(m.home_store_id),
            )
            out[m.id] = data
    return out


def _home_stores(session: Session, store_ids: list[int | None]) -> dict[int | None, Any]:
    wanted = sorted({s for s in store_ids if s is not None})
    if not wanted:
        return {}
    codes = list(session.scalars(select(Store.code).where(Store.id.in_(wanted))))
    by_code = _store_items(session, PullingTill(0, "", 0, None), codes)
    ids: dict[str, int] = {
        code: store_id
        for code, store_id in session.execute(
            select(Store.code, Store.id).where(Store.id.in_(wanted))
        )
    }
    return {ids[code]: item for code, item in by_code.items()}


def _others(session: Session, query: Any, till_id: int) -> dict[str, tuple[int, ...]]:
    """Key → the sums of the positions of every till but `till_id`."""
    sums: dict[str, list[int]] = {}
    for key, position_till, *values in session.execute(query):
        held = sums.setdefault(key, [0] * len(values))
        if position_till != till_id:
            for i, value in enumerate(values):
                held[i] += int(value)
    return {key: tuple(values) for key, values in sums.items()}


CARD_FIELDS = ("id", "card_no", "media", "member_id", "pin_hash", "replaced_by_id", "created_at")


def _card_items(session: Session, till: PullingTill, ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in _chunks(ids):
        balances = _others(
            session,
            select(
                CardPosition.card_id,
                CardPosition.till_id,
                CardPosition.principal_fen,
                CardPosition.bonus_fen,
            ).where(CardPosition.card_id.in_(part)),
            till.id,
        )
        for card in session.scalars(select(ChainCard).where(ChainCard.id.in_(part))):
            if not card.card_no or not card.data:
                continue  # known from entries only: its row brings it
            principal, bonus = balances.get(card.id, (0, 0))
            data = {name: card.data.get(name) for name in CARD_FIELDS}
            data.update(
                id=card.id,
                card_no=card.card_no,
                member_id=card.member_id,
                state=card.state,
                state_source=card.state_source,
                external_principal_fen=principal,
                external_bonus_fen=bonus,
            )
            out[card.id] = data
    return out


def _newest_rows(session: Session, table: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The newest row of `table` by id any till sent (the last received wins)."""
    out: dict[str, dict[str, Any]] = {}
    for part in _chunks(keys):
        for data in session.scalars(
            select(HqRow.data)
            .where(
                HqRow.table_name == table,
                HqRow.row_key.in_([f'["{key}"]' for key in part]),
                HqRow.data.is_not(None),
            )
            .order_by(HqRow.received_at, HqRow.outbox_id)
        ):
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                out[data["id"]] = data
    return out


def _coupon_items(session: Session, _till: PullingTill, ids: list[str]) -> dict[str, Any]:
    """A coupon as last sent, `state` "redeemed" once any till used it (and none restored),
    with `state_source` (the till whose row says so) and that till's `used_at` and
    `used_receipt_no`; `template`: the template row, which a till of another store may not
    hold (a store's own template)."""
    out: dict[str, Any] = {}
    rows = session.execute(
        select(HqRow.data, Till.code)
        .join(Till, Till.id == HqRow.till_id)
        .where(
            HqRow.table_name == "coupon",
            HqRow.row_key.in_([f'["{key}"]' for key in ids]),
            HqRow.data.is_not(None),
        )
        .order_by(HqRow.received_at, HqRow.outbox_id)
    ).all()
    used: dict[str, tuple[str, dict[str, Any]]] = {}
    for data, till_code in rows:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            continue
        out[data["id"]] = dict(data)
        if data.get("state") == "used":
            used[data["id"]] = (till_code, data)
    templates = _newest_rows(
        session, "coupon_template", sorted({str(data.get("template_id")) for data in out.values()})
    )
    for coupon_id, data in out.items():
        if coupon_id in used:
            source, row = used[coupon_id]
            data.update(
                state="redeemed",
                state_source=source,
                used_at=row.get("used_at"),
                used_receipt_no=row.get("used_receipt_no"),
            )
        data["template"] = templates.get(str(data.get("template_id")))
    return out


def _pass_items(session: Session, till: PullingTill, ids: list[str]) -> dict[str, Any]:
    """A service pass as its granting till sent it, with its items' totals, and
    `external_used`: per service, the uses made at every till but `till` (its own uses are
    in its ledger), less the uses given back."""
    granted: dict[str, int] = {
        entry_id: till_id
        for entry_id, till_id in session.execute(
            select(HqLedgerEntry.entry_id, HqLedgerEntry.till_id).where(
                HqLedgerEntry.entry_id.in_(ids), HqLedgerEntry.kind == EntryKind.PASS_GRANTED
            )
        )
    }
    if not granted:
        return {}
    passes: dict[str, dict[str, Any]] = {}
    items: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for table, data, till_id in session.execute(
        select(HqRow.table_name, HqRow.data, HqRow.till_id)
        .where(HqRow.table_name.in_(["service_pass", "service_pass_item"]), HqRow.data.is_not(None))
        .where(or_(*(HqRow.row_key.like(f'["{key}"%') for key in granted)))
        .order_by(HqRow.received_at, HqRow.outbox_id)
    ):
        if not isinstance(data, dict):
            continue
        if table == "service_pass" and granted.get(str(data.get("id"))) == till_id:
            passes[data["id"]] = dict(data)
        elif table == "service_pass_item" and granted.get(str(data.get("pass_id"))) == till_id:
            items[data["pass_id"]][str(data.get("service_sku"))] = data
    used: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    members = sorted({str(data.get("member_id")) for data in passes.values()})
    for kind, payload in session.execute(
        select(HqLedgerEntry.kind, HqLedgerEntry.payload).where(
            HqLedgerEntry.member_id.in_(members),
            HqLedgerEntry.kind.in_([EntryKind.PASS_USED, EntryKind.PASS_USE_REVERSED]),
            HqLedgerEntry.till_id != till.id,
        )
    ):
        data = json.loads(payload or "{}")
        pass_id = str(data.get("pass_id"))
        if pass_id in passes:
            sign = 1 if kind == EntryKind.PASS_USED else -1
            used[pass_id][str(data.get("service_sku"))] += sign * int(data.get("qty") or 0)
    return {
        key: {
            **data,
            "items": list(items[key].values()),
            "external_used": dict(used[key]),
        }
        for key, data in passes.items()
    }


def _per_key(build: master_feed.Builder) -> Builder:
    """A master-data builder answers one key at a time; a page asks for several."""

    def batch(session: Session, till: PullingTill, keys: list[str]) -> dict[str, dict[str, Any]]:
        built = ((key, build(session, key, till)) for key in keys)
        return {key: data for key, data in built if data is not None}

    return batch


BUILDERS: dict[str, Builder] = {
    "store": _store_items,
    "member": _member_items,
    "card": _card_items,
    "coupon": _coupon_items,
    "service_pass": _pass_items,
    **{kind: _per_key(build) for kind, build in master_feed.BUILDERS.items()},
}
