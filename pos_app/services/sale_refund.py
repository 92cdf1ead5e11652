"""Returns (退货) against the original receipt, whole or some lines.

A return refunds exactly what the returned lines cost (their net, after every discount and
their share of coupons and 抹零), and undoes what the sale did, in proportion: stored value
back to the buckets it came from, points taken as a tender given back, points earned taken
back, count-card uses given back, service cards sold revoked, and — once the whole sale is
returned — coupons given back if their template says so. Money paid in cash, by bank card,
WeChat or Alipay goes back the same way. Above the cashier's limit — for everything refunded
on the receipt so far, and for the cashier's refunds in the shift if the rules set a limit —
a manager approves, and the approver is recorded on every entry. A tier that rested on the
sale is lowered to what the member's remaining activity earns.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.ledger import new_id
from db.models import Card, LedgerEntry, Member, Product, Sale, SaleLine, SaleTender
from pos_app.domain.card_lifecycle import CardState, check_can_pay, mask_card_no
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import InvalidInput, NotFound
from pos_app.domain.members import mask_mobile
from pos_app.domain.money import format_fen
from pos_app.domain.permissions import Permission
from pos_app.domain.pricing import share_out
from pos_app.domain.receipt import ReceiptDocument, ReceiptLine, ReceiptMember, ReceiptTender
from pos_app.domain.sale_request import TENDER_NAMES, LineRequest, SaleRequest
from pos_app.services import coupons as coupon_svc
from pos_app.services import passes as pass_svc
from pos_app.services.auth import Actor, Approval, authorize
from pos_app.services.catalogue import product_by_code
from pos_app.services.chain_spend import authorize_spend, release_spend
from pos_app.services.checkout import SaleResult, sell_in_tx
from pos_app.services.context import StoreContext
from pos_app.services.points import purchase_claim
from pos_app.services.points_book import add_lot, reverse_points
from pos_app.services.sale_records import (
    SaleRows,
    local_time_text,
    next_receipt_no,
    operator_name,
    sale_by_receipt_no,
    write_sale,
)
from pos_app.services.shifts import open_shift_row
from pos_app.services.stored_value import holder_card
from pos_app.services.tiers import qualified_level, settle_tier_after_refund
from pos_app.services.use_case import UseCase, use_case


def cumulative_share(amount: int, whole: int, before: int, after: int) -> int:
    """The part of `amount` that belongs to the slice (before, after] of `whole`, so that
    successive partial refunds add up exactly to `amount` when all of `whole` is refunded."""
    if whole == 0:
        return 0
    return amount * after // whole - amount * before // whole


@dataclass(frozen=True)
class _Return:
    line: SaleLine
    measure: int  # pieces, or (weighed goods) thousandths of the unit
    net_fen: int
    gross_fen: int
    # Pieces on the refund row. A weighed line is one item: its refund rows count it back
    # (1) with the return that completes it, 0 with partial returns of its weight.
    qty: int


def measure(line: SaleLine) -> int:
    """How much of a sale line there is to return: its weight in thousandths of the unit
    for weighed goods, its pieces otherwise (negative on a refund row)."""
    return line.weight_milli if line.weight_milli is not None else line.qty


def _payload(entry: LedgerEntry) -> dict[str, Any]:
    return json.loads(entry.payload) if entry.payload else {}


def returned_so_far(s: Session, sale_id: str) -> tuple[dict[int, int], int, dict[str, int]]:
    """Per original line the quantity (weighed goods: the weight, see `measure`) already
    returned, the amount already refunded, and per tender what was already paid back."""
    qty: dict[int, int] = defaultdict(int)
    refunds = list(s.scalars(select(Sale).where(Sale.original_sale_id == sale_id)))
    refunded = -sum(r.total_fen for r in refunds)
    by_tender: dict[str, int] = defaultdict(int)
    for r in refunds:
        for line in s.scalars(select(SaleLine).where(SaleLine.sale_id == r.id)):
            assert line.original_line_no is not None
            qty[line.original_line_no] += -measure(line)
        for t in s.scalars(select(SaleTender).where(SaleTender.sale_id == r.id)):
            by_tender[t.tender] += -t.amount_fen
    return qty, refunded, by_tender


def _choose_returns(
    s: Session,
    lines: list[SaleLine],
    returned: dict[int, int],
    wanted: tuple[LineRequest, ...] | None,
) -> list[_Return]:
    left = {line.line_no: measure(line) - returned[line.line_no] for line in lines}
    picks: dict[int, int] = defaultdict(int)
    if wanted is None:
        picks.update({no: q for no, q in left.items() if q > 0})
    else:
        for req in wanted:
            code = req.code.strip()
            matching = [line for line in lines if line.sku.lower() == code.lower()]
            if not matching:
                try:
                    sku = product_by_code(s, code).sku
                except NotFound:
                    sku = code
                matching = [line for line in lines if line.sku == sku]
            if not matching:
                raise InvalidInput(
                    f"原小票上没有商品 {code}", f"The original receipt has no item {code}"
                )
            if matching[0].weight_milli is not None:
                _pick_weight(code, req, matching, left, picks)
                continue
            if req.weight_milli is not None:
                raise InvalidInput(
                    f"商品 {code} 按件卖，请按件数退", f"{code} is sold by the piece: return pieces"
                )
            need = req.qty
            for line in matching:
                take = min(need, left[line.line_no] - picks[line.line_no])
                if take > 0:
                    picks[line.line_no] += take
                    need -= take
            if need:
                can = sum(left[line.line_no] for line in matching)
                raise InvalidInput(
                    f"商品 {code} 最多还可退 {can} 件", f"At most {can} of {code} can be returned"
                )
    if not picks:
        raise InvalidInput("这张小票已全部退完", "Everything on this receipt has been returned")
    out = []
    for line in lines:
        q = picks.get(line.line_no, 0)
        if q:
            before, whole = returned[line.line_no], measure(line)
            net = cumulative_share(line.net_fen, whole, before, before + q)
            if line.weight_milli is None:
                out.append(_Return(line, q, net, line.unit_price_fen * q, q))
            else:
                gross = cumulative_share(line.gross_fen, whole, before, before + q)
                out.append(_Return(line, q, net, gross, 1 if before + q == whole else 0))
    return out


def _pick_weight(
    code: str,
    req: LineRequest,
    matching: list[SaleLine],
    left: dict[int, int],
    picks: dict[int, int],
) -> None:
    """A return of weighed goods: a weight (`req.weight_milli`, taken from the lines in
    order), or without one `req.qty` whole lines (what is left of each)."""
    open_lines = [line for line in matching if left[line.line_no] - picks[line.line_no] > 0]
    if req.weight_milli is None:
        if len(open_lines) < req.qty:
            raise InvalidInput(
                f"商品 {code} 最多还可退 {len(open_lines)} 份",
                f"At most {len(open_lines)} weighed lines of {code} can be returned",
            )
        for line in open_lines[: req.qty]:
            picks[line.line_no] = left[line.line_no]
        return
    need = req.weight_milli
    for line in open_lines:
        take = min(need, left[line.line_no] - picks[line.line_no])
        picks[line.line_no] += take
        need -= take
    if need:
        can = sum(left[line.line_no] for line in matching)
        raise InvalidInput(
            f"商品 {code} 最多还可退 {can / 1000:.3f}",
            f"At most {can / 1000:.3f} of {code} can be returned",
        )


def _weight_unit(s: Session, line: SaleLine) -> str:
    product = s.get(Product, line.product_id)
    return product.unit if product is not None else ""


def refund_sale(
    ctx: StoreContext,
    actor: Actor,
    receipt_no: str,
    lines: tuple[LineRequest, ...] | None = None,
    approval: Approval | None = None,
) -> SaleResult:
    """Return some lines (`lines`: SKU or barcode with a quantity) or everything left."""
    with use_case(ctx, actor, Permission.SALE_REFUND, approval, target=receipt_no) as uc:
        return _refund_in_tx(uc, actor, receipt_no, lines, approval)


def _refund_in_tx(
    uc: UseCase,
    actor: Actor,
    receipt_no: str,
    wanted: tuple[LineRequest, ...] | None,
    approval: Approval | None,
) -> SaleResult:
    s = uc.session
    ctx = uc.ctx
    shift = open_shift_row(s, actor)
    original = sale_by_receipt_no(s, receipt_no)
    if original.kind != "sale":
        raise InvalidInput("退货单不能再退货", "A refund receipt cannot be refunded")
    orig_lines = list(
        s.scalars(
            select(SaleLine).where(SaleLine.sale_id == original.id).order_by(SaleLine.line_no)
        )
    )
    returned, refunded_before, tender_back_before = returned_so_far(s, original.id)
    returns = _choose_returns(s, orig_lines, returned, wanted)
    total = sum(r.net_fen for r in returns)
    everything_back = all(
        returned[line.line_no] + sum(r.measure for r in returns if r.line.line_no == line.line_no)
        == measure(line)
        for line in orig_lines
    )
    if _over_cashier_limit(uc, actor, shift.id, refunded_before, total):
        # Above the cashier's limit: a manager approves on the spot, recorded on every entry.
        uc.approver_id = authorize(s, actor, Permission.SALE_OVER_LIMIT, approval)
        uc.ledger.approved_by_id = uc.approver_id
    member = s.get(Member, original.member_id) if original.member_id else None
    # A walk-in receipt credited to a member afterwards (补积分): the return takes the
    # member's credit back in proportion, as it would on a member's own sale.
    claim = purchase_claim(s, original.entry_id) if member is None else None
    if claim is not None:
        member = s.get(Member, claim.member_id)
    qualified = qualified_level(uc, member) if member is not None else None
    today = ctx.business_day()
    refund_no = next_receipt_no(s, ctx.till_id, today)
    refund_id = new_id()
    purchase = s.get(LedgerEntry, original.entry_id)
    assert purchase is not None
    refund_entry = uc.ledger.append(
        EntryKind.PURCHASE_REFUNDED,
        member_id=member.id if member is not None else None,
        amount_fen=total,
        related_entry_id=purchase.entry_id,
        payload={
            "receipt_no": refund_no,
            "original_receipt_no": original.receipt_no,
            "sale_id": refund_id,
        },
    )
    related = refund_entry.entry_id
    orig_tenders = list(
        s.scalars(
            select(SaleTender).where(SaleTender.sale_id == original.id).order_by(SaleTender.seq)
        )
    )
    tender_paid: dict[str, int] = defaultdict(int)
    tender_entry: dict[str, str | None] = {}
    for t in orig_tenders:
        tender_paid[t.tender] += t.amount_fen
        tender_entry.setdefault(t.tender, t.entry_id)

    back: dict[str, int] = defaultdict(int)
    details: dict[str, tuple[str, str]] = {}
    pass_back = _give_back_uses(uc, purchase.entry_id, returns, refund_no, related)
    if pass_back:
        back["count_card"] = pass_back
    rest = total - pass_back
    others = [t for t in tender_paid if t != "count_card"]
    remaining = [tender_paid[t] - tender_back_before[t] for t in others]
    shares = remaining if everything_back else share_out(rest, remaining)
    for tender, share in zip(others, shares, strict=True):
        if share > 0:
            back[tender] += share
    if back.get("stored_value"):
        details["stored_value"] = _stored_value_back(
            uc, tender_entry["stored_value"], back["stored_value"], refund_no
        )
    if back.get("points"):
        assert member is not None
        details["points"] = _points_back(
            uc, member, tender_entry["points"], back["points"], refund_no
        )
    earned_back = 0
    if member is not None:
        credited, before = purchase, refunded_before
        if claim is not None:
            # The credit covered what was left of the receipt when it was claimed.
            credited = claim
            before -= int(_payload(claim).get("refunded_before_fen", 0))
        earned_back = _take_back_earned(uc, member, credited, before, total, related)
    if everything_back:
        for entry in s.scalars(
            select(LedgerEntry).where(
                LedgerEntry.related_entry_id == purchase.entry_id,
                LedgerEntry.kind == EntryKind.COUPON_REDEEMED,
            )
        ).all():
            coupon_svc.restore_in_tx(uc, _payload(entry)["coupon_id"], refund_no, related)
    _revoke_cards(uc, purchase.entry_id, returns, refund_no, related)
    if member is not None and qualified is not None:
        settle_tier_after_refund(uc, member, qualified, related)

    business_time = uc.now_iso
    sale_rows = [
        {
            "sale_id": refund_id,
            "line_no": i + 1,
            "product_id": r.line.product_id,
            "sku": r.line.sku,
            "name": r.line.name,
            "category": r.line.category,
            "qty": -r.qty,
            "weight_milli": -r.measure if r.line.weight_milli is not None else None,
            "unit_price_fen": r.line.unit_price_fen,
            "gross_fen": -r.gross_fen,
            "net_fen": -r.net_fen,
            "original_line_no": r.line.line_no,
            "adjustments": "[]",
        }
        for i, r in enumerate(returns)
    ]
    tender_rows = [
        {
            "sale_id": refund_id,
            "seq": i + 1,
            "tender": tender,
            "amount_fen": -amount,
            "reference": None,
            "entry_id": None,
            "business_time": business_time,
        }
        for i, (tender, amount) in enumerate(back.items())
    ]
    gross = sum(r.gross_fen for r in returns)
    card = s.get(Card, original.card_id) if original.card_id else None
    if card is not None:
        card = holder_card(s, card.id)
    tier = uc.rules.tiers.level(member.tier_code) if member else None
    document = ReceiptDocument(
        store_code=ctx.store.code,
        till_id=ctx.till_id,
        store_name=ctx.store.name,
        receipt_no=refund_no,
        kind="refund",
        business_time=local_time_text(ctx, business_time),
        operator_name=actor.name,
        lines=tuple(
            ReceiptLine(
                i + 1,
                r.line.sku,
                r.line.name,
                -r.qty,
                r.line.unit_price_fen,
                -r.gross_fen,
                -r.net_fen,
                weight_milli=-r.measure if r.line.weight_milli is not None else None,
                unit=_weight_unit(s, r.line) if r.line.weight_milli is not None else "",
            )
            for i, r in enumerate(returns)
        ),
        gross_fen=-gross,
        discount_fen=-(gross - total),
        rounding_fen=0,
        total_fen=-total,
        tenders=tuple(
            ReceiptTender(
                tender,
                TENDER_NAMES[tender][0],
                TENDER_NAMES[tender][1],
                -amount,
                None,
                details.get(tender, (None, None))[0],
                details.get(tender, (None, None))[1],
            )
            for tender, amount in back.items()
        ),
        member=(
            ReceiptMember(
                member_no=member.member_no,
                name=member.name,
                masked_mobile=mask_mobile(member.mobile),
                tier_name=tier.name if tier else "",
                tier_name_en=tier.name_en if tier else "",
                card_no_masked=mask_card_no(card.card_no) if card else None,
                stored_value_fen=(card.principal_fen + card.bonus_fen) if card else None,
                principal_fen=card.principal_fen if card else None,
                bonus_fen=card.bonus_fen if card else None,
                points_earned=-earned_back,
                points_balance=member.points_balance,
            )
            if member
            else None
        ),
        original_receipt_no=original.receipt_no,
        approved_by_name=operator_name(s, uc.approver_id),
    )
    write_sale(
        s,
        SaleRows(
            sale={
                "id": refund_id,
                "receipt_no": refund_no,
                "kind": "refund",
                "original_sale_id": original.id,
                "shift_id": shift.id,
                "operator_id": actor.operator_id,
                "approved_by_id": uc.approver_id,
                "member_id": original.member_id,
                "card_id": original.card_id,
                "business_time": business_time,
                "gross_fen": -gross,
                "discount_fen": -(gross - total),
                "rounding_fen": 0,
                "total_fen": -total,
                "change_fen": 0,
                "points_earned": -earned_back,
                "entry_id": related,
            },
            lines=sale_rows,
            tenders=tender_rows,
            document=document,
        ),
    )
    return SaleResult(refund_id, refund_no, document, -total, 0, -earned_back)


def _over_cashier_limit(
    uc: UseCase, actor: Actor, shift_id: str, refunded_before: int, amount: int
) -> bool:
    """Whether a manager must approve this refund: the cashier's limit holds for all that is
    refunded on one receipt together (two small returns of one big receipt are one big
    return), and, if the rules set one, for all the cashier refunded in the shift."""
    checkout = uc.rules.checkout
    if refunded_before + amount > checkout.refund_limit_fen:
        return True
    if checkout.shift_refund_limit_fen:
        in_shift = -(
            uc.session.scalar(
                select(func.coalesce(func.sum(Sale.total_fen), 0)).where(
                    Sale.shift_id == shift_id,
                    Sale.kind == "refund",
                    Sale.operator_id == actor.operator_id,
                )
            )
            or 0
        )
        if in_shift + amount > checkout.shift_refund_limit_fen:
            return True
    return False


def _give_back_uses(
    uc: UseCase, purchase_id: str, returns: list[_Return], refund_no: str, related: str
) -> int:
    """Returned service lines that a count card paid give their uses back first; returns the
    value given back to the cards."""
    s = uc.session
    uses = pass_svc.recorded_uses(s, purchase_id)
    value = 0
    for r in returns:
        want = r.qty
        for use in uses:
            take = min(want, use.outstanding_qty)
            if use.line_no != r.line.line_no or take <= 0:
                continue
            entry_id = pass_svc.reverse_use_in_tx(uc, use.entry_id, take, refund_no, related)
            entry = s.get(LedgerEntry, entry_id)
            assert entry is not None
            value += entry.amount_fen
            want -= take
    return value


def _stored_value_back(
    uc: UseCase, payment_id: str | None, amount: int, refund_no: str
) -> tuple[str, str]:
    """Return stored value to the buckets the payment took it from, in proportion, on the
    card that holds the member's money now (the replacement, if the card was replaced)."""
    s = uc.session
    payment = s.get(LedgerEntry, payment_id) if payment_id else None
    assert payment is not None and payment.kind == EntryKind.SV_PAYMENT
    before = (
        s.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
                LedgerEntry.related_entry_id == payment.entry_id,
                LedgerEntry.kind == EntryKind.SV_PAYMENT_REFUNDED,
            )
        )
        or 0
    )
    principal = cumulative_share(
        -payment.principal_delta, payment.amount_fen, before, before + amount
    )
    bonus = amount - principal
    assert payment.card_id is not None
    card = holder_card(s, payment.card_id)
    check_can_pay(mask_card_no(card.card_no), CardState(card.state))
    uc.ledger.append(
        EntryKind.SV_PAYMENT_REFUNDED,
        member_id=payment.member_id,
        card_id=card.id,
        principal_delta=principal,
        bonus_delta=bonus,
        amount_fen=amount,
        related_entry_id=payment.entry_id,
        payload={"receipt_no": refund_no},
    )
    card.principal_fen += principal
    card.bonus_fen += bonus
    return (
        f"退回本金 {format_fen(principal)} 赠送 {format_fen(bonus)}",
        f"back to principal {format_fen(principal)} bonus {format_fen(bonus)}",
    )


