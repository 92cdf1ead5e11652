"""Purchases credited to members (补积分), points (积分) and tiers (等级): `purchase`,
`purchase-refund`, `points redeem|give|adjust|expire`, `tier set|review`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import click

from pos_app.cli.invocation import Invocation
from pos_app.cli.money_cmd import AMOUNT_COMMAND
from pos_app.cli.number_params import POINTS, POINTS_DELTA
from pos_app.cli.operator_options import Credentials, approval_for, operator_options, signed_in
from pos_app.cli.output import Row, yes_no, yuan
from pos_app.domain.money import parse_yuan
from pos_app.domain.permissions import Permission
from pos_app.services.points import (
    PointsResult,
    adjust_points,
    expire_points,
    give_participation_points,
    record_manual_purchase,
    redeem_points,
    refund_purchase,
)
from pos_app.services.receipt_claims import claim_receipt_points
from pos_app.services.tiers import change_tier, review_tiers


def _one_member(card_no: str | None, member_no: str | None) -> None:
    if bool(card_no) == bool(member_no):
        raise click.UsageError(
            "请给出 --card 或 --member-no 中的一个 Give exactly one of --card or --member-no"
        )


def _points_result(inv: Invocation, r: PointsResult, title: str) -> None:
    inv.out.result(
        asdict(r),
        [
            ("会员号 Member no", r.member_no),
            ("积分变动 Points", f"{r.points_delta:+d}"),
            ("积分余额 Points balance", r.points_balance),
            ("等级 Tier", r.tier),
            ("记录号 Entry", r.entry_id or "—"),
        ],
        title=title,
    )


@click.command(context_settings=AMOUNT_COMMAND)
@click.argument("amount", required=False)
@click.option("--card", "card_no", metavar="CARD", help="卡号 Card number")
@click.option("--member-no", metavar="N", help="会员号 Member number")
@click.option(
    "--receipt",
    metavar="R",
    help="补积分：把这张收银小票记到会员名下 Credit this till receipt to the member",
)
@click.option("--reason", help="无小票补录的原因 Why a purchase is credited with no receipt")
@click.option(
    "--eligible",
    metavar="AMOUNT",
    help="无小票补录的可积分金额（默认全部） Amount that earns points (default: all)",
)
@operator_options(approver=True)
@click.pass_obj
def purchase(
    inv: Invocation,
    amount: str | None,
    card_no: str | None,
    member_no: str | None,
    receipt: str | None,
    reason: str | None,
    eligible: str | None,
    creds: Credentials,
) -> None:
    """补积分 Credit a member for a purchase: a walk-in receipt of this till (--receipt R; the
    amounts come from the receipt), or AMOUNT yuan with no receipt (a manager approves, with
    --reason, up to the rules' points.manual_purchase_max)."""
    _one_member(card_no, member_no)
    if receipt:
        if amount is not None or eligible is not None:
            raise click.UsageError(
                "补积分的金额来自小票本身，不要再给金额 "
                "With --receipt the amounts come from the receipt: give no AMOUNT or --eligible"
            )
        _claim(inv, receipt, card_no, member_no, creds)
        return
    if amount is None or not (reason or "").strip():
        raise click.UsageError(
            "请给出 --receipt R（补积分），或金额和 --reason（店长补录） "
            "Give --receipt R, or AMOUNT with --reason (a manager's purchase without a receipt)"
        )
    amount_fen = parse_yuan(amount)
    eligible_fen = parse_yuan(eligible, allow_zero=True) if eligible is not None else None
    actor = signed_in(inv, creds)
    approval = approval_for(inv, creds, Permission.PURCHASE_MANUAL)
    r = record_manual_purchase(
        inv.store(),
        actor,
        amount_fen=amount_fen,
        reason=reason or "",
        eligible_fen=eligible_fen,
        member_no=member_no,
        card_no=card_no,
        approval=approval,
    )
    rows: list[Row] = [
        ("消费 Amount", yuan(amount_fen)),
        ("获得积分 Points earned", r.points_earned),
        ("积分余额 Points balance", r.points_balance),
        ("等级 Tier", r.tier + ("（已升级 upgraded）" if r.tier_changed else "")),
        ("记录号 Entry", r.purchase_entry_id),
    ]
    if r.referrer_rewarded:
        rows.append(("推荐奖励 Referrer rewarded", r.referrer_rewarded))
    inv.out.result(
        {**asdict(r), "amount_fen": amount_fen}, rows, title="消费已补录 Purchase credited"
    )


def _claim(
    inv: Invocation, receipt: str, card_no: str | None, member_no: str | None, creds: Credentials
) -> None:
    actor = signed_in(inv, creds)
    r = claim_receipt_points(inv.store(), actor, receipt, member_no=member_no, card_no=card_no)
    rows: list[Row] = [
        ("小票 Receipt", r.receipt_no),
        ("会员号 Member no", r.member_no),
        ("消费 Amount", yuan(r.amount_fen)),
        ("可积分 Eligible", yuan(r.eligible_fen)),
        ("获得积分 Points earned", r.points_earned),
        ("积分余额 Points balance", r.points_balance),
        ("等级 Tier", r.tier + ("（已升级 upgraded）" if r.tier_changed else "")),
        ("记录号 Entry", r.purchase_entry_id),
    ]
    if r.referrer_rewarded:
        rows.append(("推荐奖励 Referrer rewarded", r.referrer_rewarded))
    inv.out.result(asdict(r), rows, title="已补积分 Receipt credited")


@click.command("purchase-refund")
@click.argument("entry_id")
@operator_options(approver=True)
@click.pass_obj
def purchase_refund(inv: Invocation, entry_id: str, creds: Credentials) -> None:
    """退货 Refund a recorded purchase (by its entry id): its points are taken back."""
    actor = signed_in(inv, creds)
    approval = approval_for(inv, creds, Permission.PURCHASE_REFUND)
    r = refund_purchase(inv.store(), actor, entry_id.strip(), approval)
    _points_result(inv, r, "消费已退 Purchase refunded")


@click.group()
def points() -> None:
    """积分 Points: redeem, give, adjust, expire."""


@points.command("redeem")
@click.argument("amount", type=POINTS, metavar="POINTS")
@click.option("--card", "card_no", metavar="CARD", help="卡号 Card number")
@click.option("--member-no", metavar="N", help="会员号 Member number")
@click.option("--reason", default="兑换", show_default=True, help="用途 What for (gift, coupon)")
@operator_options()
@click.pass_obj
def points_redeem(
    inv: Invocation,
    amount: int,
    card_no: str | None,
    member_no: str | None,
    reason: str,
    creds: Credentials,
) -> None:
    """积分兑换 Spend POINTS, oldest first."""
    _one_member(card_no, member_no)
    actor = signed_in(inv, creds)
    r = redeem_points(inv.store(), actor, amount, reason, member_no=member_no, card_no=card_no)
    _points_result(inv, r, "积分已兑换 Points redeemed")


@points.command("give")
@click.argument("amount", type=POINTS, metavar="POINTS")
@click.option("--member-no", required=True, metavar="N", help="会员号 Member number")
@click.option("--reason", required=True, help="原因（活动、问卷） Reason (event, survey)")
@operator_options(approver=True)
@click.pass_obj
def points_give(
    inv: Invocation, amount: int, member_no: str, reason: str, creds: Credentials
) -> None:
    """赠送活动积分 Give participation points (needs a manager)."""
    actor = signed_in(inv, creds)
    approval = approval_for(inv, creds, Permission.POINTS_PARTICIPATION)
    r = give_participation_points(inv.store(), actor, member_no, amount, reason, approval)
    _points_result(inv, r, "积分已赠送 Points given")


@points.command("adjust", context_settings=AMOUNT_COMMAND)
@click.argument("delta", type=POINTS_DELTA, metavar="[+|-]POINTS")
@click.option("--member-no", required=True, metavar="N", help="会员号 Member number")
@click.option("--reason", required=True, help="调整原因 Reason")
@operator_options()
@click.pass_obj
def points_adjust(
    inv: Invocation, delta: int, member_no: str, reason: str, creds: Credentials
) -> None:
    """调整积分 Add (+N) or take (-N) points by hand (managers)."""
    actor = signed_in(inv, creds)
    r = adjust_points(inv.store(), actor, member_no, delta, reason)
    _points_result(inv, r, "积分已调整 Points adjusted")


@points.command("expire")
@operator_options()
@click.pass_obj
def points_expire(inv: Invocation, creds: Credentials) -> None:
    """积分过期 Expire every points lot past its date (managers; the nightly job)."""
    actor = signed_in(inv, creds)
    total = expire_points(inv.store(), actor)
    inv.out.result(
        {"points_expired": total},
        [("过期积分 Points expired", total)],
        title="积分过期已执行 Points expiry done",
    )


@click.group()
def tier() -> None:
    """会员等级 Tiers: set by hand, yearly review."""


@tier.command("set")
@click.argument("tier_code", metavar="TIER")
@click.option("--member-no", required=True, metavar="N", help="会员号 Member number")
@click.option("--reason", required=True, help="调整原因 Reason")
@click.option(
    "--locked-until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="锁定至该日（含）：复审和退货不降级 Hold the tier through this day: the review and "
    "refunds do not lower it",
)
@operator_options(approver=True)
@click.pass_obj
def tier_set(
    inv: Invocation,
    tier_code: str,
    member_no: str,
    reason: str,
    locked_until: datetime | None,
    creds: Credentials,
) -> None:
    """手动调整等级 Change a member's tier (needs a manager), optionally locked through a day."""
    actor = signed_in(inv, creds)
    approval = approval_for(inv, creds, Permission.TIER_CHANGE)
    lock = locked_until.date() if locked_until else None
    r = change_tier(inv.store(), actor, member_no, tier_code, reason, approval, lock)
    inv.out.result(
        asdict(r),
        [
            ("会员号 Member no", r.member_no),
            ("原等级 From", r.old_tier),
            ("新等级 To", r.new_tier),
            ("已变更 Changed", yes_no(r.old_tier != r.new_tier)),
            ("锁定至 Locked until", r.locked_until or "—"),
        ],
        title="等级已调整 Tier changed",
    )


@tier.command("review")
@operator_options()
@click.pass_obj
def tier_review(inv: Invocation, creds: Credentials) -> None:
    """等级复审 The yearly review: members keep the level their spending still earns."""
    actor = signed_in(inv, creds)
    changes = review_tiers(inv.store(), actor)
    inv.out.result(
        {"count": len(changes), "changes": [asdict(c) for c in changes]},
        title=f"复审完成，{len(changes)} 位会员降级 Review done: {len(changes)} member(s) moved",
        tables=[
            (
                "",
                ["会员号 Member no", "原等级 From", "新等级 To"],
                [[c.member_no, c.old_tier, c.new_tier] for c in changes],
            )
        ],
    )
