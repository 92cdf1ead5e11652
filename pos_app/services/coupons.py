"""Coupons (电子优惠券): templates, issuing (by hand, on registration, as a top-up bonus, for
points, in batches for partner merchants), the member's wallet, voiding, and the helpers
checkout calls inside its own transaction to look a coupon up, redeem it and restore it.

A coupon row is a projection of its entries (coupon_issued, coupon_redeemed,
coupon_restored, coupon_voided); its id is the id of the coupon_issued entry. "Used once,
ever" holds because redemption re-reads the row inside the write transaction (BEGIN
IMMEDIATE), so a second till's redemption waits and then sees the coupon used.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from random import Random

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.ledger import new_id
from db.models import Coupon, CouponTemplate, LedgerEntry, Member, Product
from pos_app.domain.control_chars import refuse_control_chars
from pos_app.domain.coupons import (
    MAX_BATCH,
    SOURCES,
    CouponState,
    CouponTerms,
    TemplateSpec,
    check_issuable,
    check_usable,
    describe,
    new_code,
    normalize_code,
    normalize_template_code,
    replay,
    topup_coupons,
    usable_on,
    validate_template,
    validity_window,
)
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AlreadyExists, InvalidInput, LimitExceeded, NotFound
from pos_app.domain.permissions import Permission
from pos_app.domain.points import allocate_for_redemption
from pos_app.services.audit import record
from pos_app.services.auth import Actor, Approval, authorize
from pos_app.services.context import StoreContext
from pos_app.services.lookup import card_by_no, member_by_no, member_of_card
from pos_app.services.member_tender_lock import refuse_if_locked
from pos_app.services.points_book import as_domain, expire_due, member_lots, take_points
from pos_app.services.use_case import UseCase, use_case

log = logging.getLogger(__name__)

MAX_MANUAL_ISSUE = 100  # by hand, per member at a time; more is a batch or a campaign
_SQL_CHUNK = 900  # SQLite caps bound parameters per statement
_RNG: Random = secrets.SystemRandom()


# -- Views -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateView:
    code: str
    name: str
    kind: str
    value_zh: str
    value_en: str
    threshold_fen: int
    amount_off_fen: int
    percent_off: int
    cap_fen: int
    categories: tuple[str, ...]
    skus: tuple[str, ...]
    gift_sku: str | None
    valid_from: str | None
    valid_to: str | None
    valid_days: int | None
    per_member_limit: int
    stacks_with_tier: bool
    stacks_with_coupons: bool
    restore_on_refund: bool
    points_cost: int
    active: bool


@dataclass(frozen=True)
class CouponView:
    """One coupon as the wallet shows it."""

    code: str
    template_code: str
    name: str
    kind: str
    value_zh: str
    value_en: str
    valid_from: str
    valid_to: str
    state: str
    usable_today: bool
    member_no: str | None
    source: str
    issued_at: str
    used_receipt_no: str | None


@dataclass(frozen=True)
class ExchangeResult:
    coupon: CouponView
    points_spent: int
    points_balance: int
    points_entry_id: str


def _list(text: str) -> tuple[str, ...]:
    return tuple(str(x) for x in json.loads(text or "[]"))


def _gift_name(s: Session, sku: str | None) -> str | None:
    if sku is None:
        return None
    product = s.scalars(select(Product).where(Product.sku == sku)).first()
    return product.name if product else sku


def _value(s: Session, t: CouponTemplate) -> tuple[str, str]:
    return describe(
        t.kind,
        t.threshold_fen,
        t.amount_off_fen,
        t.percent_off,
        t.cap_fen,
        _gift_name(s, t.gift_sku),
        _list(t.scope_categories),
        _list(t.scope_skus),
    )


def _template_view(s: Session, t: CouponTemplate) -> TemplateView:
    zh, en = _value(s, t)
    return TemplateView(
        code=t.code,
        name=t.name,
        kind=t.kind,
        value_zh=zh,
        value_en=en,
        threshold_fen=t.threshold_fen,
        amount_off_fen=t.amount_off_fen,
        percent_off=t.percent_off,
        cap_fen=t.cap_fen,
        categories=_list(t.scope_categories),
        skus=_list(t.scope_skus),
        gift_sku=t.gift_sku,
        valid_from=t.valid_from,
        valid_to=t.valid_to,
        valid_days=t.valid_days,
        per_member_limit=t.per_member_limit,
        stacks_with_tier=t.stacks_with_tier,
        stacks_with_coupons=t.stacks_with_coupons,
        restore_on_refund=t.restore_on_refund,
        points_cost=t.points_cost,
        active=t.active,
    )


def _coupon_view(s: Session, c: Coupon, t: CouponTemplate, today: date) -> CouponView:
    zh, en = _value(s, t)
    member = s.get(Member, c.member_id) if c.member_id else None
    return CouponView(
        code=c.code,
        template_code=t.code,
        name=t.name,
        kind=t.kind,
        value_zh=zh,
        value_en=en,
        valid_from=c.valid_from,
        valid_to=c.valid_to,
        state=c.state,
        usable_today=usable_on(
            c.state, date.fromisoformat(c.valid_from), date.fromisoformat(c.valid_to), today
        ),
        member_no=member.member_no if member else None,
        source=c.source,
        issued_at=c.issued_at,
        used_receipt_no=c.used_receipt_no,
    )


def _spec(t: CouponTemplate) -> TemplateSpec:
    return TemplateSpec(
        code=t.code,
        name=t.name,
        kind=t.kind,
        threshold_fen=t.threshold_fen,
        amount_off_fen=t.amount_off_fen,
        percent_off=t.percent_off,
        cap_fen=t.cap_fen,
        categories=_list(t.scope_categories),
        skus=_list(t.scope_skus),
        gift_sku=t.gift_sku,
        valid_from=date.fromisoformat(t.valid_from) if t.valid_from else None,
        valid_to=date.fromisoformat(t.valid_to) if t.valid_to else None,
        valid_days=t.valid_days,
        per_member_limit=t.per_member_limit,
        stacks_with_tier=t.stacks_with_tier,
        stacks_with_coupons=t.stacks_with_coupons,
        restore_on_refund=t.restore_on_refund,
        points_cost=t.points_cost,
    )


# -- Templates ---------------------------------------------------------------------------------


def find_template(s: Session, code: str) -> CouponTemplate | None:
    return s.scalars(
        select(CouponTemplate).where(CouponTemplate.code == normalize_template_code(code))
    ).first()


def template_by_code(s: Session, code: str) -> CouponTemplate:
    template = find_template(s, code)
    if template is None:
        raise NotFound(f"没有这个券模板：{code}", f"No coupon template {code}")
    return template


def add_template(ctx: StoreContext, actor: Actor, spec: TemplateSpec) -> TemplateView:
    """Define a coupon template (managers). Master data, so audited rather than a ledger entry:
    coupons issued from it are the ledger's business."""
    spec = validate_template(spec)
    with use_case(ctx, actor, Permission.COUPON_TEMPLATE, target=spec.code) as uc:
        s = uc.session
        if find_template(s, spec.code) is not None:
            raise AlreadyExists(
                f"券模板编码已存在：{spec.code}", f"A coupon template {spec.code} already exists"
            )
        if spec.gift_sku is not None and (
            s.scalar(select(Product.id).where(Product.sku == spec.gift_sku)) is None
        ):
            raise NotFound(f"没有这个商品：{spec.gift_sku}", f"No product with SKU {spec.gift_sku}")
        template = CouponTemplate(
            id=new_id(),
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            threshold_fen=spec.threshold_fen,
            amount_off_fen=spec.amount_off_fen,
            percent_off=spec.percent_off,
            cap_fen=spec.cap_fen,
            scope_categories=json.dumps(list(spec.categories), ensure_ascii=False),
            scope_skus=json.dumps(list(spec.skus), ensure_ascii=False),
            gift_sku=spec.gift_sku,
            valid_from=spec.valid_from.isoformat() if spec.valid_from else None,
            valid_to=spec.valid_to.isoformat() if spec.valid_to else None,
            valid_days=spec.valid_days,
            per_member_limit=spec.per_member_limit,
            stacks_with_tier=spec.stacks_with_tier,
            stacks_with_coupons=spec.stacks_with_coupons,
            restore_on_refund=spec.restore_on_refund,
            points_cost=spec.points_cost,
            active=True,
            created_at=uc.now_iso,
        )
        s.add(template)
        record(s, uc.now_iso, actor.operator_id, "coupon.template", target=spec.code)
        return _template_view(s, template)


