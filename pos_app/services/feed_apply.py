"""Applying a page of HQ's down feed to the till (docs/chain-protocol.md, "Down").

One write transaction per page, and no network inside it (the puller fetched the page
first):

- rows are upserted with SQLite's `defer_foreign_keys` on (a card may come before its member
  in a page); another store's member names its home store, whose row is made here, and
  `hq-sync` as the one who registered them; another store's card has no stock batch;
- balances, points, card states, and coupons' and service passes' terms, states and uses
  at other tills go through mirror entries (`chain_mirror`), never into the projections
  directly, so verify still recomputes everything from this till's ledger;
- the till's own rows (its store, members registered here, cards of its own) are never
  overwritten: they are newer here than anything HQ has; members and cards another till of
  the same store made come down like any other store's;
- the rows the apply writes go up with the next push like any row of this till: they are
  its copy (a card row is its own ledger's projection, mirrors included, which HQ checks
  against the entries it receives), and HQ's rows of this till are what `pos-app sync
  restore` rebuilds it from — its mirror entries name those members, stores, point lots,
  products and operators. HQ tells a copy from the home store's row (`hq.till_copies`);
- `sync_state.feed_cursor` moves and `pulled_at` is set in the same transaction.

Kinds are applied by `APPLIERS`; master data kinds bring appliers of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update

from db.engine import write_session
from db.ledger import LedgerWriter
from db.models import (
    Card,
    Coupon,
    CouponTemplate,
    LedgerEntry,
    Member,
    ServicePass,
    ServicePassItem,
    Store,
    SyncState,
    own_store,
)
from pos_app.domain.card_lifecycle import mask_card_no
from pos_app.domain.entry_kinds import CARD_STATE_AFTER, MIRROR_KINDS
from pos_app.services import master_apply
from pos_app.services.chain_head import write_head
from pos_app.services.chain_mirror import (
    apply_card_external,
    apply_coupon_external,
    apply_member_external_points,
    apply_pass_external,
    hq_sync_operator,
)
from pos_app.services.context import StoreContext
from pos_app.services.integrity_alarm import read_alarm, refuse_if_broken
from pos_app.services.rules_store import current_rules
from pos_app.services.store_secret import key_path, missing_key_error
from pos_app.services.use_case import UseCase

log = logging.getLogger(__name__)

STATE_ID = 1


@dataclass(frozen=True)
class ApplyResult:
    applied: int  # items that changed something here
    skipped: int  # items not applied (a clash with a local row; a kind not handled)
    cursor: int
    pulled_at: str


# Applies one item's data (with "_change", the item's id); False when it applied nothing.
Applier = Callable[[UseCase, dict[str, Any]], bool | None]


@contextmanager
def feed_transaction(ctx: StoreContext) -> Iterator[UseCase]:
    """A use-case's frame without a person: the feed is HQ's, written by `hq-sync`. One
    write transaction, the ledger's head recorded after the commit as a use-case does."""
    keys = ctx.keys
    if keys is None:
        raise missing_key_error(key_path(ctx.key_dir, ctx.store.id))
    alarm = read_alarm(ctx.data_dir)
    with write_session(ctx.engine) as session:
        session.execute(text("PRAGMA defer_foreign_keys = ON"))
        version, rules = current_rules(session)
        ledger = LedgerWriter(
            session=session,
            store_id=ctx.store.id,
            operator_id="",  # set below, once hq-sync exists
            rules_version=version,
            now_iso=ctx.now_iso(),
            mac_key=keys.ledger_mac,
            guard=(lambda kind: refuse_if_broken(alarm, kind)) if alarm else None,
            till_id=ctx.till_id,
        )
        uc = UseCase(ctx, session, ledger, rules, None, keys)
        ledger.operator_id = hq_sync_operator(uc).id
        yield uc
    head = uc.ledger.head_after
    if head is not None and ctx.data_dir is not None:
        write_head(keys, ctx.data_dir, head[0], head[1], uc.now_iso)
    if head is not None:
        ctx.notify_committed()  # the mirrors go up with the next push


def apply_page(ctx: StoreContext, items: list[dict[str, Any]], cursor: int) -> ApplyResult:
    """Apply one page of the feed and move the cursor, in one transaction."""
    applied = skipped = 0
    with feed_transaction(ctx) as uc:
        s = uc.session
        for item in sorted(items, key=_apply_order):
            applier = APPLIERS.get(str(item.get("kind")))
            data = item.get("data")
            if applier is None or not isinstance(data, dict):
                skipped += 1
                continue
            data = {**data, "_change": item.get("id")}
            if applier(uc, data) is not False:
                applied += 1
            else:
                skipped += 1
        s.flush()
        now = uc.now_iso
        s.execute(
            update(SyncState)
            .where(SyncState.id == STATE_ID)
            .values(feed_cursor=cursor, pulled_at=now, pull_error=None)
        )
    return ApplyResult(applied, skipped, cursor, now)


