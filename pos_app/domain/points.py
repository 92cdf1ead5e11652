"""Points (积分): earned in lots that expire, spent oldest first, reversed on refund.

A balance can go negative when a refund reverses points already spent; the shortfall is a
debt that blocks redemption and is paid off by the next points earned.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from pos_app.domain.errors import InsufficientBalance, InvalidInput
from pos_app.domain.rules import PointsRules


@dataclass(frozen=True)
class Lot:
    """Points earned together, valid until (not including) `expires_on`; None never expires."""

    lot_id: str
    remaining: int
    expires_on: date | None
    seq: int


@dataclass(frozen=True)
class Allocation:
    lot_id: str
    points: int


def earned_points(eligible_fen: int, per_yuan: int, multiplier_permille: int) -> int:
    """Points for an eligible amount: fen × base rate × multipliers, rounded down."""
    if eligible_fen <= 0:
        return 0
    return eligible_fen * per_yuan * multiplier_permille // (100 * 1000)


def lot_expiry(rules: PointsRules, earned_on: date) -> date | None:
    """The first business day on which a lot earned on `earned_on` is no longer valid."""
    if rules.expiry == "never":
        return None
    if rules.expiry == "rolling":
        return _add_months(earned_on, rules.rolling_months)
    month, day = (int(x) for x in rules.yearly_clear_date.split("-"))
    year = earned_on.year + rules.yearly_keep_years
    last = calendar.monthrange(year, month)[1]
    clear_day = date(year, month, min(day, last))
    if clear_day < earned_on:  # keep_years = 0 and the clear date already passed this year
        clear_day = date(year + 1, month, min(day, calendar.monthrange(year + 1, month)[1]))
    return clear_day + timedelta(days=1)


def _add_months(d: date, months: int) -> date:
    month_index = d.month - 1 + months
    year, month = d.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def oldest_first(lots: list[Lot]) -> list[Lot]:
    """Spending order: the lot that expires first goes first; never-expiring lots last."""
    return sorted(
        (lot for lot in lots if lot.remaining > 0),
        key=lambda lot: (lot.expires_on is None, lot.expires_on or date.max, lot.seq),
    )


def allocate(lots: list[Lot], points: int) -> tuple[list[Allocation], int]:
    """Take `points` from the lots, oldest first. Returns the allocations and any shortfall."""
    if points <= 0:
        raise InvalidInput("积分数量必须大于零", "Points must be above zero")
    allocations = []
    left = points
    for lot in oldest_first(lots):
        if left == 0:
            break
        take = min(lot.remaining, left)
        allocations.append(Allocation(lot.lot_id, take))
        left -= take
    return allocations, left


def allocate_for_redemption(lots: list[Lot], debt: int, points: int) -> list[Allocation]:
    """Allocate points a member spends; refused if the balance is negative or short."""
    balance = sum(lot.remaining for lot in lots) - debt
    if debt > 0:
        raise InsufficientBalance(
            f"积分余额为负（{balance}），暂不能使用积分",
            f"The points balance is negative ({balance}); points cannot be used until it is not",
        )
    allocations, shortfall = allocate(lots, points)
    if shortfall:
        raise InsufficientBalance(
            f"积分不足：需 {points}，可用 {balance}",
            f"Not enough points: {points} needed, {balance} available",
        )
    return allocations


def expired_lots(lots: list[Lot], today: date) -> list[Allocation]:
    """The remaining points of every lot no longer valid on `today`."""
    return [
        Allocation(lot.lot_id, lot.remaining)
        for lot in lots
        if lot.remaining > 0 and lot.expires_on is not None and lot.expires_on <= today
    ]


def settle_debt(new_points: int, debt: int) -> tuple[int, int]:
    """New points first pay off a debt: returns (points left in the new lot, debt paid)."""
    paid = min(new_points, debt)
    return new_points - paid, paid
