"""Points (积分) and purchases: earn on a purchase (with tier upgrade and the referral reward),
reverse on refund, redeem, participation points, manual adjustment, expiry.

Points and tier credit come from a recorded till sale (checkout), a walk-in receipt credited
to a member afterwards (`receipt_claims`), or a purchase a manager credits by hand with a
reason, up to a cap (`record_manual_purchase`) — never from an amount typed in alone."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Card, LedgerEntry, Member, PointLot
from pos_app.domain.card_lifecycle import CardState, check_can_pay, mask_card_no
from pos_app.domain.control_chars import refuse_control_chars
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import InsufficientBalance, InvalidInput, LimitExceeded
from pos_app.domain.money import format_fen
from pos_app.domain.permissions import Permission
from pos_app.domain.points import allocate, allocate_for_redemption, earned_points
from pos_app.domain.tiers import Activity
from pos_app.services.audit import record as audit
from pos_app.services.auth import Actor, Approval
from pos_app.services.context import StoreContext
from pos_app.services.lookup import card_by_no, member_by_no, member_of_card
from pos_app.services.member_tender_lock import refuse_if_locked
from pos_app.services.points_book import (
    add_lot,
    as_domain,
    expire_due,
    member_lots,
    reverse_points,
    take_points,
)
from pos_app.services.tiers import (
    qualified_level,
    settle_tier_after_refund,
    spend_in_window,
    upgrade_if_qualified,
    window_start,
)
from pos_app.services.use_case import UseCase, use_case


@dataclass(frozen=True)
class PointsResult:
    member_no: str
    points_delta: int
    points_balance: int
    entry_id: str | None
    tier: str


def _result(member: Member, delta: int, entry_id: str | None) -> PointsResult:
    return PointsResult(member.member_no, delta, member.points_balance, entry_id, member.tier_code)


def _member(uc: UseCase, member_no: str | None, card_no: str | None) -> tuple[Member, Card | None]:
    """The member named by a card (which must be active) or by member number."""
    if card_no:
        card = card_by_no(uc.session, card_no)
        check_can_pay(mask_card_no(card.card_no), CardState(card.state))
        return member_of_card(uc.session, card), card
    if member_no:
        return member_by_no(uc.session, member_no), None
    raise InvalidInput("请给出会员号或卡号", "Give a member number or a card number")


@dataclass(frozen=True)
class PurchaseResult:
    purchase_entry_id: str
    points_earned: int
    points_balance: int
    tier: str
    tier_changed: bool
    referrer_rewarded: str | None


def record_manual_purchase(
    ctx: StoreContext,
    actor: Actor,
    *,
    amount_fen: int,
    reason: str,
    eligible_fen: int | None = None,
    member_no: str | None = None,
    card_no: str | None = None,
    approval: Approval | None = None,
) -> PurchaseResult:
    """A purchase credited with no till receipt (a sale from before the till, a receipt past
    the claim window): points and tier credit as for a sale. Points and tiers are money to a
    member, so this needs a manager (a cashier brings an approval), a reason, and an amount
    within the rules' cap (`points.manual_purchase_max`; 0 = never). A receipt of this till
    is credited with `receipt_claims.claim_receipt_points` instead, from its own lines."""
    if amount_fen <= 0:
        raise InvalidInput("消费金额必须大于零", "The purchase amount must be above zero")
    eligible = amount_fen if eligible_fen is None else eligible_fen
    if not 0 <= eligible <= amount_fen:
        raise InvalidInput("积分金额不能超过消费金额", "The eligible amount exceeds the purchase")
    why = refuse_control_chars(reason.strip(), "补录原因", "reason")
    if not why:
        raise InvalidInput("请填写补录原因", "Give a reason for crediting a purchase by hand")
    target = member_no or (mask_card_no(card_no) if card_no else None)
    with use_case(ctx, actor, Permission.PURCHASE_MANUAL, approval, target=target) as uc:
        cap = uc.rules.points.manual_purchase_max_fen
        if cap <= 0:
            raise LimitExceeded(
                "规则不允许无小票补录消费：请用小票补积分（pos-app purchase --receipt）",
                "The rules allow no purchase without a receipt: credit a receipt instead "
                "(pos-app purchase --receipt)",
            )
        if amount_fen > cap:
            raise LimitExceeded(
                f"无小票补录最多 {format_fen(cap)}",
                f"A purchase without a receipt is at most {format_fen(cap)}",
            )
        member, _ = _member(uc, member_no, card_no)
        first = is_first_purchase(uc, member)
        purchase = uc.ledger.append(
            EntryKind.PURCHASE,
            member_id=member.id,
            amount_fen=amount_fen,
            payload={"manual": True, "reason": why, "eligible_fen": eligible},
        )
        result = earn_for_purchase(
            uc, member, purchase.entry_id, amount_fen, {1000: eligible}, first
        )
        audit(
            uc.session,
            uc.now_iso,
            actor.operator_id,
            "purchase.manual",
            target=member.member_no,
            detail={"amount_fen": amount_fen, "reason": why, "approved_by": uc.approver_id},
        )
        return result


def purchase_claim(session: Session, sale_entry_id: str) -> LedgerEntry | None:
    """The member's credit (补积分) for a walk-in sale, by the sale's `purchase` entry: a
    `purchase` entry of its own that points back at the sale's."""
    return session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.related_entry_id == sale_entry_id, LedgerEntry.kind == EntryKind.PURCHASE
        )
    ).first()