def list_templates(ctx: StoreContext, actor: Actor) -> list[TemplateView]:
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.MEMBER_VIEW)
        rows = s.scalars(select(CouponTemplate).order_by(CouponTemplate.code))
        return [_template_view(s, t) for t in rows]


# -- Issuing -----------------------------------------------------------------------------------


def _fresh_codes(s: Session, count: int, rng: Random) -> list[str]:
    """`count` codes not in use: drawn at random, redrawn on the rare collision."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = [new_code(rng) for _ in range(count - len(codes))]
        candidates = {c for c in wanted if c not in codes}
        taken: set[str] = set()
        pending = list(candidates)
        for i in range(0, len(pending), _SQL_CHUNK):
            chunk = pending[i : i + _SQL_CHUNK]
            taken.update(s.scalars(select(Coupon.code).where(Coupon.code.in_(chunk))))
        codes |= candidates - taken
    return list(codes)


def _check_can_issue(
    s: Session, template: CouponTemplate, member: Member | None, count: int
) -> None:
    if not template.active:
        raise InvalidInput(
            f"券模板 {template.code} 已停用", f"Coupon template {template.code} is not active"
        )
    if count < 1:
        raise InvalidInput("发放数量必须大于零", "The number of coupons must be above zero")
    limit = template.per_member_limit
    if member is not None and limit > 0:
        held = (
            s.scalar(
                select(func.count())
                .select_from(Coupon)
                .where(Coupon.template_id == template.id, Coupon.member_id == member.id)
            )
            or 0
        )
        if held + count > limit:
            raise LimitExceeded(
                f"「{template.name}」每位会员最多 {limit} 张，已发 {held} 张",
                f"{template.name}: at most {limit} per member, {held} already issued",
                code="coupon_limit",
            )


def issue_in_tx(
    uc: UseCase,
    template: CouponTemplate,
    member: Member | None,
    count: int,
    source: str,
    batch_label: str | None = None,
    *,
    related_entry_id: str | None = None,
) -> list[Coupon]:
    """Issue `count` coupons of a template inside the caller's transaction: one coupon_issued
    entry each. Every check comes before the first write, so a refusal leaves nothing."""
    if source not in SOURCES:
        raise InvalidInput(f"发券来源不正确：{source}", f"Not a coupon source: {source}")
    s = uc.session
    _check_can_issue(s, template, member, count)
    today = uc.ctx.business_day()
    valid_from, valid_to = validity_window(_spec(template), today)
    check_issuable(valid_to, today, template.code)
    out = []
    for code in _fresh_codes(s, count, _RNG):
        coupon_id = new_id()
        payload: dict[str, object] = {
            "coupon_id": coupon_id,
            "code": code,
            "template": template.code,
            "source": source,
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat(),
        }
        if batch_label:
            payload["batch_label"] = batch_label
        uc.ledger.append(
            EntryKind.COUPON_ISSUED,
            member_id=member.id if member else None,
            related_entry_id=related_entry_id,
            payload=payload,
            entry_id=coupon_id,
        )
        coupon = Coupon(
            id=coupon_id,
            code=code,
            template_id=template.id,
            member_id=member.id if member else None,
            source=source,
            batch_label=batch_label,
            valid_from=valid_from.isoformat(),
            valid_to=valid_to.isoformat(),
            issued_at=uc.now_iso,
            state=CouponState.ISSUED.value,
        )
        s.add(coupon)
        out.append(coupon)
    s.flush()
    return out


def _issue_quietly(
    uc: UseCase, template_code: str, member: Member, count: int, source: str, why: str
) -> list[str]:
    """Coupons a rule promises (registration, top-up bonus): a configuration mistake (missing
    or inactive template, limit reached) is logged and must not block the member's business."""
    template = find_template(uc.session, template_code)
    if template is None:
        log.warning("%s coupon template %s does not exist; no coupon given", why, template_code)
        return []
    try:
        coupons = issue_in_tx(uc, template, member, count, source)
    except (InvalidInput, LimitExceeded) as exc:
        log.warning("%s coupon %s not given: %s", why, template_code, exc.en)
        return []
    return [c.code for c in coupons]


