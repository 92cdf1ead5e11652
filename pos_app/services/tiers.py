"""Tier changes: upgrades as members spend or top up, a manual change (optionally locked
through a date), the yearly review, and the fall back when a refund takes away the purchase
or top-up a tier rested on."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

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


def set_tier(
    uc: UseCase,
    member: Member,
    level: TierLevel,
    reason: str,
    note: str = "",
    *,
    locked_until: date | None = None,
) -> None:
    """Record a tier change; on an upgrade, reset points if the rules say so (归零). A manual
    change (reason "manual") also sets or clears the member's lock (`locked_until`)."""
    old = uc.rules.tiers.level(member.tier_code)
    payload: dict[str, object] = {
        "from": member.tier_code,
        "to": level.code,
        "reason": reason,
        "note": note,
    }
    if reason == MANUAL:
        payload["locked_until"] = locked_until.isoformat() if locked_until else None
    uc.ledger.append(EntryKind.TIER_CHANGED, member_id=member.id, payload=payload)
    member.tier_code, member.tier_since = level.code, uc.now_iso
    if reason == MANUAL:
        member.tier_locked_until = locked_until.isoformat() if locked_until else None
    if level.rank > old.rank and uc.rules.points.reset_on_upgrade and member.points_balance > 0:
        lots = member_lots(uc, member.id)
        take_points(
            uc, member, EntryKind.POINTS_RESET, [Allocation(lot.id, lot.remaining) for lot in lots]
        )


MANUAL = "manual"


def lock_floor(uc: UseCase, member: Member) -> TierLevel | None:
    """The level a manager's manual change holds the member at, while its lock lasts (through
    `tier_locked_until`, in the store's business days); None when there is no lock."""
    until = member.tier_locked_until
    if not until or uc.ctx.business_day().isoformat() > until:
        return None
    changes = uc.session.scalars(
        select(LedgerEntry.payload)
        .where(LedgerEntry.member_id == member.id, LedgerEntry.kind == EntryKind.TIER_CHANGED)
        .order_by(LedgerEntry.store_seq.desc())
    )
    for raw in changes:
        payload = json.loads(raw or "{}")
        if payload.get("reason") == MANUAL:
            return uc.rules.tiers.level(str(payload.get("to")))
    return None


def qualified_level(uc: UseCase, member: Member) -> TierLevel:
    """The highest level the member's activity in the window earns by the upgrade rules:
    cumulative spend less refunds, their largest purchase less what was refunded of it (a
    credited walk-in receipt counts as that sale), their largest top-up not refunded."""
    uc.session.flush()
    rows = uc.session.execute(
        select(
            LedgerEntry.entry_id,
            LedgerEntry.kind,
            LedgerEntry.amount_fen,
            LedgerEntry.related_entry_id,
        ).where(
            LedgerEntry.member_id == member.id,
            LedgerEntry.kind.in_(
                [
                    EntryKind.PURCHASE,
                    EntryKind.PURCHASE_REFUNDED,
                    EntryKind.TOPUP,
                    EntryKind.TOPUP_REFUNDED,
                ]
            ),
            LedgerEntry.business_time >= window_start(uc),
        )
    )
    cumulative = 0
    purchases: dict[str, int] = {}
    refunded: dict[str, int] = defaultdict(int)
    topups: dict[str, int] = {}
    topups_refunded: set[str] = set()
    for entry_id, kind, amount, related in rows:
        if kind == EntryKind.PURCHASE:
            # A refund points at the sale's own entry, which a credited receipt points at.
            purchases[related or entry_id] = amount
            cumulative += amount
        elif kind == EntryKind.PURCHASE_REFUNDED:
            refunded[related or ""] += amount
            cumulative -= amount
        elif kind == EntryKind.TOPUP:
            topups[entry_id] = amount
        else:
            topups_refunded.add(related or "")
    activity = Activity(
        cumulative_spend_fen=cumulative,
        single_purchase_fen=max((a - refunded[k] for k, a in purchases.items()), default=0),
        topup_fen=max((a for k, a in topups.items() if k not in topups_refunded), default=0),
    )
    tiers = uc.rules.tiers
    return upgrade_to(tiers, tiers.base.code, activity) or tiers.base


def settle_tier_after_refund(
    uc: UseCase, member: Member, qualified_before: TierLevel, refund_entry_id: str
) -> None:
    """After a refund, inside its transaction: if the member's tier rested on activity the
    refund took back (`qualified_before`, from `qualified_level` before the refund, reached
    the tier and what is left no longer does), lower it to what is left earns — never below
    a manual lock. A tier that came from elsewhere (a manual change, kept at a review) is
    left alone: the refund did not take away what it rested on."""
    tiers = uc.rules.tiers
    current = tiers.level(member.tier_code)
    if qualified_before.rank < current.rank:
        return
    target = qualified_level(uc, member)
    floor = lock_floor(uc, member)
    if floor is not None and floor.rank > target.rank:
        target = floor
    if target.rank < current.rank:
        set_tier(uc, member, target, "refund", refund_entry_id)


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
    locked_until: str | None = None


def change_tier(
    ctx: StoreContext,
    actor: Actor,
    member_no: str,
    tier_code: str,
    reason: str,
    approval: Approval | None = None,
    locked_until: date | None = None,
) -> TierChange:
    """A manual tier change: needs a manager and a reason. With `locked_until` the member is
    held at this level through that business day: the yearly review and refunds lower them
    no further until then (upgrades still lift them). A change without it clears any lock."""
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
        if locked_until is not None and locked_until < ctx.business_day():
            raise InvalidInput(
                f"锁定日期 {locked_until.isoformat()} 已经过去",
                f"The lock date {locked_until.isoformat()} is in the past",
            )
        old = member.tier_code
        lock = locked_until.isoformat() if locked_until else None
        if old != tier_code or member.tier_locked_until != lock:
            set_tier(
                uc,
                member,
                uc.rules.tiers.level(tier_code),
                MANUAL,
                reason.strip(),
                locked_until=locked_until,
            )
        return TierChange(member.member_no, old, tier_code, lock)


def review_tiers(ctx: StoreContext, actor: Actor) -> list[TierChange]:
    """The yearly review: a member not upgraded since the last review date keeps only the level
    their spending in the window still earns — or the level a manager locked them at, while
    the lock lasts. Safe to run more than once."""
    with use_case(ctx, actor, Permission.TIER_REVIEW) as uc:
        tiers = uc.rules.tiers
        review_day = last_review_date(tiers, ctx.business_day())
        review_start = ctx.day_start_iso(review_day)
        since = window_start(uc)
        changes = []
        candidates = uc.session.scalars(
            select(Member).where(
                Member.tier_code != tiers.base.code,
                Member.tier_since < review_start,
                # Another store's members come down with the tier HQ knows: reviewed there.
                Member.store_id == ctx.store.id,
            )
        )
        for member in candidates:
            kept = review_level(tiers, spend_in_window(uc.session, member.id, since))
            floor = lock_floor(uc, member)
            if floor is not None and floor.rank > kept.rank:
                kept = floor
            if kept.rank < tiers.level(member.tier_code).rank:
                changes.append(TierChange(member.member_no, member.tier_code, kept.code))
                set_tier(uc, member, kept, "review", review_day.isoformat())
        return changes
