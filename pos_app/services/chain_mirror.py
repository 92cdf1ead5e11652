"""Mirror entries: what the other tills of the chain did to a card or to a member's points, as
HQ last told this till (docs/chain-protocol.md, "Balances: positions and mirrors").

A mirror is an ordinary ledger entry of this till (`card_synced`, `points_synced`) written by
the till's `hq-sync` operator inside the caller's transaction (the feed apply's, or a sale's
after an online authorization). Its delta is the new external value less what earlier
mirrors of the same card or member already brought, so telling the till the same value twice
writes nothing, and verify recomputes the local balance from the entries as always.
Mirrors move no money of this store: every figure leaves `MIRROR_KINDS` out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select

from db.ledger import new_id
from db.models import (
    Card,
    Coupon,
    CouponTemplate,
    LedgerEntry,
    Member,
    Operator,
    PointLot,
    ServicePass,
    ServicePassItem,
)
from pos_app.domain.entry_kinds import HQ_SYNC_LOGIN, EntryKind
from pos_app.domain.permissions import Role
from pos_app.domain.points import Allocation, allocate, settle_debt
from pos_app.services.operator_records import record_operator_change
from pos_app.services.points_book import as_domain, member_lots
from pos_app.services.use_case import UseCase

# Not a hash any password can match (`verify_secret` knows only "scrypt$…"): the operator
# exists to sign mirror entries, never to sign in.
UNUSABLE_PASSWORD = "!hq-sync: no password"


def hq_sync_operator(uc: UseCase) -> Operator:
    """The till's HQ sync operator, made (and recorded in the ledger) on first use."""
    s = uc.session
    op = s.scalars(select(Operator).where(Operator.login == HQ_SYNC_LOGIN)).first()
    if op is not None:
        return op
    op = Operator(
        id=new_id(),
        login=HQ_SYNC_LOGIN,
        name="总部同步 HQ sync",
        role=Role.CASHIER.value,
        password_hash=UNUSABLE_PASSWORD,
        active=False,
        created_at=uc.now_iso,
    )
    s.add(op)
    s.flush()
    # Signed by itself: the feed apply that first needs it has no person behind it.
    ledger = uc.ledger
    saved = (ledger.operator_id, ledger.approved_by_id)
    ledger.operator_id, ledger.approved_by_id = op.id, None
    try:
        record_operator_change(uc, op, "added", {"reason": "chain mirror entries"})
    finally:
        ledger.operator_id, ledger.approved_by_id = saved
    return op


@contextmanager
def _as_hq_sync(uc: UseCase) -> Iterator[None]:
    """Entries appended inside are signed by `hq-sync`, not by the use-case's actor (a cashier
    whose sale brought HQ's answer along did not move the other tills' money)."""
    op = hq_sync_operator(uc)
    ledger = uc.ledger
    saved = (ledger.operator_id, ledger.approved_by_id)
    ledger.operator_id, ledger.approved_by_id = op.id, None
    try:
        yield
    finally:
        ledger.operator_id, ledger.approved_by_id = saved


