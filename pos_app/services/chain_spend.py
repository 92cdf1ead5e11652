"""A sale's say from the chain (docs/chain-protocol.md, "Spending a card anywhere"): before
checkout's write transaction, HQ is asked to hold the stored value, points and coupons the
sale takes; inside it, HQ's answer is mirrored first and the sale's entries name the hold,
or, when HQ could not be asked, the till stands in within the rules' `[chain]` limits and
marks the entries `"standin": true`.

A till without sync set up never gets here: it spends its own balances as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card, LedgerEntry, Member, SyncState
from pos_app.domain.card_lifecycle import CardState, check_can_pay, mask_card_no
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import MAX_AMOUNT_FEN
from pos_app.domain.offline_limits import StandInAsk, StandInToday, stand_in_refusal
from pos_app.domain.permissions import Permission
from pos_app.domain.rules import Rules
from pos_app.domain.sale_request import SaleRequest
from pos_app.domain.tenders import TenderLimits, plan_tenders, points_for, points_max_fen
from pos_app.services.auth import Actor, authorize
from pos_app.services.chain_mirror import apply_card_external, apply_member_external_points
from pos_app.services.context import StoreContext
from pos_app.services.lookup import card_by_no
from pos_app.services.rules_store import current_rules
from pos_app.services.use_case import UseCase
from pos_app.sync import card_authorizer
from pos_app.sync.card_authorizer import Authorized, HoldAsk, HqDeclined, StandIn
from pos_app.sync.errors import SyncNotConfigured
from pos_app.sync.state import SyncConfig, read_config

if TYPE_CHECKING:
    from pos_app.services.checkout import Cart

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainSpend:
    """What the chain said about one sale: HQ's hold, or a stand-in (and why)."""

    config: SyncConfig
    ask: HoldAsk
    outcome: Authorized | StandIn

    @property
    def hold(self) -> Authorized | None:
        return self.outcome if isinstance(self.outcome, Authorized) else None


def authorize_spend(ctx: StoreContext, actor: Actor, request: SaleRequest) -> ChainSpend | None:
    """Ask HQ for the sale's hold (network: call outside any write transaction). None when
    the sale needs none: sync not set up, or no stored value, points or coupons taken.
    HQ's refusal is raised (`HqDeclined`)."""
    from pos_app.services.checkout import price_cart  # checkout imports this module

    takes = {t.tender for t in request.tenders} & {"stored_value", "points"}
    if not takes and not request.coupon_codes:
        return None
    try:
        config = read_config(ctx)
    except SyncNotConfigured:
        return None
    if _stored_value_told(request):
        return _authorize_told_amount(ctx, actor, request, config)
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE)
        _, rules = current_rules(s)
        cart = price_cart(s, rules, request, ctx.business_day())
        own_card = _own_card_position(s, cart.card.id) if cart.card is not None else None
        own_points = (
            _own_points(s, cart.member.id)
            if cart.member is not None and "points" in takes
            else None
        )
        # What the sale wants of the chain, whatever this till last heard of the balances:
        # HQ decides on the chain's, and the sale is planned again on the mirrored ones.
        ask = _hold_ask(rules, cart, request, MAX_AMOUNT_FEN, own_card, own_points)

        # Should HQ decline the whole, this is the sale's ask for what the chain has.
        def ask_for(available: int) -> HoldAsk | None:
            return _hold_ask(rules, cart, request, available, own_card, own_points)

        s.expunge_all()  # the cart's rows are read again after the session (no lazy loads)
    if ask is None:
        return None
    try:
        outcome = card_authorizer.authorize(config, ctx.key_dir, ctx.clock, ask)
    except HqDeclined as declined:
        # Stored value told to pay "what it can": it pays what the chain has, the rest
        # falls to the sale's other tenders (asked once more, for that much).
        available = declined.details.get("available_fen")
        open_sv = any(t.tender == "stored_value" and t.amount_fen is None for t in request.tenders)
        if declined.code != "insufficient_balance" or not open_sv or not available:
            raise
        ask = ask_for(int(available))
        if ask is None:
            raise
        outcome = card_authorizer.authorize(config, ctx.key_dir, ctx.clock, ask)
    return ChainSpend(config, ask, outcome)