def is_first_purchase(uc: UseCase, member: Member) -> bool:
    """Whether the member has no purchase yet (asked before the purchase is written)."""
    return (
        uc.session.scalar(
            select(LedgerEntry.entry_id)
            .where(LedgerEntry.member_id == member.id, LedgerEntry.kind == EntryKind.PURCHASE)
            .limit(1)
        )
        is None
    )


def earn_for_purchase(
    uc: UseCase,
    member: Member,
    purchase_entry_id: str,
    amount_fen: int,
    eligible_by_multiplier: dict[int, int],
    first_purchase: bool,
) -> PurchaseResult:
    """What a purchase does for the member, inside its transaction: points at base rate ×
    tier multiplier × each campaign multiplier (permille) on its eligible amount, in one lot;
    a tier upgrade by single purchase or cumulative spend; and on the member's first purchase
    the referral points — to the direct referrer only, never further up."""
    tier = uc.rules.tiers.level(member.tier_code)
    pts = sum(
        earned_points(
            eligible,
            uc.rules.points.per_yuan,
            tier.points_multiplier_permille * multiplier // 1000,
        )
        for multiplier, eligible in eligible_by_multiplier.items()
        if eligible > 0
    )
    if pts > 0:
        add_lot(uc, member, EntryKind.POINTS_EARNED, pts, related_entry_id=purchase_entry_id)
    old_tier = member.tier_code
    uc.session.flush()
    upgrade_if_qualified(
        uc,
        member,
        Activity(
            cumulative_spend_fen=spend_in_window(uc.session, member.id, window_start(uc)),
            single_purchase_fen=amount_fen,
        ),
        "purchase",
    )
    rewarded = None
    if first_purchase and member.referrer_id and uc.rules.points.referral_points > 0:
        referrer = uc.session.get(Member, member.referrer_id)
        assert referrer is not None
        add_lot(
            uc,
            referrer,
            EntryKind.REFERRAL_POINTS,
            uc.rules.points.referral_points,
            related_entry_id=purchase_entry_id,
            extra={"referred_member_id": member.id},
        )
        rewarded = referrer.member_no
    return PurchaseResult(
        purchase_entry_id,
        pts,
        member.points_balance,
        member.tier_code,
        member.tier_code != old_tier,
        rewarded,
    )


def refund_purchase(
    ctx: StoreContext, actor: Actor, purchase_entry_id: str, approval: Approval | None = None
) -> PointsResult:
    """A refunded purchase credited without a till receipt: its spend leaves the tier window,
    its points are taken back (a negative balance if they were already spent), and a tier
    that rested on it is lowered to what the member's remaining activity earns."""
    with use_case(ctx, actor, Permission.PURCHASE_REFUND, approval, target=purchase_entry_id) as uc:
        s = uc.session
        purchase = s.get(LedgerEntry, purchase_entry_id)
        if purchase is None or purchase.kind != EntryKind.PURCHASE:
            raise InvalidInput(
                f"找不到这笔消费：{purchase_entry_id}", f"No such purchase: {purchase_entry_id}"
            )
        payload = json.loads(purchase.payload or "{}")
        receipt = payload.get("receipt_no")
        if "sale_id" in payload or "claim_of" in payload:
            # A till sale also moved stock, tenders and coupons: only a return undoes it all
            # (and a return of a credited receipt takes the member's credit back with it).
            raise InvalidInput(
                f"这笔消费是收银小票 {receipt}，请用退货（pos-app refund {receipt}）",
                f"This purchase is till receipt {receipt}: use a return (pos-app refund {receipt})",
            )
        if s.scalar(
            select(LedgerEntry.entry_id).where(
                LedgerEntry.related_entry_id == purchase_entry_id,
                LedgerEntry.kind == EntryKind.PURCHASE_REFUNDED,
            )
        ):
            raise InvalidInput("这笔消费已经退过了", "This purchase was already refunded")
        member = s.get(Member, purchase.member_id)
        assert member is not None
        qualified = qualified_level(uc, member)
        refund = uc.ledger.append(
            EntryKind.PURCHASE_REFUNDED,
            member_id=member.id,
            amount_fen=purchase.amount_fen,
            related_entry_id=purchase.entry_id,
        )
        earned = s.scalars(
            select(LedgerEntry).where(
                LedgerEntry.related_entry_id == purchase.entry_id,
                LedgerEntry.kind == EntryKind.POINTS_EARNED,
                LedgerEntry.member_id == member.id,
            )
        ).first()
        if earned is not None and earned.points_delta > 0:
            reverse_points(uc, member, earned.points_delta, earned.entry_id, refund.entry_id)
        settle_tier_after_refund(uc, member, qualified, refund.entry_id)
        return _result(member, -(earned.points_delta if earned else 0), refund.entry_id)


