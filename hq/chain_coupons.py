"""Coupon templates of the chain (`pos-hq coupon-template add|list|deactivate`): described
and checked as a till's (pos_app.domain.coupons), published to every till through the feed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from uuid6 import uuid7

from hq.admin import iso
from hq.errors import HqError, HqInvalidInput
from hq.feed_changes import Change, record_changes
from hq.models import ChainCouponTemplate, ChainProduct, HqAudit
from pos_app.domain.coupons import TemplateSpec, normalize_template_code, validate_template
from pos_app.domain.errors import InvalidInput


def template_data(spec: TemplateSpec) -> dict[str, Any]:
    """The till's coupon_template columns for `spec` (scopes as lists, dates ISO)."""
    return {
        "code": spec.code,
        "name": spec.name,
        "kind": spec.kind,
        "threshold_fen": spec.threshold_fen,
        "amount_off_fen": spec.amount_off_fen,
        "percent_off": spec.percent_off,
        "cap_fen": spec.cap_fen,
        "scope_categories": list(spec.categories),
        "scope_skus": list(spec.skus),
        "gift_sku": spec.gift_sku,
        "valid_from": spec.valid_from.isoformat() if spec.valid_from else None,
        "valid_to": spec.valid_to.isoformat() if spec.valid_to else None,
        "valid_days": spec.valid_days,
        "per_member_limit": spec.per_member_limit,
        "stacks_with_tier": spec.stacks_with_tier,
        "stacks_with_coupons": spec.stacks_with_coupons,
        "restore_on_refund": spec.restore_on_refund,
        "points_cost": spec.points_cost,
    }


def _audit(session: Session, at: str, action: str, code: str) -> None:
    session.add(HqAudit(at=at, actor=None, action=action, outcome="ok", target=code, detail=None))


def add_coupon_template(session: Session, spec: TemplateSpec, now: datetime) -> ChainCouponTemplate:
    """A new template of the chain: checked as a till checks it; a gift or exchange product
    must be in the chain catalogue."""
    try:
        spec = validate_template(spec)
    except InvalidInput as exc:
        raise HqInvalidInput(exc.zh, exc.en) from None
    if spec.gift_sku is not None:
        gift = spec.gift_sku.strip().upper()
        if session.scalar(select(ChainProduct.id).where(ChainProduct.sku == gift)) is None:
            raise HqError(
                "not_found",
                f"连锁商品目录中没有 {spec.gift_sku}",
                f"No product {spec.gift_sku} in the chain catalogue",
            )
        spec = replace(spec, gift_sku=gift)
    if session.scalar(select(ChainCouponTemplate.id).where(ChainCouponTemplate.code == spec.code)):
        raise HqError(
            "already_exists",
            f"券模板编码已存在：{spec.code}",
            f"A coupon template {spec.code} already exists",
        )
    at = iso(now)
    row = ChainCouponTemplate(
        id=str(uuid7()), code=spec.code, data=template_data(spec), active=True, updated_at=at
    )
    session.add(row)
    session.flush()
    record_changes(session, [Change("coupon_template", row.id)], at)
    _audit(session, at, "coupon_template.add", row.code)
    return row


def deactivate_coupon_template(session: Session, code: str, now: datetime) -> ChainCouponTemplate:
    """No more coupons are issued from the template at any till (those issued stay valid)."""
    row = session.scalar(
        select(ChainCouponTemplate).where(ChainCouponTemplate.code == normalize_template_code(code))
    )
    if row is None:
        raise HqError("not_found", f"没有这个券模板：{code}", f"No coupon template {code}")
    if not row.active:
        raise HqError(
            "already_inactive", f"券模板 {row.code} 已停用", f"Template {row.code} is inactive"
        )
    at = iso(now)
    row.active = False
    row.updated_at = at
    record_changes(session, [Change("coupon_template", row.id)], at)
    _audit(session, at, "coupon_template.deactivate", row.code)
    return row


def list_coupon_templates(session: Session) -> list[dict[str, Any]]:
    return [
        {**t.data, "active": t.active}
        for t in session.scalars(select(ChainCouponTemplate).order_by(ChainCouponTemplate.code))
    ]