def _stored_value_told(request: SaleRequest) -> bool:
    """Only stored value of a card, by amounts the cashier typed: the ask needs no pricing
    (the sale's own plan checks the amounts against the bill in its transaction)."""
    sv = [t for t in request.tenders if t.tender == "stored_value"]
    return (
        bool(sv and request.card_no)
        and not request.coupon_codes
        and all(t.amount_fen is not None for t in sv)
        and all(t.tender != "points" for t in request.tenders)
    )


def _authorize_told_amount(
    ctx: StoreContext, actor: Actor, request: SaleRequest, config: SyncConfig
) -> ChainSpend:
    assert request.card_no is not None
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE)
        card = card_by_no(s, request.card_no)
        # As pricing would: a card blocked here is refused before HQ is asked.
        check_can_pay(mask_card_no(card.card_no), CardState(card.state))
        own_principal, own_bonus = _own_card_position(s, card.id)
        ask = HoldAsk(
            card_id=card.id,
            member_id=card.member_id,
            amount_fen=sum(
                t.amount_fen or 0 for t in request.tenders if t.tender == "stored_value"
            ),
            points=0,
            coupon_ids=(),
            own_principal_fen=own_principal,
            own_bonus_fen=own_bonus,
        )
    return ChainSpend(config, ask, card_authorizer.authorize(config, ctx.key_dir, ctx.clock, ask))


def _hold_ask(
    rules: Rules,
    cart: Cart,
    request: SaleRequest,
    stored_value_cap: int,
    own_card: tuple[int, int] | None,
    own_points: int | None,
) -> HoldAsk | None:
    """The sale's tenders planned with stored value up to `stored_value_cap` and points as
    the bill allows: what HQ is asked to hold (None: nothing of the chain's is taken)."""
    wants = replace(
        cart.limits,
        stored_value_fen=stored_value_cap if cart.card is not None else None,
        points_max_fen=(
            points_max_fen(
                MAX_AMOUNT_FEN,
                0,
                rules.points.redeem_points_per_yuan,
                rules.points.redeem_max_percent,
                cart.priced.total_fen,
            )
            if cart.member is not None
            else 0
        ),
    )
    plan = plan_tenders(cart.priced.total_fen, request.tenders, wants)
    amount = plan.amount("stored_value")
    points_fen = plan.amount("points")
    points = points_for(points_fen, rules.points.redeem_points_per_yuan) if points_fen else 0
    coupons = tuple(terms.coupon_id for terms, _ in cart.priced.coupon_discounts)
    if not (amount or points or coupons):
        return None
    card = cart.card if amount else None
    member = cart.member
    return HoldAsk(
        card_id=card.id if card else None,
        member_id=member.id if member else None,
        amount_fen=amount,
        points=points,
        coupon_ids=coupons,
        own_principal_fen=own_card[0] if card and own_card else None,
        own_bonus_fen=own_card[1] if card and own_card else None,
        own_points=own_points if points else None,
    )


def release_spend(ctx: StoreContext, spend: ChainSpend | None) -> None:
    """The sale failed after HQ held its spend: let HQ know (best effort, after the
    rollback; a hold not released expires at HQ by itself)."""
    if spend is not None and spend.hold is not None:
        card_authorizer.release(spend.config, ctx.key_dir, ctx.clock, spend.hold.hold_id)


def mirror_in_tx(uc: UseCase, spend: ChainSpend) -> None:
    """First thing in the sale's transaction: what HQ answered of the card and the member
    becomes their mirror entries (so the sale is priced on the chain's balance), or, when
    HQ could not be asked, the offline limits decide (refused here, nothing written)."""
    s = uc.session
    ask = spend.ask
    hold = spend.hold
    if hold is None:
        return
    if hold.card is not None and ask.card_id is not None:
        card = s.get(Card, ask.card_id)
        assert card is not None
        apply_card_external(
            uc,
            card,
            external_principal_fen=int(hold.card["external_principal_fen"]),
            external_bonus_fen=int(hold.card["external_bonus_fen"]),
            state=hold.card.get("state"),
            state_source=hold.card.get("state_source"),
        )
    if hold.external_points is not None and ask.member_id is not None:
        member = s.get(Member, ask.member_id)
        assert member is not None
        apply_member_external_points(uc, member, external_points=hold.external_points)


def entry_marks(
    spend: ChainSpend | None, part: str, coupon_id: str | None = None
) -> dict[str, object]:
    """What a sale's entry carries of its authorization: `{"hold_id": …}` (a coupon's own
    hold for `coupon_redeemed`), `{"standin": true}`, or nothing without sync."""
    if spend is None:
        return {}
    hold = spend.hold
    if hold is None:
        return {"standin": True}
    if part == "coupon" and coupon_id is not None:
        return {"hold_id": hold.coupon_holds.get(coupon_id, hold.hold_id)}
    return {"hold_id": hold.hold_id}