def _points_back(
    uc: UseCase, member: Member, points_entry_id: str | None, amount: int, refund_no: str
) -> tuple[str, str]:
    """Points the sale took as a tender come back, in proportion, as a new lot."""
    s = uc.session
    taken = s.get(LedgerEntry, points_entry_id) if points_entry_id else None
    assert taken is not None
    paid = int(_payload(taken)["amount_fen"])
    before = sum(
        int(_payload(e).get("amount_fen", 0))
        for e in s.scalars(
            select(LedgerEntry).where(
                LedgerEntry.related_entry_id == taken.entry_id,
                LedgerEntry.kind == EntryKind.POINTS_RETURNED,
            )
        )
    )
    points = cumulative_share(-taken.points_delta, paid, before, before + amount)
    if points > 0:
        add_lot(
            uc,
            member,
            EntryKind.POINTS_RETURNED,
            points,
            related_entry_id=taken.entry_id,
            extra={"receipt_no": refund_no, "amount_fen": amount},
        )
    return (f"退回 {points} 积分", f"{points} points back")


def _take_back_earned(
    uc: UseCase,
    member: Member,
    purchase: LedgerEntry,
    refunded_before: int,
    amount: int,
    related: str,
) -> int:
    """Points the sale earned are taken back in proportion to what is refunded."""
    s = uc.session
    earned = s.scalars(
        select(LedgerEntry).where(
            LedgerEntry.related_entry_id == purchase.entry_id,
            LedgerEntry.kind == EntryKind.POINTS_EARNED,
            LedgerEntry.member_id == member.id,
        )
    ).first()
    if earned is None or earned.points_delta <= 0:
        return 0
    points = cumulative_share(
        earned.points_delta, purchase.amount_fen, refunded_before, refunded_before + amount
    )
    if points > 0:
        reverse_points(uc, member, points, earned.entry_id, related)
    return points


