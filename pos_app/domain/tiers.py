"""Tiers (会员等级): upgrades as spending happens, downgrades at the yearly review."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from pos_app.domain.rules import TierLevel, TierRules


@dataclass(frozen=True)
class Activity:
    """What may lift a member's tier, in fen."""

    cumulative_spend_fen: int = 0
    single_purchase_fen: int = 0
    topup_fen: int = 0


def qualifies(level: TierLevel, activity: Activity) -> bool:
    """Whether the activity meets any of the level's upgrade conditions."""
    checks = (
        (level.upgrade_cumulative_spend_fen, activity.cumulative_spend_fen),
        (level.upgrade_single_purchase_fen, activity.single_purchase_fen),
        (level.upgrade_topup_fen, activity.topup_fen),
    )
    return any(threshold > 0 and value >= threshold for threshold, value in checks)


def upgrade_to(rules: TierRules, current_code: str, activity: Activity) -> TierLevel | None:
    """The highest level above the current one the activity reaches, or None (no change)."""
    current = rules.level(current_code)
    best = None
    for level in rules.levels:
        if level.rank > current.rank and qualifies(level, activity):
            best = level
    return best


def review_level(rules: TierRules, cumulative_spend_fen: int) -> TierLevel:
    """At the review date a member keeps the highest level whose keep threshold they met."""
    kept = rules.base
    for level in rules.levels[1:]:
        if (
            level.keep_cumulative_spend_fen > 0
            and cumulative_spend_fen >= level.keep_cumulative_spend_fen
        ):
            kept = level
    return kept


def last_review_date(rules: TierRules, today: date) -> date:
    """The most recent review date on or before today."""
    month, day = (int(x) for x in rules.review_date.split("-"))
    this_year = _safe_date(today.year, month, day)
    return this_year if this_year <= today else _safe_date(today.year - 1, month, day)


def _safe_date(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))
