"""Stored value (储值): top-up with bonus, pay, refund a payment, refund a top-up, balance."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card, LedgerEntry, Member
from pos_app.domain.card_lifecycle import CardState, check_can_pay, mask_card_no
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import InvalidInput, NotFound, PinRequired
from pos_app.domain.permissions import Permission
from pos_app.domain.pin_policy import MAX_WRONG_TRIES, check_not_locked, wrong_pin_error
from pos_app.domain.stored_value import (
    Buckets,
    bonus_for_topup,
    check_daily_limit,
    check_topup_amount,
    pin_needed,
    refund_topup,
    split_spend,
)
from pos_app.domain.tiers import Activity
from pos_app.services.auth import Actor, Approval, authorize
from pos_app.services.context import StoreContext
from pos_app.services.coupons import issue_for_topup
from pos_app.services.credentials import verify_secret
from pos_app.services.lookup import card_by_no, member_of_card
from pos_app.services.rules_store import current_rules
from pos_app.services.shifts import open_shift_row
from pos_app.services.tiers import qualified_level, settle_tier_after_refund, upgrade_if_qualified
from pos_app.services.use_case import UseCase, use_case

TOPUP_TENDERS = ("cash", "bank", "wechat", "alipay")


@dataclass(frozen=True)
class Balance:
    card_no: str
    member_no: str
    member_name: str
    card_state: str
    principal_fen: int
    bonus_fen: int
    points: int
    tier: str
    tier_name: str
    pin_locked: bool

    @property
    def stored_value_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


def _balance(card: Card, member: Member, tier_name: str) -> Balance:
    return Balance(
        card_no=card.card_no,
        member_no=member.member_no,
        member_name=member.name,
        card_state=card.state,
        principal_fen=card.principal_fen,
        bonus_fen=card.bonus_fen,
        points=member.points_balance,
        tier=member.tier_code,
        tier_name=tier_name,
        pin_locked=card.pin_failures >= MAX_WRONG_TRIES,
    )


def balance(ctx: StoreContext, actor: Actor, card_no: str) -> Balance:
    """What a card holds now: principal, bonus, the member's points and tier."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.MEMBER_VIEW)
        card = card_by_no(s, card_no)
        member = member_of_card(s, card)
        _, rules = current_rules(s)
        return _balance(card, member, rules.tiers.level(member.tier_code).name)


@dataclass(frozen=True)
class TopUpResult:
    entry_id: str
    amount_fen: int
    bonus_fen: int
    tender: str
    balance: Balance
    new_tier: str | None
    coupon_codes: tuple[str, ...] = ()


def preview_bonus(ctx: StoreContext, amount_fen: int) -> int:
    """The bonus a top-up of this amount would get under the rules in force (for the UI)."""
    with read_session(ctx.engine) as s:
        _, rules = current_rules(s)
    return bonus_for_topup(rules.stored_value, amount_fen)


def top_up(
    ctx: StoreContext,
    actor: Actor,
    card_no: str,
    amount_fen: int,
    tender: str = "cash",
    reference: str | None = None,
) -> TopUpResult:
    """充值: principal plus the bonus of the highest rule reached (充500送50); may lift the tier."""
    if tender not in TOPUP_TENDERS:
        raise InvalidInput(
            f"充值方式不正确：{tender}（{'/'.join(TOPUP_TENDERS)}）",
            f"Not a top-up tender: {tender} ({'/'.join(TOPUP_TENDERS)})",
        )
    with use_case(ctx, actor, Permission.TOPUP, target=mask_card_no(card_no)) as uc:
        s = uc.session
        card = card_by_no(s, card_no)
        check_can_pay(mask_card_no(card.card_no), CardState(card.state))
        member = member_of_card(s, card)
        check_topup_amount(uc.rules.stored_value, amount_fen)
        # Money taken at the till belongs to the cashier's shift and drawer.
        shift = open_shift_row(s, actor)
        bonus = bonus_for_topup(uc.rules.stored_value, amount_fen)
        payload: dict[str, object] = {"shift_no": shift.shift_no}
        if reference:
            payload["reference"] = reference
        entry = uc.ledger.append(
            EntryKind.TOPUP,
            member_id=member.id,
            card_id=card.id,
            principal_delta=amount_fen,
            bonus_delta=bonus,
            amount_fen=amount_fen,
            tender=tender,
            payload=payload,
        )
        card.principal_fen += amount_fen
        card.bonus_fen += bonus
        old_tier = member.tier_code
        upgrade_if_qualified(uc, member, Activity(topup_fen=amount_fen), "topup")
        coupon_codes = issue_for_topup(uc, member, amount_fen)
        tier = uc.rules.tiers.level(member.tier_code)
        return TopUpResult(
            entry.entry_id,
            amount_fen,
            bonus,
            tender,
            _balance(card, member, tier.name),
            member.tier_code if member.tier_code != old_tier else None,
            coupon_codes,
        )