# What rows point at comes first (a card names its member, a member its store); the rest
# keep HQ's order.
_FIRST = {"store": 0, "member": 1, "coupon_template": 2, "coupon": 3, "service_pass": 3}


def _apply_order(item: dict[str, Any]) -> int:
    return _FIRST.get(str(item.get("kind")), 2)


def _change(data: dict[str, Any]) -> int | None:
    change = data.get("_change")
    return change if isinstance(change, int) else None


def apply_store(uc: UseCase, data: dict[str, Any]) -> bool:
    """Another store of the chain (members of it name it). The till's own is never touched."""
    store_id, code, name = data.get("id"), data.get("code"), data.get("name")
    if not isinstance(store_id, str) or not isinstance(code, str) or not code:
        return False
    own = uc.session.scalars(own_store()).one()
    if store_id == own.id or code == own.code:
        return False  # this till's store (another till of it may know it by another id)
    s = uc.session
    row = s.get(Store, store_id)
    clash = s.scalars(select(Store).where(Store.code == code, Store.id != store_id)).first()
    if clash is not None:
        log.warning("feed: store %s not applied: the code belongs to another store here", code)
        return False
    if row is None:
        s.add(Store(id=store_id, code=code, name=str(name or code), created_at=uc.now_iso))
        return True
    if (row.code, row.name) != (code, name or row.name):
        row.code, row.name = code, str(name or row.name)
        return True
    return False


# The member row's own columns as HQ sends them (projections are this till's).
_MEMBER_COLUMNS = (
    "member_no",
    "mobile",
    "name",
    "gender",
    "birthday",
    "email",
    "address",
    "notes",
    "created_at",
)


def apply_member(uc: UseCase, data: dict[str, Any]) -> bool:
    """A member of the chain: the row (another store's only) and their points at the other
    tills as a mirror."""
    s = uc.session
    member_id = data.get("id")
    if not isinstance(member_id, str):
        return False
    member = s.get(Member, member_id)
    changed = False
    # Rows the feed made are registered by hq-sync; any other was made here, and is newer
    # here than HQ's copy (another till of this store registers members of this store too).
    hq_sync = uc.ledger.operator_id
    if member is None or member.registered_by_id == hq_sync:
        home = data.get("home_store")
        if isinstance(home, dict):
            changed |= apply_store(uc, home)
        member, wrote = _upsert_member(uc, member, data, _home_store_id(uc, data))
        if member is None:
            return False
        changed |= wrote
    s.flush()
    foreign = member.registered_by_id == hq_sync
    entry = apply_member_external_points(
        uc,
        member,
        external_points=int(data.get("external_points") or 0),
        tier_code=str(data["tier_code"]) if foreign and data.get("tier_code") else None,
        change=_change(data),
    )
    return changed or entry is not None


def _home_store_id(uc: UseCase, data: dict[str, Any]) -> str | None:
    """The member's home store as a row here: the one the member row names, else the store
    of that code (each till of a store may have given its store its own id)."""
    s = uc.session
    store_id = data.get("store_id")
    if isinstance(store_id, str) and s.get(Store, store_id) is not None:
        return store_id
    home = data.get("home_store")
    code = home.get("code") if isinstance(home, dict) else None
    if not isinstance(code, str):
        return None
    return s.scalars(select(Store.id).where(Store.code == code)).first()


def _upsert_member(
    uc: UseCase, member: Member | None, data: dict[str, Any], store_id: str | None
) -> tuple[Member | None, bool]:
    s = uc.session
    member_id = str(data["id"])
    if store_id is None:
        log.warning("feed: member %s not applied: its home store is unknown here", member_id)
        return member, False
    values: dict[str, Any] = {name: data.get(name) for name in _MEMBER_COLUMNS}
    mobile = values["mobile"]
    if not isinstance(mobile, str) or not isinstance(values["member_no"], str):
        return member, False
    for column, value in (("mobile", mobile), ("member_no", values["member_no"])):
        other = s.scalars(
            select(Member.id).where(getattr(Member, column) == value, Member.id != member_id)
        ).first()
        if other is not None:
            # HQ reports two members with one mobile as a conflict (mobile_duplicate).
            log.warning(
                "feed: member %s not applied: its %s is another member's", member_id, column
            )
            return member, False
    referrer = data.get("referrer_id")
    known = isinstance(referrer, str) and s.get(Member, referrer) is not None
    values["referrer_id"] = referrer if known else None
    values["mobile_last4"] = mobile[-4:]
    values["store_id"] = store_id
    if member is None:
        member = Member(
            id=member_id,
            registered_by_id=uc.ledger.operator_id,
            tier_code=str(data.get("tier_code") or ""),
            tier_since=str(data.get("created_at") or uc.now_iso),
            points_balance=0,
            points_debt=0,
            **values,
        )
        s.add(member)
        return member, True
    wrote = False
    for name, value in values.items():
        if getattr(member, name) != value:
            setattr(member, name, value)
            wrote = True
    return member, wrote


