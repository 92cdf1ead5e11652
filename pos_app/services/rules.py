"""Loading a rules file as a new version, and showing the rules in force.

On a till whose rules come from HQ (the version in force has `hq_version`), a local file is
refused, unless HQ allows the store promotions of its own: the file's [[promotion]] tables
are then added to HQ's rules (pos_app.domain.local_promotions). HQ's own versions arrive
through the feed (`pos_app.services.master_apply`) and are stored by `store_rules_version`,
as a local file is.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import CouponTemplate, Member, Product, RulesVersion
from pos_app.domain.coupons import normalize_template_code
from pos_app.domain.errors import RulesError
from pos_app.domain.local_promotions import merge_promotions, split_rules_text
from pos_app.domain.permissions import Permission
from pos_app.domain.rules import Rules, parse_rules, rules_error
from pos_app.services.audit import record
from pos_app.services.auth import Actor
from pos_app.services.context import StoreContext
from pos_app.services.rules_store import current_rules
from pos_app.services.use_case import UseCase, use_case


@dataclass(frozen=True)
class LoadedRules:
    version: int
    label: str
    rules: Rules


def load_rules(ctx: StoreContext, actor: Actor, text: str, source: str = "") -> LoadedRules:
    """Validate a rules file and make it the rules in force, as a new version.

    Besides the file's own checks, the settings that name something in the store are
    checked against it: promotion SKUs and gift SKUs against the catalogue, coupon templates
    against the templates, and no tier that members hold may disappear. On an HQ-ruled till
    only the store's own promotions may be loaded, where HQ allows them (module docstring)."""
    rules = parse_rules(text)  # refuse a bad file before taking any lock
    with use_case(ctx, actor, Permission.RULES_LOAD, target=source) as uc:
        in_force = _in_force(uc.session)
        hq_version: int | None = None
        allows_local: bool | None = None
        if in_force is not None and in_force.hq_version is not None:
            if not in_force.hq_allows_local_promotions:
                raise RulesError(
                    "本机的规则由总部统一发布，总部不允许门店自行添加促销：不能在本机加载规则",
                    "This till's rules are published by HQ, which allows no promotions of the "
                    "store's own: a rules file cannot be loaded here",
                    code="rules_hq_managed",
                )
            hq_text, _ = split_rules_text(in_force.source_text)
            text = merge_promotions(hq_text, text)
            rules = parse_rules(text)
            hq_version, allows_local = in_force.hq_version, True
        _check_against_store(uc.session, rules, text)
        version = store_rules_version(
            uc, text, rules.label, source, hq_version=hq_version, allows_local=allows_local
        )
    return LoadedRules(version, rules.label, rules)


def _in_force(s: Session) -> RulesVersion | None:
    return s.scalars(select(RulesVersion).order_by(RulesVersion.version.desc()).limit(1)).first()


def store_rules_version(
    uc: UseCase,
    text: str,
    label: str,
    source: str,
    *,
    hq_version: int | None = None,
    allows_local: bool | None = None,
    loaded_by_id: str | None = None,
) -> int:
    """Store checked rules `text` as the next version, in force from now, loaded by
    `loaded_by_id` (the use case's operator by default; audited). `hq_version`: the chain
    rules version it came from."""
    loaded_by_id = loaded_by_id or uc.ledger.operator_id
    version = (uc.session.scalar(select(func.max(RulesVersion.version))) or 0) + 1
    digest = hashlib.sha256(text.encode()).hexdigest()
    uc.session.add(
        RulesVersion(
            version=version,
            label=label,
            source_text=text,
            sha256=digest,
            loaded_at=uc.now_iso,
            loaded_by_id=loaded_by_id,
            hq_version=hq_version,
            hq_allows_local_promotions=allows_local,
        )
    )
    detail: dict[str, object] = {"version": version, "sha256": digest}
    if hq_version is not None:
        detail["hq_version"] = hq_version
    record(uc.session, uc.now_iso, loaded_by_id, "rules.load", target=source, detail=detail)
    return version


def _check_against_store(s: Session, rules: Rules, text: str) -> None:
    """Refuse (naming the key and its line) what the store cannot honour. A store whose
    catalogue or coupon templates are still empty is being set up (the rules usually come
    first, the catalogue import after): names are checked once there is something to check
    them against."""
    if s.scalar(select(func.count()).select_from(Product)):
        wanted = {sku for p in rules.promotions for sku in (*p.skus, p.gift_sku or "") if sku}
        known = set(s.scalars(select(Product.sku).where(Product.sku.in_(wanted))))
        for i, promo in enumerate(rules.promotions):
            for key, skus in (("skus", promo.skus), ("gift_sku", (promo.gift_sku or "",))):
                for sku in skus:
                    if sku and sku not in known:
                        raise rules_error(
                            text,
                            f"promotion[{i}].{key}",
                            f"names a product not in the catalogue: {sku}",
                            f"商品目录中没有这个商品：{sku}",
                        )
    if s.scalar(select(func.count()).select_from(CouponTemplate)):
        # The rules keep bonus rows sorted by threshold; the file's own order numbers them.
        rows = tomllib.loads(text).get("stored_value", {}).get("bonus", [])
        named = [
            (f"stored_value.bonus[{i}].coupon", str(row["coupon"]).strip())
            for i, row in enumerate(rows)
            if row.get("coupon")
        ]
        if rules.checkout.registration_coupon:
            named.append(("checkout.registration_coupon", rules.checkout.registration_coupon))
        known = set(s.scalars(select(CouponTemplate.code)))
        for where, code in named:
            if normalize_template_code(code) not in known:
                raise rules_error(
                    text,
                    where,
                    f"names no coupon template: {code}",
                    f"没有这个券模板：{code}",
                )
    codes = {level.code for level in rules.tiers.levels}
    held = s.execute(
        select(Member.tier_code, func.count())
        .where(Member.tier_code.not_in(codes))
        .group_by(Member.tier_code)
        .order_by(Member.tier_code)
    ).first()
    if held is not None:
        tier, members = held
        raise rules_error(
            text,
            "tiers.level",
            f"drops the tier {tier!r}, which {members} member(s) still hold: keep the level "
            "(or move those members to another tier first)",
            f"删除了等级 {tier}，但仍有 {members} 位会员属于该等级：请保留该等级"
            "（或先把这些会员调到其他等级）",
        )


def show_rules(ctx: StoreContext) -> LoadedRules:
    with read_session(ctx.engine) as session:
        version, rules = current_rules(session)
    return LoadedRules(version, rules.label, rules)