@dataclass(frozen=True)
class PaymentResult:
    entry_id: str
    amount_fen: int
    from_principal_fen: int
    from_bonus_fen: int
    balance: Balance


def _spent_today(ctx: StoreContext, s: Session, member_id: str) -> int:
    """Stored value the member spent today, over all their cards: a replacement card (or a
    second card) does not open a fresh daily allowance."""
    start = ctx.day_start_iso(ctx.business_day())
    rows = s.execute(
        select(LedgerEntry.kind, func.sum(LedgerEntry.amount_fen))
        .where(
            LedgerEntry.member_id == member_id,
            LedgerEntry.kind.in_([EntryKind.SV_PAYMENT, EntryKind.SV_PAYMENT_REFUNDED]),
            LedgerEntry.business_time >= start,
        )
        .group_by(LedgerEntry.kind)
    ).all()
    totals = {kind: amount or 0 for kind, amount in rows}
    return totals.get(EntryKind.SV_PAYMENT, 0) - totals.get(EntryKind.SV_PAYMENT_REFUNDED, 0)


def pay_with_stored_value(
    ctx: StoreContext,
    actor: Actor,
    card_no: str,
    amount_fen: int,
    pin: str | None = None,
    reference: str | None = None,
) -> PaymentResult:
    """Pay from the card's stored value, buckets in the configured order.

    A wrong PIN is refused, but the failed try is recorded and committed (so five wrong
    tries lock the card even across restarts); nothing else is written.
    """
    with use_case(ctx, actor, Permission.STORED_VALUE_PAY, target=mask_card_no(card_no)) as uc:
        card = card_by_no(uc.session, card_no)
        check_can_pay(mask_card_no(card.card_no), CardState(card.state))
        member = member_of_card(uc.session, card)
        if amount_fen <= 0:
            raise InvalidInput("支付金额必须大于零", "The amount must be above zero")
        check_pin_in_tx(uc, card, member, amount_fen, pin)
        if uc.refusal is None:
            entry, split = spend_in_tx(
                uc, card, member, amount_fen, {"reference": reference} if reference else None
            )
            tier = uc.rules.tiers.level(member.tier_code)
            return PaymentResult(
                entry.entry_id,
                amount_fen,
                split.principal,
                split.bonus,
                _balance(card, member, tier.name),
            )
    raise AssertionError("unreachable: use_case raises the wrong PIN after committing it")


def check_pin_in_tx(
    uc: UseCase, card: Card, member: Member, amount_fen: int, pin: str | None
) -> None:
    """Check the PIN a stored-value payment of this amount needs, inside the payment's
    transaction. A wrong PIN is recorded (a `pin_failed` entry) and left in `uc.refusal`, so
    the caller writes nothing else and commits only the failed try: five wrong tries lock
    the card even across restarts."""
    # The lock is on stored-value payment as such, not only on payments that ask for the PIN.
    check_not_locked(card.pin_failures)
    pin_checked = False
    if pin_needed(uc.rules.stored_value, amount_fen, card.pin_hash is not None):
        if not pin:
            raise PinRequired("请输入卡密码", "Enter the card PIN")
        assert card.pin_hash is not None
        pin_checked = verify_secret(pin, card.pin_hash)
        if not pin_checked:
            card.pin_failures += 1
            uc.ledger.append(EntryKind.PIN_FAILED, member_id=member.id, card_id=card.id)
            uc.refusal = wrong_pin_error(card.pin_failures)
            return
    # Only a PIN actually checked clears wrong tries; one given below the threshold is not
    # verified, and must not let a guesser reset the counter with a small payment.
    if card.pin_failures and card.pin_failures < MAX_WRONG_TRIES and pin_checked:
        # A right PIN clears earlier wrong tries, as at a bank.
        card.pin_failures = 0
        uc.ledger.append(
            EntryKind.PIN_RESET,
            member_id=member.id,
            card_id=card.id,
            payload={"reason": "correct_pin"},
        )


def spend_in_tx(
    uc: UseCase,
    card: Card,
    member: Member,
    amount_fen: int,
    payload: dict[str, object] | None = None,
    related_entry_id: str | None = None,
) -> tuple[LedgerEntry, Buckets]:
    """Take a payment from the card's buckets in the configured order, within the member's
    daily limit (the PIN has been checked by `check_pin_in_tx`)."""
    check_daily_limit(
        uc.rules.stored_value, _spent_today(uc.ctx, uc.session, member.id), amount_fen
    )
    split = split_spend(
        uc.rules.stored_value.spend_order, card.principal_fen, card.bonus_fen, amount_fen
    )
    entry = uc.ledger.append(
        EntryKind.SV_PAYMENT,
        member_id=member.id,
        card_id=card.id,
        principal_delta=-split.principal,
        bonus_delta=-split.bonus,
        amount_fen=amount_fen,
        related_entry_id=related_entry_id,
        payload=payload,
    )
    card.principal_fen -= split.principal
    card.bonus_fen -= split.bonus
    return entry, split


