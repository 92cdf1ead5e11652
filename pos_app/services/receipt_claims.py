"""补积分: a walk-in sale credited to a member afterwards, when the customer shows the card
only once the receipt is printed.

The amounts come from the receipt's own lines, never from the person asking: what is left of
the sale after any returns, and of that what earns points (products that earn points, at the
campaign multiplier of the sale's day). A receipt is credited once, only if it was a sale
without a member, and only within the rules' window (`points.claim_days`). The credit is a
`purchase` entry of the member pointing back at the sale's own entry; a later return of the
receipt takes the credit back in proportion (`sale_refund`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from db.models import Card, Member, Product, Sale, SaleLine
from pos_app.domain.card_lifecycle import CardState, check_can_pay, mask_card_no
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AlreadyExists, InvalidInput
from pos_app.domain.permissions import Permission
from pos_app.domain.pricing import promotion_active
from pos_app.domain.rules import Rules
from pos_app.services.auth import Actor
from pos_app.services.context import StoreContext
from pos_app.services.lookup import card_by_no, member_by_no, member_of_card
from pos_app.services.points import earn_for_purchase, is_first_purchase, purchase_claim
from pos_app.services.sale_records import sale_by_receipt_no
from pos_app.services.use_case import UseCase, use_case


@dataclass(frozen=True)
class ReceiptClaim:
    """What crediting a receipt gave the member."""

    receipt_no: str
    member_no: str
    amount_fen: int  # what is left of the sale, credited as the member's spend
    eligible_fen: int  # of which earns points
    purchase_entry_id: str
    points_earned: int
    points_balance: int
    tier: str
    tier_changed: bool
    referrer_rewarded: str | None


def _claimant(uc: UseCase, member_no: str | None, card_no: str | None) -> Member:
    if bool(member_no) == bool(card_no):
        raise InvalidInput("请给出会员号或卡号（二选一）", "Give a member number or a card number")
    if card_no:
        card: Card = card_by_no(uc.session, card_no)
        check_can_pay(mask_card_no(card.card_no), CardState(card.state))
        return member_of_card(uc.session, card)
    return member_by_no(uc.session, member_no or "")


def _multiplier(rules: Rules, product: Product, sale_day_iso: str) -> int:
    """The campaign points multiplier (permille) the line would have had at the sale."""
    day = date.fromisoformat(sale_day_iso)
    best = 1000
    for promo in rules.promotions:
        if promo.kind != "points_multiplier" or not promotion_active(promo, day):
            continue
        if product.sku in promo.skus or product.category in promo.categories:
            best = max(best, promo.multiplier_permille)
    return best


def _what_is_left(uc: UseCase, sale: Sale, sale_day_iso: str) -> tuple[int, dict[int, int]]:
    """What is left of the sale after its returns, and of that what earns points, by
    campaign multiplier."""
    s = uc.session
    left: dict[int, int] = {
        line.line_no: line.net_fen
        for line in s.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id))
    }
    returns = s.execute(
        select(SaleLine.original_line_no, SaleLine.net_fen)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(Sale.original_sale_id == sale.id)
    )
    for line_no, net in returns:
        if line_no is not None:
            left[line_no] += net  # a return's lines are negative
    groups: dict[int, int] = {}
    for line in s.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id)):
        product = s.get(Product, line.product_id)
        amount = left[line.line_no]
        if product is None or not product.earns_points or amount <= 0:
            continue
        m = _multiplier(uc.rules, product, sale_day_iso)
        groups[m] = groups.get(m, 0) + amount
    return sum(left.values()), groups


def claim_receipt_points(
    ctx: StoreContext,
    actor: Actor,
    receipt_no: str,
    *,
    member_no: str | None = None,
    card_no: str | None = None,
) -> ReceiptClaim:
    """补积分: credit a walk-in receipt of this till to a member — points and tier credit as if
    the card had been shown at the sale, from what is left of the receipt's own lines."""
    with use_case(ctx, actor, Permission.PURCHASE_RECORD, target=receipt_no.strip()) as uc:
        s = uc.session
        member = _claimant(uc, member_no, card_no)
        sale = sale_by_receipt_no(s, receipt_no)
        number = sale.receipt_no
        if sale.kind != "sale":
            raise InvalidInput(
                f"{number} 是退货单，不能补积分", f"{number} is a refund: it earns no points"
            )
        if sale.member_id is not None:
            owner = s.get(Member, sale.member_id)
            who = owner.member_no if owner else "?"
            raise AlreadyExists(
                f"小票 {number} 已是会员 {who} 的消费", f"Receipt {number} was member {who}'s sale"
            )
        earlier = purchase_claim(s, sale.entry_id)
        if earlier is not None:
            owner = s.get(Member, earlier.member_id)
            who = owner.member_no if owner else "?"
            raise AlreadyExists(
                f"小票 {number} 已补过积分（会员 {who}）",
                f"Receipt {number} was already credited (member {who})",
            )
        sale_day = ctx.business_day(datetime.fromisoformat(sale.business_time))
        days = (ctx.business_day() - sale_day).days
        limit = uc.rules.points.claim_days
        if days > limit:
            raise InvalidInput(
                f"小票 {number} 已超过 {limit} 天，不能补积分",
                f"Receipt {number} is more than {limit} days old: it can no longer be credited",
            )
        amount, groups = _what_is_left(uc, sale, sale_day.isoformat())
        if amount <= 0:
            raise InvalidInput(
                f"小票 {number} 已全部退货", f"Everything on receipt {number} was returned"
            )
        first = is_first_purchase(uc, member)
        eligible = sum(groups.values())
        claim = uc.ledger.append(
            EntryKind.PURCHASE,
            member_id=member.id,
            amount_fen=amount,
            related_entry_id=sale.entry_id,
            payload={
                "receipt_no": number,
                "claim_of": sale.id,
                "eligible_fen": eligible,
                "refunded_before_fen": sale.total_fen - amount,
            },
        )
        earned = earn_for_purchase(uc, member, claim.entry_id, amount, groups, first)
        return ReceiptClaim(
            receipt_no=number,
            member_no=member.member_no,
            amount_fen=amount,
            eligible_fen=eligible,
            purchase_entry_id=claim.entry_id,
            points_earned=earned.points_earned,
            points_balance=earned.points_balance,
            tier=earned.tier,
            tier_changed=earned.tier_changed,
            referrer_rewarded=earned.referrer_rewarded,
        )