def _payload(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def apply_card_external(
    uc: UseCase,
    card: Card,
    *,
    external_principal_fen: int,
    external_bonus_fen: int,
    state: str | None = None,
    state_source: str | None = None,
    change: int | None = None,
) -> LedgerEntry | None:
    """Bring the card to HQ's external values (and chain state): one `card_synced` entry, or
    None when nothing changed."""
    s = uc.session
    s.flush()
    mirrored, principal, bonus = s.execute(
        select(
            func.count(),
            func.coalesce(func.sum(LedgerEntry.principal_delta), 0),
            func.coalesce(func.sum(LedgerEntry.bonus_delta), 0),
        ).where(LedgerEntry.card_id == card.id, LedgerEntry.kind == EntryKind.CARD_SYNCED)
    ).one()
    dp = int(external_principal_fen) - int(principal)
    db = int(external_bonus_fen) - int(bonus)
    # A card that came down from HQ has no state of its own until its first mirror sets it.
    new_state = state if state is not None and (state != card.state or not mirrored) else None
    if not dp and not db and new_state is None:
        return None
    with _as_hq_sync(uc):
        entry = uc.ledger.append(
            EntryKind.CARD_SYNCED,
            member_id=card.member_id,
            card_id=card.id,
            principal_delta=dp,
            bonus_delta=db,
            payload=_payload(
                external_principal_fen=int(external_principal_fen),
                external_bonus_fen=int(external_bonus_fen),
                state=new_state,
                state_source=state_source if new_state is not None else None,
                change=change,
            ),
        )
    card.principal_fen += dp
    card.bonus_fen += db
    if new_state is not None:
        card.state = new_state
    return entry


def apply_member_external_points(
    uc: UseCase,
    member: Member,
    *,
    external_points: int,
    tier_code: str | None = None,
    change: int | None = None,
) -> LedgerEntry | None:
    """Bring the member's points to HQ's external value: one `points_synced` entry, or None.
    `tier_code` (a member of another store, whose tier this till does not evaluate) sets the
    member's tier as HQ knows it, as a `tier_changed` would; verify replays it.

    The points live in the member's chain lot (id: the first `points_synced` entry; never
    expires here, the earning till expires its own). A rise first pays off a points debt,
    as an earning would, and the rest goes to the chain lot; a fall takes from the chain lot,
    then from the other lots oldest first, then into the debt, as a redemption would."""
    s = uc.session
    s.flush()
    mine = (LedgerEntry.member_id == member.id, LedgerEntry.kind == EntryKind.POINTS_SYNCED)
    mirrored = s.scalar(select(func.coalesce(func.sum(LedgerEntry.points_delta), 0)).where(*mine))
    first_id = s.scalar(select(LedgerEntry.entry_id).where(*mine).order_by(LedgerEntry.store_seq))
    delta = int(external_points) - int(mirrored or 0)
    new_tier = tier_code if tier_code is not None and tier_code != member.tier_code else None
    if first_id is None and tier_code is not None:
        new_tier = tier_code  # the member's first mirror records its tier, whatever the row says
    if not delta and new_tier is None:
        return None
    payload: dict[str, Any] = _payload(
        external_points=int(external_points), tier=new_tier, change=change
    )
    chain_lot = s.get(PointLot, first_id) if first_id else None
    if delta >= 0:
        remaining, debt_paid = settle_debt(delta, member.points_debt)
        payload["debt_paid"] = debt_paid
        allocations: list[Allocation] = []
        debt_added = 0
    else:
        remaining = debt_paid = 0
        allocations, debt_added = _allocate_fall(uc, member, chain_lot, -delta)
        payload["lots"] = [[a.lot_id, a.points] for a in allocations]
        payload["debt_added"] = debt_added
    with _as_hq_sync(uc):
        entry = uc.ledger.append(
            EntryKind.POINTS_SYNCED, member_id=member.id, points_delta=delta, payload=payload
        )
    s.flush()
    if chain_lot is None:
        chain_lot = PointLot(
            id=entry.entry_id,
            member_id=member.id,
            seq=entry.store_seq,
            earned_at=uc.now_iso,
            expires_on=None,
            points=0,
            remaining=0,
        )
        s.add(chain_lot)
    chain_lot.points += max(delta, 0)
    chain_lot.remaining += remaining
    for a in allocations:
        lot = chain_lot if a.lot_id == chain_lot.id else s.get(PointLot, a.lot_id)
        assert lot is not None and lot.remaining >= a.points
        lot.remaining -= a.points
    member.points_balance += delta
    member.points_debt += debt_added - debt_paid
    if new_tier is not None:
        member.tier_code = new_tier
    return entry


def _allocate_fall(
    uc: UseCase, member: Member, chain_lot: PointLot | None, points: int
) -> tuple[list[Allocation], int]:
    allocations: list[Allocation] = []
    left = points
    if chain_lot is not None and chain_lot.remaining > 0:
        take = min(chain_lot.remaining, left)
        allocations.append(Allocation(chain_lot.id, take))
        left -= take
    others = [
        lot for lot in member_lots(uc, member.id) if chain_lot is None or lot.id != chain_lot.id
    ]
    if left and others:
        more, left = allocate(as_domain(others), left)
        allocations.extend(a for a in more if a.points)
    return allocations, left


# A coupon's chain state moves one way only: what another till did (a use, a void) is news
# here; HQ saying "issued" of a coupon this till holds as used is older than this till's use
# (not pushed yet) or a restore elsewhere, and a coupon refused is safer than one used twice.
_FORWARD = {("issued", "used"), ("issued", "void")}


def apply_coupon_external(
    uc: UseCase,
    coupon: Coupon,
    template: CouponTemplate,
    *,
    state: str,
    first: bool,
    used_at: str | None = None,
    used_receipt_no: str | None = None,
    change: int | None = None,
) -> LedgerEntry | None:
    """Another store's coupon as HQ knows it: one `coupon_synced` entry when it first comes
    (its terms, as `coupon_issued` would carry them) or when its chain state moves on (used
    or voided at another till); None when nothing changed. Verify replays it."""
    moved = (coupon.state, state) in _FORWARD
    if not first and not moved:
        return None
    new_state = state
    payload = _payload(
        coupon_id=coupon.id,
        code=coupon.code,
        template=template.code,
        valid_from=coupon.valid_from,
        valid_to=coupon.valid_to,
        state=new_state,
        used_receipt_no=used_receipt_no if new_state == "used" else None,
        change=change,
    )
    with _as_hq_sync(uc):
        entry = uc.ledger.append(
            EntryKind.COUPON_SYNCED, member_id=coupon.member_id, payload=payload
        )
    coupon.state = new_state
    if new_state == "used":
        coupon.used_at, coupon.used_receipt_no = used_at, used_receipt_no
    return entry


def apply_pass_external(
    uc: UseCase,
    service_pass: ServicePass,
    *,
    items: dict[str, int | None],
    external_used: dict[str, int],
    state: str | None,
    first: bool,
    change: int | None = None,
) -> LedgerEntry | None:
    """A service pass as HQ knows it: one `pass_synced` entry when a pass of another till
    first comes (its terms, as `pass_granted` carries them), and whenever the uses made at the
    other tills (a running total per service) or its chain state (revoked there) move on;
    None when nothing changed."""
    s = uc.session
    s.flush()
    last = s.scalar(
        select(LedgerEntry.payload)
        .where(
            LedgerEntry.kind == EntryKind.PASS_SYNCED,
            func.json_extract(LedgerEntry.payload, "$.pass_id") == service_pass.id,
        )
        .order_by(LedgerEntry.store_seq.desc())
        .limit(1)
    )
    before = (
        {str(k): int(v) for k, v in (json.loads(last).get("external_used") or {}).items()}
        if last
        else {}
    )
    deltas = {sku: n - before.get(sku, 0) for sku, n in external_used.items()}
    deltas.update({sku: -n for sku, n in before.items() if sku not in external_used})
    revoked = state == "revoked" and service_pass.state != "revoked"
    if not first and not revoked and not any(deltas.values()):
        return None
    with _as_hq_sync(uc):
        entry = uc.ledger.append(
            EntryKind.PASS_SYNCED,
            member_id=service_pass.member_id,
            payload=_payload(
                pass_id=service_pass.id,
                sku=service_pass.product_sku,
                kind=service_pass.kind,
                name=service_pass.name,
                valid_until=service_pass.valid_until,
                items=items,
                external_used=dict(sorted(external_used.items())),
                state="revoked" if revoked else None,
                change=change,
            ),
        )
    for item in s.scalars(
        select(ServicePassItem).where(ServicePassItem.pass_id == service_pass.id)
    ):
        delta = deltas.get(item.service_sku, 0)
        if item.uses_left is not None and delta:
            item.uses_left -= delta
    if revoked:
        service_pass.state = "revoked"
    return entry