def issue_on_registration(uc: UseCase, member: Member) -> list[str]:
    """新人券: the rules' registration coupon for a member just registered (same transaction)."""
    code = uc.rules.checkout.registration_coupon
    if not code:
        return []
    return _issue_quietly(uc, code, member, 1, "registration", "registration")


def issue_for_topup(uc: UseCase, member: Member, amount_fen: int) -> tuple[str, ...]:
    """The coupons of the highest top-up bonus tier reached (same transaction)."""
    grant = topup_coupons(uc.rules.stored_value.bonus, amount_fen)
    if grant is None:
        return ()
    template_code, count = grant
    return tuple(_issue_quietly(uc, template_code, member, count, "topup", "top-up bonus"))


def issue_coupons(
    ctx: StoreContext,
    actor: Actor,
    template_code: str,
    member_no: str,
    count: int = 1,
    approval: Approval | None = None,
) -> list[CouponView]:
    """Give a member coupons by hand."""
    if not 1 <= count <= MAX_MANUAL_ISSUE:
        raise InvalidInput(
            f"一次发放 1 到 {MAX_MANUAL_ISSUE} 张", f"Issue 1 to {MAX_MANUAL_ISSUE} at a time"
        )
    with use_case(ctx, actor, Permission.COUPON_ISSUE, approval, target=member_no) as uc:
        s = uc.session
        template = template_by_code(s, template_code)
        member = member_by_no(s, member_no)
        coupons = issue_in_tx(uc, template, member, count, "manual")
        today = ctx.business_day()
        return [_coupon_view(s, c, template, today) for c in coupons]