def redeem_points(
    ctx: StoreContext,
    actor: Actor,
    points: int,
    reason: str,
    *,
    member_no: str | None = None,
    card_no: str | None = None,
) -> PointsResult:
    """Spend points, oldest lots first (expired lots are cleared first); refused while the
    balance is negative or short, and while the card's PIN lock holds."""
    if points <= 0:
        raise InvalidInput("积分数量必须大于零", "Points must be above zero")
    refuse_control_chars(reason, "原因", "reason")
    with use_case(ctx, actor, Permission.POINTS_REDEEM) as uc:
        member, card = _member(uc, member_no, card_no)
        refuse_if_locked(uc.session, member, card)
        expire_due(uc, member)
        allocations = allocate_for_redemption(
            as_domain(member_lots(uc, member.id)), member.points_debt, points
        )
        entry_id = take_points(
            uc, member, EntryKind.POINTS_REDEEMED, allocations, extra={"reason": reason}
        )
        return _result(member, -points, entry_id)


def give_participation_points(
    ctx: StoreContext,
    actor: Actor,
    member_no: str,
    points: int,
    reason: str,
    approval: Approval | None = None,
) -> PointsResult:
    """Points for taking part in an event or survey; a reason is required."""
    if points <= 0:
        raise InvalidInput("积分数量必须大于零", "Points must be above zero")
    if not reason.strip():
        raise InvalidInput("请填写赠送原因", "Give a reason")
    refuse_control_chars(reason, "原因", "reason")
    with use_case(ctx, actor, Permission.POINTS_PARTICIPATION, approval, target=member_no) as uc:
        member = member_by_no(uc.session, member_no)
        entry_id = add_lot(
            uc, member, EntryKind.PARTICIPATION_POINTS, points, extra={"reason": reason.strip()}
        )
        return _result(member, points, entry_id)


def adjust_points(
    ctx: StoreContext, actor: Actor, member_no: str, delta: int, reason: str
) -> PointsResult:
    """A manager's correction: positive adds a lot, negative takes oldest first (never below 0)."""
    if delta == 0:
        raise InvalidInput("调整数量不能为零", "The adjustment cannot be zero")
    if not reason.strip():
        raise InvalidInput("请填写调整原因", "Give a reason for the adjustment")
    refuse_control_chars(reason, "原因", "reason")
    with use_case(ctx, actor, Permission.POINTS_ADJUST, target=member_no) as uc:
        member = member_by_no(uc.session, member_no)
        if delta > 0:
            entry_id = add_lot(
                uc, member, EntryKind.POINTS_ADJUSTED, delta, extra={"reason": reason.strip()}
            )
        else:
            allocations, short = allocate(as_domain(member_lots(uc, member.id)), -delta)
            if short:
                raise InsufficientBalance(
                    f"积分不足，最多可扣 {-delta - short}",
                    f"Not enough points; at most {-delta - short} can be taken",
                )
            entry_id = take_points(
                uc, member, EntryKind.POINTS_ADJUSTED, allocations, extra={"reason": reason.strip()}
            )
        return _result(member, delta, entry_id)


def expire_points(ctx: StoreContext, actor: Actor) -> int:
    """Expire every lot past its date (the nightly job); returns the points expired."""
    with use_case(ctx, actor, Permission.POINTS_EXPIRE) as uc:
        today = ctx.business_day().isoformat()
        member_ids = set(
            uc.session.scalars(
                select(PointLot.member_id).where(
                    PointLot.remaining > 0, PointLot.expires_on <= today
                )
            )
        )
        total = 0
        for member_id in sorted(member_ids):
            member = uc.session.get(Member, member_id)
            assert member is not None
            total += expire_due(uc, member)
        return total
