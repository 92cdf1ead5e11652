"""Splitting what a customer owes over the tenders they offer (split tender, 组合支付).

The service lines a count or time card covers are paid by that card first. Tenders given with
an amount take that amount; a tender given without one takes what is left after all the
others — stored value and points only as much as they can. Only cash gives change, and no
non-cash tender may pay more than is owed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pos_app.domain.errors import InsufficientBalance, InvalidInput
from pos_app.domain.money import format_fen
from pos_app.domain.sale_request import TenderRequest


@dataclass(frozen=True)
class TenderLimits:
    stored_value_fen: int | None = None  # the card's balance, None without a member card
    points_max_fen: int = 0  # what the member's points may pay on this bill
    pass_cover_fen: int = 0  # what the member's count/time cards cover


@dataclass(frozen=True)
class PlannedTender:
    tender: str
    amount_fen: int  # towards the total
    given_fen: int  # cash handed over (cash only; otherwise = amount)
    reference: str | None = None


@dataclass(frozen=True)
class TenderPlan:
    tenders: tuple[PlannedTender, ...]
    change_fen: int

    @property
    def cash_given_fen(self) -> int:
        return sum(t.given_fen for t in self.tenders if t.tender == "cash")

    def amount(self, tender: str) -> int:
        return sum(t.amount_fen for t in self.tenders if t.tender == tender)


def points_for(amount_fen: int, points_per_yuan: int) -> int:
    """Points needed to pay an amount; a fraction of a point is rounded up."""
    return -(-amount_fen * points_per_yuan // 100)


def points_max_fen(
    balance: int, debt: int, points_per_yuan: int, max_percent: int, total: int
) -> int:
    """The most points may pay on a bill: the balance's worth, within the share allowed."""
    if debt > 0 or balance <= 0:
        return 0
    return min(balance * 100 // points_per_yuan, total * max_percent // 100)


def plan_tenders(
    total_fen: int, requests: Sequence[TenderRequest], limits: TenderLimits
) -> TenderPlan:
    if not requests:
        raise InvalidInput("请选择付款方式", "Choose how the customer pays")
    left = total_fen
    amounts: dict[int, int] = {}
    if any(r.tender == "count_card" for r in requests):
        i = next(i for i, r in enumerate(requests) if r.tender == "count_card")
        if sum(r.tender == "count_card" for r in requests) > 1 or requests[i].amount_fen:
            raise InvalidInput(
                "次卡/时卡按服务项目抵扣，只需选一次，不能指定金额",
                "A service card pays for its service lines: give it once, without an amount",
            )
        if limits.pass_cover_fen <= 0:
            raise InvalidInput(
                "会员没有可用于这些服务的次卡或时卡",
                "The member has no count or time card for these services",
            )
        amounts[i] = min(limits.pass_cover_fen, left)
        left -= amounts[i]
    explicit = [
        (i, r)
        for i, r in enumerate(requests)
        if r.amount_fen is not None and r.tender != "count_card"
    ]
    for i, r in explicit:
        assert r.amount_fen is not None
        if r.tender != "cash" and r.amount_fen > left:
            raise InvalidInput(
                f"{r.tender} 付款 {format_fen(r.amount_fen)} 超过未付金额 {format_fen(left)}",
                f"{r.tender} pays {format_fen(r.amount_fen)}, "
                f"more than the {format_fen(left)} owed",
            )
        _check_limit(r.tender, r.amount_fen, limits)
        if r.tender != "cash":
            amounts[i] = r.amount_fen
            left -= r.amount_fen
    cash_given = sum(r.amount_fen or 0 for _, r in explicit if r.tender == "cash")
    # Amount-less tenders share what the explicit ones leave; cash handed over counts first.
    open_left = max(0, left - cash_given)
    for i, r in enumerate(requests):
        if r.amount_fen is not None or r.tender in ("count_card", "cash"):
            continue
        take = min(open_left, _capacity(r.tender, limits))
        amounts[i] = take
        left -= take
        open_left -= take
    for i, r in explicit:
        if r.tender == "cash":
            assert r.amount_fen is not None
            amounts[i] = min(r.amount_fen, max(left, 0))
            left -= amounts[i]
    change = cash_given - sum(amounts[i] for i, r in explicit if r.tender == "cash")
    for i, r in enumerate(requests):
        if r.tender == "cash" and r.amount_fen is None:
            amounts[i] = max(left, 0)
            cash_given += amounts[i]
            left -= amounts[i]
    if left > 0:
        raise InsufficientBalance(
            f"还差 {format_fen(left)} 未付", f"{format_fen(left)} is still to be paid"
        )
    if cash_given and change == cash_given:
        raise InvalidInput("已经付清，不需要现金", "Already paid in full; no cash is needed")
    planned = []
    for i, r in enumerate(requests):
        amount = amounts.get(i, 0)
        given = r.amount_fen if r.tender == "cash" and r.amount_fen is not None else amount
        if amount == 0 and given == 0:
            continue  # an amount-less tender left with nothing to pay
        planned.append(PlannedTender(r.tender, amount, given, r.reference))
    return TenderPlan(tuple(planned), change)


def _capacity(tender: str, limits: TenderLimits) -> int:
    if tender == "stored_value":
        return _stored_value(limits)
    if tender == "points":
        return limits.points_max_fen
    return 1 << 62  # bank, WeChat, Alipay: whatever is left


def _stored_value(limits: TenderLimits) -> int:
    if limits.stored_value_fen is None:
        raise InvalidInput(
            "储值支付需要刷会员卡", "Stored-value payment needs a member card at the till"
        )
    return limits.stored_value_fen


def _check_limit(tender: str, amount: int, limits: TenderLimits) -> None:
    if tender == "stored_value":
        balance = _stored_value(limits)
        if amount > balance:
            raise InsufficientBalance(
                f"储值余额不足：余额 {format_fen(balance)}，需付 {format_fen(amount)}",
                f"Not enough stored value: {format_fen(balance)} left, {format_fen(amount)} asked",
            )
    elif tender == "points" and amount > limits.points_max_fen:
        raise InsufficientBalance(
            f"积分最多可抵 {format_fen(limits.points_max_fen)}",
            f"Points can pay at most {format_fen(limits.points_max_fen)} of this bill",
        )