def exchange_points_for_coupon(
    ctx: StoreContext,
    actor: Actor,
    template_code: str,
    member_no: str | None = None,
    card_no: str | None = None,
) -> ExchangeResult:
    """积分兑券: the template's points cost, oldest lots first, for one coupon (6666 → ¥111)."""
    if bool(member_no) == bool(card_no):
        raise InvalidInput("请给出会员号或卡号（二选一）", "Give a member number or a card number")
    with use_case(ctx, actor, Permission.POINTS_REDEEM, target=template_code) as uc:
        s = uc.session
        template = template_by_code(s, template_code)
        if template.points_cost <= 0:
            raise InvalidInput(
                f"「{template.name}」不能用积分兑换", f"{template.name} cannot be had for points"
            )
        card = card_by_no(s, card_no) if card_no else None
        member = member_of_card(s, card) if card else member_by_no(s, member_no or "")
        # Points are the member's value: a card locked by wrong PINs spends none of them.
        refuse_if_locked(s, member, card)
        _check_can_issue(s, template, member, 1)
        expire_due(uc, member)
        allocations = allocate_for_redemption(
            as_domain(member_lots(uc, member.id)), member.points_debt, template.points_cost
        )
        entry_id = take_points(
            uc,
            member,
            EntryKind.POINTS_REDEEMED,
            allocations,
            extra={"reason": "兑换优惠券 coupon", "coupon_template": template.code},
        )
        (coupon,) = issue_in_tx(uc, template, member, 1, "points", related_entry_id=entry_id)
        return ExchangeResult(
            coupon=_coupon_view(s, coupon, template, ctx.business_day()),
            points_spent=template.points_cost,
            points_balance=member.points_balance,
            points_entry_id=entry_id,
        )


@dataclass(frozen=True)
class BatchResult:
    template_code: str
    label: str
    valid_from: str
    valid_to: str
    codes: tuple[str, ...]