def _refunded_already(s: Session, entry_id: str, kind: EntryKind) -> bool:
    return (
        s.scalar(
            select(LedgerEntry.entry_id).where(
                LedgerEntry.related_entry_id == entry_id, LedgerEntry.kind == kind
            )
        )
        is not None
    )


def _original(s: Session, entry_id: str, kind: EntryKind) -> LedgerEntry:
    entry = s.get(LedgerEntry, entry_id)
    if entry is None or entry.kind != kind:
        raise NotFound(f"找不到这笔记录：{entry_id}", f"No such entry: {entry_id}")
    return entry


def holder_card(s: Session, card_id: str | None) -> Card:
    """The card that holds a card's money now: itself, or the card it was replaced by."""
    card = s.get(Card, card_id) if card_id else None
    assert card is not None
    while card.state == CardState.REPLACED.value and card.replaced_by_id:
        successor = s.get(Card, card.replaced_by_id)
        assert successor is not None
        card = successor
    return card


@dataclass(frozen=True)
class RefundResult:
    entry_id: str
    returned: Buckets
    cash_out_fen: int
    balance: Balance


def refund_stored_value_payment(
    ctx: StoreContext, actor: Actor, payment_entry_id: str, approval: Approval | None = None
) -> RefundResult:
    """Return a stored-value payment to the buckets it came from, on the card that paid."""
    with use_case(
        ctx, actor, Permission.STORED_VALUE_REFUND, approval, target=payment_entry_id
    ) as uc:
        s = uc.session
        original = _original(s, payment_entry_id, EntryKind.SV_PAYMENT)
        receipt = json.loads(original.payload or "{}").get("receipt_no")
        if receipt:
            raise InvalidInput(
                f"这笔储值消费属于收银小票 {receipt}，请用退货（pos-app refund {receipt}）",
                f"This payment belongs to till receipt {receipt}: use a return "
                f"(pos-app refund {receipt})",
            )
        if _refunded_already(s, payment_entry_id, EntryKind.SV_PAYMENT_REFUNDED):
            raise InvalidInput("这笔储值消费已经退过了", "This payment was already refunded")
        card = holder_card(s, original.card_id)
        check_can_pay(mask_card_no(card.card_no), CardState(card.state))
        back = Buckets(-original.principal_delta, -original.bonus_delta)
        entry = uc.ledger.append(
            EntryKind.SV_PAYMENT_REFUNDED,
            member_id=original.member_id,
            card_id=card.id,
            principal_delta=back.principal,
            bonus_delta=back.bonus,
            amount_fen=back.total,
            related_entry_id=original.entry_id,
        )
        card.principal_fen += back.principal
        card.bonus_fen += back.bonus
        member = member_of_card(s, card)
        tier = uc.rules.tiers.level(member.tier_code)
        return RefundResult(entry.entry_id, back, 0, _balance(card, member, tier.name))


def refund_top_up(
    ctx: StoreContext, actor: Actor, topup_entry_id: str, approval: Approval | None = None
) -> RefundResult:
    """退充值: principal back less the top-up's bonus already spent; its unspent bonus withdrawn;
    a tier the top-up earned is lowered to what the member's remaining activity earns."""
    with use_case(ctx, actor, Permission.TOPUP_REFUND, approval, target=topup_entry_id) as uc:
        s = uc.session
        original = _original(s, topup_entry_id, EntryKind.TOPUP)
        card = holder_card(s, original.card_id)
        check_can_pay(mask_card_no(card.card_no), CardState(card.state))
        member = member_of_card(s, card)
        qualified = qualified_level(uc, member)
        shift = open_shift_row(s, actor)  # the money goes back out of this drawer
        refund = refund_topup(
            Buckets(original.principal_delta, original.bonus_delta),
            card.principal_fen,
            card.bonus_fen,
            _refunded_already(s, topup_entry_id, EntryKind.TOPUP_REFUNDED),
        )
        entry = uc.ledger.append(
            EntryKind.TOPUP_REFUNDED,
            member_id=original.member_id,
            card_id=card.id,
            principal_delta=-refund.taken.principal,
            bonus_delta=-refund.taken.bonus,
            amount_fen=refund.cash_out_fen,
            tender=original.tender,
            related_entry_id=original.entry_id,
            payload={
                "bonus_already_spent_fen": refund.bonus_already_spent_fen,
                "shift_no": shift.shift_no,
            },
        )
        card.principal_fen -= refund.taken.principal
        card.bonus_fen -= refund.taken.bonus
        settle_tier_after_refund(uc, member, qualified, entry.entry_id)
        tier = uc.rules.tiers.level(member.tier_code)
        return RefundResult(
            entry.entry_id, refund.taken, refund.cash_out_fen, _balance(card, member, tier.name)
        )
