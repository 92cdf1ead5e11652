"""Stored value (储值): principal (本金) and bonus (赠送金) buckets and how they move."""

from __future__ import annotations

from dataclasses import dataclass

from pos_app.domain.errors import InsufficientBalance, InvalidInput, LimitExceeded
from pos_app.domain.money import format_fen
from pos_app.domain.rules import StoredValueRules


@dataclass(frozen=True)
class Buckets:
    """Amounts in fen taken from (or returned to) each bucket."""

    principal: int
    bonus: int

    @property
    def total(self) -> int:
        return self.principal + self.bonus


def bonus_for_topup(rules: StoredValueRules, amount_fen: int) -> int:
    """The bonus of the highest tier the top-up reaches (充500送50, 充1000送150); 0 below all."""
    bonus = 0
    for tier in rules.bonus:  # sorted ascending by threshold
        if amount_fen >= tier.min_topup_fen:
            bonus = tier.bonus_fen
    return bonus


def check_topup_amount(rules: StoredValueRules, amount_fen: int) -> None:
    """Refuse a top-up below the store's minimum."""
    if amount_fen < rules.min_topup_fen:
        raise InvalidInput(
            f"充值金额不能低于 {format_fen(rules.min_topup_fen)}",
            f"A top-up must be at least {format_fen(rules.min_topup_fen)}",
        )


def split_spend(order: str, principal: int, bonus: int, amount: int) -> Buckets:
    """Which buckets pay `amount`, by the configured spending order.

    Pro rata takes the bonus share rounded down, so the member never loses a fen of bonus
    to rounding that they would not have lost in cash.
    """
    if amount <= 0:
        raise InvalidInput("支付金额必须大于零", "The amount must be above zero")
    if amount > principal + bonus:
        raise InsufficientBalance(
            f"储值余额不足：需 {format_fen(amount)}，可用 {format_fen(principal + bonus)}",
            f"Stored value is short: {format_fen(amount)} needed, "
            f"{format_fen(principal + bonus)} available",
        )
    if order == "principal_first":
        from_principal = min(principal, amount)
        return Buckets(from_principal, amount - from_principal)
    if order == "bonus_first":
        from_bonus = min(bonus, amount)
        return Buckets(amount - from_bonus, from_bonus)
    if order == "pro_rata":
        from_bonus = amount * bonus // (principal + bonus)
        from_principal = amount - from_bonus
        if from_principal > principal:  # only possible through rounding at the very end
            from_principal, from_bonus = principal, amount - principal
        return Buckets(from_principal, from_bonus)
    raise InvalidInput(f"未知的扣款顺序：{order}", f"Unknown spending order: {order}")


def check_daily_limit(rules: StoredValueRules, spent_today_fen: int, amount_fen: int) -> None:
    """Refuse a payment that would take the card past its daily stored-value limit."""
    limit = rules.daily_limit_fen
    if limit and spent_today_fen + amount_fen > limit:
        left = max(0, limit - spent_today_fen)
        raise LimitExceeded(
            f"超出每日储值消费限额 {format_fen(limit)}，今日还可用 {format_fen(left)}",
            f"Over the daily stored-value limit of {format_fen(limit)}; "
            f"{format_fen(left)} left today",
        )


def pin_needed(rules: StoredValueRules, amount_fen: int, card_has_pin: bool) -> bool:
    """A card with a PIN asks for it on payments above the threshold (0 = always)."""
    return card_has_pin and amount_fen > rules.pin_threshold_fen


@dataclass(frozen=True)
class TopupRefund:
    """What refunding a top-up takes off the card and what the member gets back in cash."""

    taken: Buckets
    cash_out_fen: int
    bonus_already_spent_fen: int


def refund_topup(
    topup: Buckets, card_principal: int, card_bonus: int, already_refunded: bool
) -> TopupRefund:
    """A top-up refund returns its principal less the bonus of that top-up already spent.

    The bonus still on the card is withdrawn (up to the top-up's bonus); what the member
    already spent of it is charged against the principal they get back. The principal must
    still be on the card: a member who spent it has nothing left to refund.
    """
    if already_refunded:
        raise InvalidInput("这笔充值已经退过了", "This top-up was already refunded")
    bonus_left = min(topup.bonus, card_bonus)
    bonus_spent = topup.bonus - bonus_left
    if card_principal < topup.principal:
        raise InsufficientBalance(
            f"本金已被使用，无法全额退充值：卡上本金 {format_fen(card_principal)}，"
            f"充值本金 {format_fen(topup.principal)}",
            f"The principal has been spent; the card holds {format_fen(card_principal)} of the "
            f"top-up's {format_fen(topup.principal)}",
        )
    cash_out = max(0, topup.principal - bonus_spent)
    return TopupRefund(Buckets(topup.principal, bonus_left), cash_out, bonus_spent)


@dataclass(frozen=True)
class CancelSettlement:
    """Cancelling a card (注销): principal refunded less the fee, bonus forfeited."""

    refund_fen: int
    fee_fen: int
    forfeited_bonus_fen: int


def settle_cancel(rules: StoredValueRules, principal: int, bonus: int) -> CancelSettlement:
    fee = min(rules.cancel_fee_fen, principal)
    return CancelSettlement(refund_fen=principal - fee, fee_fen=fee, forfeited_bonus_fen=bonus)