def make_batch(
    ctx: StoreContext, actor: Actor, template_code: str, count: int, label: str
) -> BatchResult:
    """异业联盟: a batch of member-less codes for a partner merchant to hand out. One entry per
    coupon, written in bulk (10,000 rows through the ORM one by one would take seconds)."""
    label = refuse_control_chars(label.strip(), "批次名称", "batch label")
    if not label or len(label) > 80:
        raise InvalidInput("请给批次起个名字（最多 80 字）", "Give the batch a label (up to 80)")
    if not 1 <= count <= MAX_BATCH:
        raise InvalidInput(f"每批 1 到 {MAX_BATCH} 张", f"A batch holds 1 to {MAX_BATCH} coupons")
    with use_case(ctx, actor, Permission.COUPON_BATCH, target=label) as uc:
        s = uc.session
        template = template_by_code(s, template_code)
        _check_can_issue(s, template, None, count)
        today = ctx.business_day()
        valid_from, valid_to = validity_window(_spec(template), today)
        check_issuable(valid_to, today, template.code)
        codes = _fresh_codes(s, count, _RNG)
        ids = [new_id() for _ in codes]
        window = {"valid_from": valid_from.isoformat(), "valid_to": valid_to.isoformat()}
        entries = uc.ledger.append_rows(
            [
                {
                    "kind": EntryKind.COUPON_ISSUED.value,
                    "entry_id": coupon_id,
                    "payload": {
                        "coupon_id": coupon_id,
                        "code": code,
                        "template": template.code,
                        "source": "batch",
                        "batch_label": label,
                        **window,
                    },
                }
                for coupon_id, code in zip(ids, codes, strict=True)
            ]
        )
        s.flush()  # anything pending goes before the bulk rows
        s.execute(insert(LedgerEntry), entries)
        s.execute(
            insert(Coupon),
            [
                {
                    "id": coupon_id,
                    "code": code,
                    "template_id": template.id,
                    "member_id": None,
                    "source": "batch",
                    "batch_label": label,
                    **window,
                    "issued_at": uc.now_iso,
                    "state": CouponState.ISSUED.value,
                    "used_at": None,
                    "used_receipt_no": None,
                }
                for coupon_id, code in zip(ids, codes, strict=True)
            ],
        )
        return BatchResult(
            template.code, label, window["valid_from"], window["valid_to"], tuple(codes)
        )


def void_coupon(ctx: StoreContext, actor: Actor, code: str, reason: str) -> CouponView:
    """作废: an unused coupon can no longer be used (a mistake, a leaked batch code)."""
    reason = refuse_control_chars(reason.strip(), "作废原因", "reason")
    if not reason:
        raise InvalidInput("请填写作废原因", "Give a reason for voiding the coupon")
    number = normalize_code(code)
    with use_case(ctx, actor, Permission.COUPON_VOID, target=number) as uc:
        s = uc.session
        coupon = _coupon_by_code(s, number)
        if coupon.state == CouponState.USED:
            raise InvalidInput(
                f"这张券已经用过了（小票 {coupon.used_receipt_no}），不能作废",
                f"This coupon has already been used (receipt {coupon.used_receipt_no}); "
                "it cannot be voided",
                code="coupon_used",
            )
        if coupon.state == CouponState.VOID:
            raise InvalidInput("这张券已作废", "This coupon has been voided", code="coupon_void")
        uc.ledger.append(
            EntryKind.COUPON_VOIDED,
            member_id=coupon.member_id,
            payload={"coupon_id": coupon.id, "code": coupon.code, "reason": reason},
        )
        coupon.state = CouponState.VOID.value
        template = s.get(CouponTemplate, coupon.template_id)
        assert template is not None
        return _coupon_view(s, coupon, template, ctx.business_day())