def limits_within_hold(
    spend: ChainSpend | None, limits: TenderLimits, points_per_yuan: int
) -> TenderLimits:
    """The card's and the points' limits for the sale's plan in its transaction: no more
    than HQ held (the mirrored balance may be more: other tills' holds are not in it)."""
    if spend is None or spend.hold is None:
        return limits
    ask = spend.ask
    return replace(
        limits,
        stored_value_fen=(
            None
            if limits.stored_value_fen is None
            else min(limits.stored_value_fen, ask.amount_fen)
        ),
        points_max_fen=min(limits.points_max_fen, ask.points * 100 // points_per_yuan),
    )


def receipt_notes(spend: ChainSpend | None) -> tuple[str, ...]:
    """A stand-in sale says so on its receipt: HQ checks it when the till next syncs."""
    if spend is None or spend.hold is not None:
        return ()
    return ("离线授权 / offline authorization",)


def check_chain_spend(
    uc: UseCase, spend: ChainSpend | None, amount_fen: int, points: int, coupons: set[str]
) -> None:
    """The sale, planned again in its transaction: with HQ's hold, it takes no more than
    HQ held; standing in, it stays within the offline limits (refused with the reason)."""
    if spend is None:
        return
    ask = spend.ask
    if spend.hold is not None:
        if amount_fen > ask.amount_fen or points > ask.points or not coupons <= set(ask.coupon_ids):
            raise InvalidInput(
                "结算期间金额有变，请重新结算",
                "The sale changed while it was authorized: try again",
            )
        return
    want = StandInAsk(amount_fen, points, len(coupons))
    refusal = stand_in_refusal(
        uc.rules.chain, want, _stand_in_today(uc, ask), _heard_ago(uc.session, uc.ctx.now())
    )
    if refusal is not None:
        log.warning("stand-in refused (%s)", refusal.code)
        raise refusal


def _stand_in_today(uc: UseCase, ask: HoldAsk) -> StandInToday:
    """Stand-in spending of this business day, from the till's own ledger."""
    s = uc.session
    start = uc.ctx.day_start_iso(uc.ctx.business_day())
    standin = func.json_extract(LedgerEntry.payload, "$.standin") == 1
    today = LedgerEntry.business_time >= start

    def total(*where: object, column: object = LedgerEntry.amount_fen) -> int:
        return int(
            s.scalar(select(func.coalesce(func.sum(column), 0)).where(today, standin, *where)) or 0
        )

    sv = LedgerEntry.kind == EntryKind.SV_PAYMENT
    return StandInToday(
        card_fen=total(sv, LedgerEntry.card_id == ask.card_id) if ask.card_id else 0,
        till_fen=total(sv),
        member_points=(
            total(
                LedgerEntry.kind == EntryKind.POINTS_REDEEMED,
                LedgerEntry.member_id == ask.member_id,
                column=-LedgerEntry.points_delta,
            )
            if ask.member_id
            else 0
        ),
    )


def _heard_ago(s: Session, now: datetime) -> timedelta | None:
    """How long since the till last heard HQ's balances (the feed's pulled_at)."""
    pulled_at = s.scalar(select(SyncState.pulled_at).where(SyncState.id == 1))
    if not pulled_at:
        return None
    return now - datetime.fromisoformat(pulled_at)


def _own_card_position(s: Session, card_id: str) -> tuple[int, int]:
    """Σ of this till's own entries on the card (mirrors left out), as HQ's card_position."""
    principal, bonus = s.execute(
        select(
            func.coalesce(func.sum(LedgerEntry.principal_delta), 0),
            func.coalesce(func.sum(LedgerEntry.bonus_delta), 0),
        ).where(LedgerEntry.card_id == card_id, LedgerEntry.kind != EntryKind.CARD_SYNCED)
    ).one()
    return int(principal), int(bonus)


def _own_points(s: Session, member_id: str) -> int:
    return int(
        s.scalar(
            select(func.coalesce(func.sum(LedgerEntry.points_delta), 0)).where(
                LedgerEntry.member_id == member_id, LedgerEntry.kind != EntryKind.POINTS_SYNCED
            )
        )
        or 0
    )