def _revoke_cards(
    uc: UseCase, purchase_id: str, returns: list[_Return], refund_no: str, related: str
) -> None:
    """Service cards sold on the sale and now returned are revoked (refused if used)."""
    granted = [p for p in pass_svc.granted_passes(uc.session, purchase_id) if p.state == "active"]
    for r in returns:
        mine = [p for p in granted if p.product_sku == r.line.sku][: r.qty]
        for card in mine:
            pass_svc.revoke_pass_in_tx(uc, card.id, refund_no, related)
            granted.remove(card)


def exchange(
    ctx: StoreContext,
    actor: Actor,
    receipt_no: str,
    returns: tuple[LineRequest, ...],
    request: SaleRequest,
    approval: Approval | None = None,
) -> tuple[SaleResult, SaleResult]:
    """换货: return some lines of a receipt and sell their replacements in one transaction —
    both happen or neither. Returns (the new sale, the return)."""
    # The chain's card spend of the new sale is authorized first, off the write lock.
    spend = authorize_spend(ctx, actor, request)
    try:
        with use_case(ctx, actor, Permission.SALE_REFUND, approval, target=receipt_no) as uc:
            authorize(uc.session, actor, Permission.SALE)
            # The new sale first: a wrong PIN then commits only its failed try, nothing
            # returned.
            sold = sell_in_tx(uc, actor, request, spend=spend)
            if sold is not None:
                return sold, _refund_in_tx(uc, actor, receipt_no, returns, approval)
    except BaseException:
        release_spend(ctx, spend)
        raise
    raise AssertionError("unreachable: use_case raises the wrong PIN after committing it")
