"""Tier changes: upgrades as members spend or top up, a manual change, the yearly review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import LedgerEntry, Member
from pos_app.domain.control_chars import refuse_control_chars
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import InvalidInput
from pos_app.domain.permissions import Permission
from pos_app.domain.points import Allocation
from pos_app.domain.rules import TierLevel
from pos_app.domain.tiers import Activity, last_review_date, review_level, upgrade_to
from pos_app.services.auth import Actor, Approval
from pos_app.services.context import StoreContext, iso
from pos_app.services.lookup import member_by_no
from pos_app.services.points_book import member_lots, take_points
from pos_app.services.use_case import UseCase, use_case


def window_start(uc: UseCase) -> str:
    """The start of the cumulative-spend window that upgrades and reviews look at."""
    return iso(uc.ctx.now() - timedelta(days=uc.rules.tiers.window_days))


def spend_in_window(session: Session, member_id: str, since_iso: str) -> int:
    """Purchases less refunds since a moment, in fen."""
    rows = session.execute(
        select(LedgerEntry.kind, func.sum(LedgerEntry.amount_fen))
        .where(
            LedgerEntry.member_id == member_id,
            LedgerEntry.kind.in_([EntryKind.PURCHASE, EntryKind.PURCHASE_REFUNDED]),
            LedgerEntry.business_time >= since_iso,
        )
        .group_by(LedgerEntry.kind)
    ).all()
    totals = {kind: amount or 0 for kind, amount in rows}
    return totals.get(EntryKind.PURCHASE, 0) - totals.get(EntryKind.PURCHASE_REFUNDED, 0)


def set_tier(uc: UseCase, member: Member, level: TierLevel, reason: str, note: str = "") -> None:
    """Record a tier change; on an upgrade, reset points if the rules say so (归零)."""
    old = uc.rules.tiers.level(member.tier_code)
    uc.ledger.append(
        EntryKind.TIER_CHANGED,
        member_id=member.id,
        payload={"from": member.tier_code, "to": level.code, "reason": reason, "note": note},
    )
    member.tier_code, member.tier_since = level.code, uc.now_iso
    if level.rank > old.rank and uc.rules.points.reset_on_upgrade and member.points_balance > 0:
        lots = member_lots(uc, member.id)
        take_points(
            uc, member, EntryKind.POINTS_RESET, [Allocation(lot.id, lot.remaining) for lot in lots]
        )


def upgrade_if_qualified(uc: UseCase, member: Member, activity: Activity, reason: str) -> None:
    """Lift the member to the highest level this activity reaches, if any is above theirs."""
    target = upgrade_to(uc.rules.tiers, member.tier_code, activity)
    if target is not None:
        set_tier(uc, member, target, reason)


@dataclass(frozen=True)
class TierChange:
    member_no: str
    old_tier: str
    new_tier: str


def change_tier(
    ctx: StoreContext,
    actor: Actor,
    member_no: str,
    tier_code: str,
    reason: str,
    approval: Approval | None = None,
) -> TierChange:
    """A manual tier change: needs a manager and a reason."""
    if not reason.strip():
        raise InvalidInput("请填写调整原因", "Give a reason for the change")
    refuse_control_chars(reason, "原因", "reason")
    with use_case(ctx, actor, Permission.TIER_CHANGE, approval, target=member_no) as uc:
        member = member_by_no(uc.session, member_no)
        codes = [lvl.code for lvl in uc.rules.tiers.levels]
        if tier_code not in codes:
            raise InvalidInput(
                f"没有这个等级：{tier_code}（{'/'.join(codes)}）",
                f"No such tier: {tier_code} ({'/'.join(codes)})",
            )
        old = member.tier_code
        if old != tier_code:
            set_tier(uc, member, uc.rules.tiers.level(tier_code), "manual", reason.strip())
        return TierChange(member.member_no, old, tier_code)


def review_tiers(ctx: StoreContext, actor: Actor) -> list[TierChange]:
    """The yearly review: a member not upgraded since the last review date keeps only the level
    their spending in the window still earns. Safe to run more than once."""
    with use_case(ctx, actor, Permission.TIER_REVIEW) as uc:
        tiers = uc.rules.tiers
        review_day = last_review_date(tiers, ctx.business_day())
        review_start = ctx.day_start_iso(review_day)
        since = window_start(uc)
        changes = []
        candidates = uc.session.scalars(
            select(Member).where(
                Member.tier_code != tiers.base.code, Member.tier_since < review_start
            )
        )
        for member in candidates:
            kept = review_level(tiers, spend_in_window(uc.session, member.id, since))
            if kept.rank < tiers.level(member.tier_code).rank:
                changes.append(TierChange(member.member_no, member.tier_code, kept.code))
                set_tier(uc, member, kept, "review", review_day.isoformat())
        return changes
