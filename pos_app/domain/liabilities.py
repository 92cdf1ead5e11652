"""What the store owes its members on a date (负债): prepaid value not yet spent.

Stored value (principal and bonus), points (and what they would pay at the redemption rate),
the unused part of count, time and package cards, and unused coupons still valid. Amounts
are integer fen. A card's liability is the unused share of what was paid for it: uses left
over uses bought for count and package cards, days left over days bought for time cards.
"""

from __future__ import annotations

from dataclasses import dataclass


def unused_share_fen(price_fen: int, total: int, left: int) -> int:
    """The part of `price_fen` that `left` of `total` units are worth (floored; 0 if none)."""
    if total <= 0 or left <= 0 or price_fen <= 0:
        return 0
    return price_fen * min(left, total) // total


def points_value_fen(points: int, points_per_yuan: int) -> int:
    """What `points` pay at the till when `points_per_yuan` points pay ¥1 (floored)."""
    if points <= 0 or points_per_yuan <= 0:
        return 0
    return points * 100 // points_per_yuan


@dataclass(frozen=True)
class PassLiability:
    """The cards of one kind (count, time, package) still usable on the date."""

    kind: str
    passes: int = 0
    uses_left: int = 0  # count and package cards; time cards have no count
    value_fen: int = 0


@dataclass(frozen=True)
class Liabilities:
    """Outstanding prepaid value at the end of `day` (YYYY-MM-DD)."""

    day: str
    sv_principal_fen: int = 0
    sv_bonus_fen: int = 0
    points: int = 0
    points_per_yuan: int = 100
    passes: tuple[PassLiability, ...] = ()
    coupons: int = 0  # unused coupons still valid
    coupons_face_fen: int = 0  # of those with a fixed amount off

    @property
    def sv_fen(self) -> int:
        return self.sv_principal_fen + self.sv_bonus_fen

    @property
    def points_value_fen(self) -> int:
        return points_value_fen(self.points, self.points_per_yuan)

    @property
    def passes_value_fen(self) -> int:
        return sum(p.value_fen for p in self.passes)

    @property
    def total_fen(self) -> int:
        """负债合计: stored value, points at their cash value, cards' unused value, coupons."""
        return self.sv_fen + self.points_value_fen + self.passes_value_fen + self.coupons_face_fen