def member_coupons(
    ctx: StoreContext, actor: Actor, member_no: str, include_used: bool = False
) -> list[CouponView]:
    """The member's wallet: unused coupons (with whether each is usable today), soonest to
    expire first; `include_used` adds used and voided ones."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.MEMBER_VIEW)
        member = member_by_no(s, member_no)
        q = select(Coupon, CouponTemplate).join(
            CouponTemplate, CouponTemplate.id == Coupon.template_id
        )
        q = q.where(Coupon.member_id == member.id)
        if not include_used:
            q = q.where(Coupon.state == CouponState.ISSUED.value)
        q = q.order_by(Coupon.valid_to, Coupon.issued_at, Coupon.code)
        today = ctx.business_day()
        return [_coupon_view(s, c, t, today) for c, t in s.execute(q).tuples()]


# -- At the till: inside checkout's transaction ----------------------------------------------


def _coupon_by_code(s: Session, code: str) -> Coupon:
    number = normalize_code(code)
    coupon = s.scalars(select(Coupon).where(Coupon.code == number)).first() if number else None
    if coupon is None:
        raise NotFound(f"没有这张券：{code.strip()}", f"No such coupon: {code.strip()}")
    return coupon


def _check(coupon: Coupon, today: date, member_id: str | None) -> None:
    check_usable(
        coupon.state,
        date.fromisoformat(coupon.valid_from),
        date.fromisoformat(coupon.valid_to),
        today,
        coupon.member_id,
        member_id,
        used_receipt_no=coupon.used_receipt_no,
    )


def terms_for_sale(session: Session, code: str, member_id: str | None, today: date) -> CouponTerms:
    """The terms of a coupon presented at a sale (scanned or picked from the wallet), refused
    if it cannot be used by this member today."""
    coupon = _coupon_by_code(session, code)
    _check(coupon, today, member_id)
    t = session.get(CouponTemplate, coupon.template_id)
    assert t is not None
    return CouponTerms(
        coupon_id=coupon.id,
        code=coupon.code,
        template_code=t.code,
        name=t.name,
        kind=t.kind,
        threshold_fen=t.threshold_fen,
        amount_off_fen=t.amount_off_fen,
        percent_off=t.percent_off,
        cap_fen=t.cap_fen,
        categories=_list(t.scope_categories),
        skus=_list(t.scope_skus),
        gift_sku=t.gift_sku,
        stacks_with_tier=t.stacks_with_tier,
        stacks_with_coupons=t.stacks_with_coupons,
        restore_on_refund=t.restore_on_refund,
        valid_to=coupon.valid_to,
    )


def redeem_in_tx(
    uc: UseCase,
    terms: CouponTerms,
    member_id: str | None,
    discount_fen: int,
    receipt_no: str,
    related_entry_id: str | None,
    *,
    marks: dict[str, object] | None = None,
) -> str:
    """Use a coupon on a sale, inside the sale's write transaction: the row is read again
    here, under the write lock, so a coupon used meanwhile (another till, the same cart
    twice) is refused. Returns the coupon_redeemed entry id. `marks`: the chain's say on
    it (HQ's hold id, or a stand-in), kept in the entry."""
    if discount_fen < 0:
        raise InvalidInput("优惠金额不能为负", "A coupon discount cannot be negative")
    s = uc.session
    s.flush()
    coupon = s.get(Coupon, terms.coupon_id, populate_existing=True)
    if coupon is None or coupon.code != terms.code:
        raise NotFound(f"没有这张券：{terms.code}", f"No such coupon: {terms.code}")
    _check(coupon, uc.ctx.business_day(), member_id)
    entry = uc.ledger.append(
        EntryKind.COUPON_REDEEMED,
        member_id=member_id,
        amount_fen=discount_fen,
        related_entry_id=related_entry_id,
        payload={
            "coupon_id": coupon.id,
            "code": coupon.code,
            "receipt_no": receipt_no,
            **(marks or {}),
        },
    )
    coupon.state = CouponState.USED.value
    coupon.used_at = uc.now_iso
    coupon.used_receipt_no = receipt_no
    s.flush()
    return entry.entry_id


def restore_in_tx(
    uc: UseCase, coupon_id: str, receipt_no: str, related_entry_id: str | None
) -> bool:
    """A refund gives a used coupon back, if its template says so. `receipt_no` is the
    refund's. Returns whether the coupon was restored."""
    s = uc.session
    s.flush()
    coupon = s.get(Coupon, coupon_id, populate_existing=True)
    if coupon is None or coupon.state != CouponState.USED:
        return False
    template = s.get(CouponTemplate, coupon.template_id)
    assert template is not None
    if not template.restore_on_refund:
        return False
    uc.ledger.append(
        EntryKind.COUPON_RESTORED,
        member_id=coupon.member_id,
        related_entry_id=related_entry_id,
        payload={
            "coupon_id": coupon.id,
            "code": coupon.code,
            "receipt_no": receipt_no,
            "used_receipt_no": coupon.used_receipt_no,
        },
    )
    coupon.state = CouponState.ISSUED.value
    coupon.used_at = None
    coupon.used_receipt_no = None
    s.flush()
    return True


# -- Verify ------------------------------------------------------------------------------------

_COUPON_KINDS = (
    EntryKind.COUPON_ISSUED,
    EntryKind.COUPON_REDEEMED,
    EntryKind.COUPON_RESTORED,
    EntryKind.COUPON_VOIDED,
    EntryKind.COUPON_SYNCED,
)
# A `coupon_synced` mirror (another store's coupon) replays as the kinds it stands for: the
# first as the coupon's issue, and a chain state it moves to as a use or a void elsewhere.
_SYNCED_AS = {"used": EntryKind.COUPON_REDEEMED, "void": EntryKind.COUPON_VOIDED}


@dataclass
class _Replayed:
    kinds: list[str]
    issue: dict[str, object] | None = None
    issue_member_id: str | None = None
    last_receipt: str | None = None


def verify_coupons(session: Session) -> list[tuple[str, str]]:
    """Replay every coupon's entries and compare with the coupon rows: (where, message) for
    each mismatch. Read-only."""
    problems: list[tuple[str, str]] = []
    replayed: dict[str, _Replayed] = defaultdict(lambda: _Replayed([]))
    rows = session.execute(
        select(LedgerEntry.entry_id, LedgerEntry.kind, LedgerEntry.member_id, LedgerEntry.payload)
        .where(LedgerEntry.kind.in_([k.value for k in _COUPON_KINDS]))
        .order_by(LedgerEntry.store_id, LedgerEntry.store_seq)
        .execution_options(yield_per=5000)
    )
    for entry_id, kind, member_id, payload_text in rows:
        payload = json.loads(payload_text) if payload_text else {}
        coupon_id = str(payload.get("coupon_id") or "")
        if not coupon_id:
            problems.append((f"entry {entry_id}", f"{kind} names no coupon"))
            continue
        r = replayed[coupon_id]
        if kind == EntryKind.COUPON_SYNCED:
            if not r.kinds:
                r.kinds.append(EntryKind.COUPON_ISSUED)
                r.issue, r.issue_member_id = payload, member_id
            synced_as = _SYNCED_AS.get(str(payload.get("state")))
            if synced_as is not None:
                r.kinds.append(synced_as)
                r.last_receipt = payload.get("used_receipt_no")
            continue
        r.kinds.append(kind)
        if kind == EntryKind.COUPON_ISSUED and r.issue is None:
            if coupon_id != entry_id:
                problems.append((f"entry {entry_id}", "coupon_issued names another coupon"))
            r.issue, r.issue_member_id = payload, member_id
        elif kind == EntryKind.COUPON_REDEEMED:
            r.last_receipt = payload.get("receipt_no")
        elif kind == EntryKind.COUPON_RESTORED:
            r.last_receipt = None
    templates = {
        template_id: code
        for template_id, code in session.execute(select(CouponTemplate.id, CouponTemplate.code))
    }
    seen: set[str] = set()
    for c in session.execute(select(Coupon).execution_options(yield_per=5000)).scalars():
        seen.add(c.id)
        where = f"coupon {c.code}"
        found = replayed.get(c.id)
        if found is None:
            problems.append((where, "no ledger entry issued this coupon"))
            continue
        r = found
        state, wrong = replay(r.kinds)
        problems.extend((where, w) for w in wrong)
        if c.state != state:
            problems.append((where, f"state is {c.state} but the ledger says {state}"))
        if r.issue is not None:
            checks = (
                ("code", c.code, r.issue.get("code")),
                ("template", templates.get(c.template_id), r.issue.get("template")),
                ("member", c.member_id, r.issue_member_id),
                ("valid_from", c.valid_from, r.issue.get("valid_from")),
                ("valid_to", c.valid_to, r.issue.get("valid_to")),
            )
            for name, stored, recorded in checks:
                if stored != recorded:
                    problems.append((where, f"{name} is {stored} but the ledger says {recorded}"))
        if state == CouponState.USED and c.used_receipt_no != r.last_receipt:
            problems.append(
                (
                    where,
                    f"used on receipt {c.used_receipt_no} but the ledger says {r.last_receipt}",
                )
            )
    for coupon_id in replayed.keys() - seen:
        problems.append((f"coupon {coupon_id}", "entries for a coupon that has no row"))
    return problems