def _own_card(uc: UseCase, card: Card) -> bool:
    """A card of this till: from its stock, or with entries of its own (not mirrors)."""
    if card.stock_batch_id is not None:
        return True
    found = uc.session.scalar(
        select(LedgerEntry.entry_id)
        .where(
            LedgerEntry.card_id == card.id,
            LedgerEntry.kind.not_in([str(k) for k in MIRROR_KINDS]),
        )
        .limit(1)
    )
    return found is not None


def _unacked_state_change(uc: UseCase, card: Card) -> bool:
    """Whether this till changed the card's state in an entry HQ does not hold yet."""
    acked = uc.session.scalar(select(SyncState.acked_seq).where(SyncState.id == STATE_ID)) or 0
    found = uc.session.scalar(
        select(LedgerEntry.entry_id)
        .where(
            LedgerEntry.card_id == card.id,
            LedgerEntry.store_id == uc.ctx.store.id,
            LedgerEntry.store_seq > acked,
            LedgerEntry.kind.in_([str(k) for k in CARD_STATE_AFTER]),
        )
        .limit(1)
    )
    return found is not None


def apply_card(uc: UseCase, data: dict[str, Any]) -> bool:
    """A card of the chain: the row (another store's only), and what the other tills did to
    it (balances, the chain state) as a mirror."""
    s = uc.session
    card_id, card_no = data.get("id"), data.get("card_no")
    if not isinstance(card_id, str) or not isinstance(card_no, str):
        return False
    card = s.get(Card, card_id)
    member_id = data.get("member_id")
    if member_id is not None and s.get(Member, member_id) is None:
        log.warning("feed: card %s not applied: its member is not here", mask_card_no(card_no))
        return False
    changed = False
    if card is None:
        if s.scalars(select(Card.id).where(Card.card_no == card_no)).first() is not None:
            log.warning(
                "feed: card %s not applied: the number is another card's here",
                mask_card_no(card_no),
            )
            return False
        replaced_by = data.get("replaced_by_id")
        card = Card(
            id=card_id,
            card_no=card_no,
            media=str(data.get("media") or "ic"),
            member_id=member_id,
            pin_hash=data.get("pin_hash"),
            replaced_by_id=replaced_by if replaced_by and s.get(Card, replaced_by) else None,
            created_at=str(data.get("created_at") or uc.now_iso),
            state=str(data.get("state") or "active"),
            principal_fen=0,
            bonus_fen=0,
            pin_failures=0,
        )
        s.add(card)
        s.flush()
        changed = True
    elif not _own_card(uc, card):
        for name in ("member_id", "pin_hash", "media"):
            value = data.get(name)
            if value is not None and getattr(card, name) != value:
                setattr(card, name, value)
                changed = True
    # The state this till set itself is newer here than HQ's echo of it, and so is a state
    # change HQ has not received yet (a card reported lost here stays lost, whatever HQ
    # still says of it, until HQ holds the report).
    state = data.get("state")
    if data.get("state_source") == uc.ctx.till_id or _unacked_state_change(uc, card):
        state = None
    entry = apply_card_external(
        uc,
        card,
        external_principal_fen=int(data.get("external_principal_fen") or 0),
        external_bonus_fen=int(data.get("external_bonus_fen") or 0),
        state=str(state) if state else None,
        state_source=str(data.get("state_source") or "") or None,
        change=_change(data),
    )
    return changed or entry is not None


# HQ's coupon states as the till's (HQ says "redeemed" once any till used it).
_COUPON_STATES = {"issued": "issued", "used": "used", "redeemed": "used", "void": "void"}


