"""Stand-in spending (docs/chain-protocol.md, "Spending a card anywhere", Offline): when HQ
cannot be asked, a till lets a card spend the chain's balance it last heard of, but only up
to the rules' `[chain]` limits, so an outage of HQ costs the chain at most a known amount.

Pure decisions: the caller counts today's stand-in spending from the till's own ledger and
says how long ago it last heard from HQ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pos_app.domain.errors import DomainError
from pos_app.domain.money import format_fen
from pos_app.domain.rules import ChainSpendRules


class OfflineRefused(DomainError):
    """Beyond what the till may stand in for HQ; `code` names the limit
    (offline_limit_card, offline_limit_till, offline_limit_points, offline_coupons_off,
    offline_stale)."""

    code = "offline_refused"


@dataclass(frozen=True)
class StandInAsk:
    """What one sale would take without HQ's authorization."""

    stored_value_fen: int = 0
    points: int = 0
    coupons: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.stored_value_fen or self.points or self.coupons)


@dataclass(frozen=True)
class StandInToday:
    """Stand-in spending of this business day so far, from the till's own ledger."""

    card_fen: int = 0  # stored value of this card
    till_fen: int = 0  # stored value of every card at this till
    member_points: int = 0  # points of this member


def stand_in_refusal(
    rules: ChainSpendRules, ask: StandInAsk, today: StandInToday, heard_ago: timedelta | None
) -> OfflineRefused | None:
    """None when the till may stand in for this sale, else the refusal with its reason.
    `heard_ago`: how long since the till last heard HQ's balances (None: never)."""
    if not ask.anything:
        return None
    limit = timedelta(hours=rules.offline_staleness_hours)
    if heard_ago is None or heard_ago > limit:
        since_zh = (
            "从未与总部同步过" if heard_ago is None else f"已 {_hours(heard_ago)} 小时未与总部同步"
        )
        since_en = (
            "has never synced with HQ"
            if heard_ago is None
            else f"last synced with HQ {_hours(heard_ago)} hours ago"
        )
        return OfflineRefused(
            f"连不上总部，且本机{since_zh}（离线最多 {rules.offline_staleness_hours} 小时）："
            "不能离线使用会员卡的余额、积分或券",
            f"HQ cannot be reached and this till {since_en} (at most "
            f"{rules.offline_staleness_hours} hours offline): the card's balance, points and "
            "coupons cannot be used offline",
            code="offline_stale",
        )
    if ask.coupons and not rules.offline_coupons:
        return OfflineRefused(
            "连不上总部：离线时不能用券",
            "HQ cannot be reached: coupons cannot be used offline",
            code="offline_coupons_off",
        )
    if ask.stored_value_fen:
        card_left = rules.offline_card_daily_fen - today.card_fen
        if ask.stored_value_fen > card_left:
            return OfflineRefused(
                f"连不上总部：此卡今日离线储值消费限额 {format_fen(rules.offline_card_daily_fen)}，"
                f"还可用 {format_fen(max(0, card_left))}",
                f"HQ cannot be reached: this card may spend "
                f"{format_fen(rules.offline_card_daily_fen)} of stored value offline a day, "
                f"{format_fen(max(0, card_left))} left today",
                code="offline_limit_card",
            )
        till_left = rules.offline_till_daily_fen - today.till_fen
        if ask.stored_value_fen > till_left:
            return OfflineRefused(
                f"连不上总部：本收银机今日离线储值消费限额 "
                f"{format_fen(rules.offline_till_daily_fen)}，"
                f"还可用 {format_fen(max(0, till_left))}",
                f"HQ cannot be reached: this till may take "
                f"{format_fen(rules.offline_till_daily_fen)} of stored value offline a day, "
                f"{format_fen(max(0, till_left))} left today",
                code="offline_limit_till",
            )
    if ask.points:
        points_left = rules.offline_points_daily - today.member_points
        if ask.points > points_left:
            return OfflineRefused(
                f"连不上总部：会员今日离线最多使用 {rules.offline_points_daily} 积分，"
                f"还可用 {max(0, points_left)}",
                f"HQ cannot be reached: a member may use {rules.offline_points_daily} points "
                f"offline a day, {max(0, points_left)} left today",
                code="offline_limit_points",
            )
    return None


def _hours(age: timedelta) -> int:
    return int(age.total_seconds() // 3600)
