"""Publishing the chain's rules (`pos-hq rules publish`): the same TOML as a till's rules
file, checked as strictly as `pos-app rules load` checks it, stored as a new `chain_rules`
version that every till loads as its rules at its next pull."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hq.admin import iso
from hq.errors import HqInvalidInput
from hq.feed_changes import Change, record_changes
from hq.models import ChainCouponTemplate, ChainProduct, ChainRules, HqAudit
from pos_app.domain.errors import RulesError
from pos_app.domain.rules import Rules, parse_rules

# One feed key for the rules: a till only ever needs the version in force.
RULES_KEY = "chain"


def publish_rules(
    session: Session,
    text: str,
    now: datetime,
    *,
    allow_local_promotions: bool = True,
    published_by: str = "cli",
) -> ChainRules:
    """Make `text` the chain's rules, as a new version. A file that does not parse, or that
    names products or coupon templates the chain does not have, is refused with the reason."""
    try:
        rules = parse_rules(text)
    except RulesError as exc:
        raise HqInvalidInput(exc.zh, exc.en) from None
    _check_against_chain(session, rules)
    version = (session.scalar(select(func.max(ChainRules.version))) or 0) + 1
    at = iso(now)
    row = ChainRules(
        version=version,
        label=rules.label,
        source_text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        allow_local_promotions=allow_local_promotions,
        published_at=at,
        published_by=published_by,
    )
    session.add(row)
    session.flush()
    record_changes(session, [Change("rules", RULES_KEY)], at)
    session.add(
        HqAudit(
            at=at,
            actor=None if published_by == "cli" else published_by,
            action="rules.publish",
            outcome="ok",
            target=str(version),
            detail={"sha256": row.sha256, "allow_local_promotions": allow_local_promotions},
        )
    )
    return row


def rules_in_force(session: Session) -> ChainRules | None:
    return session.scalar(select(ChainRules).order_by(ChainRules.version.desc()).limit(1))


def _check_against_chain(session: Session, rules: Rules) -> None:
    """Promotions and bonuses may only name what the chain has, once it has a catalogue or
    templates (rules usually come first while a chain is set up, as at a till)."""
    if session.scalar(select(func.count()).select_from(ChainProduct)):
        wanted = {sku for p in rules.promotions for sku in (*p.skus, p.gift_sku or "") if sku}
        known = set(session.scalars(select(ChainProduct.sku).where(ChainProduct.sku.in_(wanted))))
        for sku in sorted(wanted - known):
            raise HqInvalidInput(
                f"规则中的活动指定了连锁商品目录中没有的商品：{sku}",
                f"A promotion names a product not in the chain catalogue: {sku}",
            )
    if session.scalar(select(func.count()).select_from(ChainCouponTemplate)):
        named = {b.coupon_template for b in rules.stored_value.bonus if b.coupon_template}
        if rules.checkout.registration_coupon:
            named.add(rules.checkout.registration_coupon)
        known = set(session.scalars(select(ChainCouponTemplate.code)))
        for code in sorted(c.strip().upper() for c in named):
            if code not in known:
                raise HqInvalidInput(
                    f"规则指定了连锁没有的券模板：{code}",
                    f"The rules name a coupon template the chain does not have: {code}",
                )