def apply_coupon(uc: UseCase, data: dict[str, Any]) -> bool:
    """A coupon of the chain: another store's comes with its row, its template when the till
    has none of that id (kept inactive: this store does not issue it), and its terms as a
    mirror; any coupon's chain state moves forward only (used or voided at another till),
    as a mirror too."""
    s = uc.session
    coupon_id, code, template_id = data.get("id"), data.get("code"), data.get("template_id")
    if not isinstance(coupon_id, str) or not isinstance(code, str):
        return False
    if not isinstance(template_id, str) or str(data.get("state")) not in _COUPON_STATES:
        return False
    member_id = data.get("member_id")
    if member_id is not None and s.get(Member, member_id) is None:
        log.warning("feed: coupon %s not applied: its member is not here", coupon_id)
        return False
    template = s.get(CouponTemplate, template_id) or _coupon_template(uc, data.get("template"))
    if template is None:
        log.warning("feed: coupon %s not applied: its template is not here", coupon_id)
        return False
    coupon = s.get(Coupon, coupon_id)
    first = coupon is None
    if coupon is None:
        if s.scalars(select(Coupon.id).where(Coupon.code == code)).first() is not None:
            log.warning("feed: coupon %s not applied: its code is another coupon's", coupon_id)
            return False
        coupon = Coupon(
            id=coupon_id,
            code=code,
            template_id=template.id,
            member_id=member_id,
            source=str(data.get("source") or "chain"),
            batch_label=data.get("batch_label"),
            valid_from=str(data.get("valid_from")),
            valid_to=str(data.get("valid_to")),
            issued_at=str(data.get("issued_at") or uc.now_iso),
            state="issued",
            used_at=None,
            used_receipt_no=None,
        )
        s.add(coupon)
        s.flush()
    # A use this till made itself is newer here than HQ's echo of it (it may have been
    # restored by a refund since).
    state = _COUPON_STATES[str(data["state"])]
    if data.get("state_source") == uc.ctx.till_id:
        state = coupon.state
    entry = apply_coupon_external(
        uc,
        coupon,
        template,
        state=state,
        first=first,
        used_at=data.get("used_at"),
        used_receipt_no=data.get("used_receipt_no"),
        change=_change(data),
    )
    return entry is not None


# The template columns a coupon of another store needs here (its own id and code).
_TEMPLATE_COLUMNS = tuple(
    c.name for c in CouponTemplate.__table__.columns if c.name not in ("active", "created_at")
)


def _coupon_template(uc: UseCase, data: object) -> CouponTemplate | None:
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    s = uc.session
    if s.scalars(select(CouponTemplate.id).where(CouponTemplate.code == data.get("code"))).first():
        return None  # this store has a template of that code: it cannot hold both
    values = {name: data[name] for name in _TEMPLATE_COLUMNS if name in data}
    template = CouponTemplate(**values, active=False, created_at=uc.now_iso)
    s.add(template)
    s.flush()
    return template


def apply_service_pass(uc: UseCase, data: dict[str, Any]) -> bool:
    """A service pass of the chain (a count card works in every store): another till's comes
    with its row and items; for any pass, the uses made at the other tills and its chain
    state come as a `pass_synced` mirror, so its uses left here are the chain's."""
    s = uc.session
    pass_id, member_id = data.get("id"), data.get("member_id")
    raw_items = data.get("items")
    if not isinstance(pass_id, str) or not isinstance(member_id, str):
        return False
    if not isinstance(raw_items, list) or s.get(Member, member_id) is None:
        log.warning("feed: service pass %s not applied: its member is not here", pass_id)
        return False
    items: dict[str, int | None] = {
        str(i["service_sku"]): None if i.get("uses_total") is None else int(i["uses_total"])
        for i in raw_items
        if isinstance(i, dict) and i.get("service_sku")
    }
    row = s.get(ServicePass, pass_id)
    first = row is None
    if row is None:
        row = ServicePass(
            id=pass_id,
            member_id=member_id,
            product_sku=str(data.get("product_sku")),
            kind=str(data.get("kind")),
            name=str(data.get("name")),
            valid_until=str(data.get("valid_until")),
            receipt_no=data.get("receipt_no"),
            state="active",
            granted_at=str(data.get("granted_at") or uc.now_iso),
        )
        s.add(row)
        s.flush()
        for sku, total in items.items():
            s.add(
                ServicePassItem(pass_id=pass_id, service_sku=sku, uses_total=total, uses_left=total)
            )
        s.flush()
    used = data.get("external_used")
    external = {sku: int(used.get(sku) or 0) if isinstance(used, dict) else 0 for sku in items}
    entry = apply_pass_external(
        uc,
        row,
        items=items,
        external_used=external,
        state=str(data.get("state") or "") or None,
        first=first,
        change=_change(data),
    )
    return entry is not None


APPLIERS: dict[str, Applier] = {
    "store": apply_store,
    "member": apply_member,
    "card": apply_card,
    "coupon": apply_coupon,
    "service_pass": apply_service_pass,
    **master_apply.APPLIERS,  # rules, product, operator, coupon_template
}
