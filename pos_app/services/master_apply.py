"""Applying master data HQ sends down (docs/chain-protocol.md, "Master data from HQ"): the
chain rules, the catalogue at this store's prices, the chain's operators of this till's
scope, and coupon templates.

Each applier is `(uc, data) -> None` and works inside the caller's write transaction (the
feed apply's use case), so a pull is applied entirely or not at all. Applying the same item
twice changes nothing. HQ is the authority for what it publishes: rows it sends are marked
`hq_managed` and the till's own services refuse to edit them. HQ's side is
`hq.master_feed.BUILDERS`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.models import CouponTemplate, Operator, Product, ProductBarcode, RulesVersion
from pos_app.domain.errors import RulesError
from pos_app.domain.local_promotions import merge_promotions, split_rules_text
from pos_app.domain.permissions import Role
from pos_app.domain.rules import parse_rules
from pos_app.services.audit import record
from pos_app.services.catalogue import PRODUCT_FIELDS
from pos_app.services.chain_mirror import hq_sync_operator
from pos_app.services.login_lockout import clear
from pos_app.services.operator_records import record_operator_change
from pos_app.services.rules import store_rules_version
from pos_app.services.use_case import UseCase

log = logging.getLogger(__name__)

Applier = Callable[[UseCase, dict[str, Any]], None]

# -- rules -------------------------------------------------------------------------------------

_DROPPED = "rules.local_promotions_dropped"


def apply_rules(uc: UseCase, data: dict[str, Any]) -> None:
    """HQ's rules version becomes the rules in force (a new local version with `hq_version`),
    with the store's own promotions kept on top where HQ still allows them. An older or the
    same HQ version changes nothing."""
    s = uc.session
    hq_version = int(data["version"])
    newest_hq = s.scalar(select(func.max(RulesVersion.hq_version)))
    if newest_hq is not None and newest_hq >= hq_version:
        return
    allows_local = bool(data["allow_local_promotions"])
    text = str(data["source_text"])
    in_force = s.scalars(
        select(RulesVersion).order_by(RulesVersion.version.desc()).limit(1)
    ).first()
    local = ""
    if in_force is not None and in_force.hq_version is not None:
        local = split_rules_text(in_force.source_text)[1]
    if local and allows_local:
        try:
            merged = merge_promotions(text, local)
            parse_rules(merged)
            text = merged
        except RulesError as exc:
            # HQ's rules win: a store promotion that no longer fits them (a code HQ now uses,
            # a product HQ dropped) is left out, and the audit says so.
            log.warning("store promotions left out of HQ rules v%s: %s", hq_version, exc.en)
            reason = {"reason": exc.en}
            record(s, uc.now_iso, None, _DROPPED, "refused", str(hq_version), reason)
    elif local:
        reason = {"reason": "HQ allows no store promotions"}
        record(s, uc.now_iso, None, _DROPPED, "ok", str(hq_version), reason)
    parse_rules(text, strict=False)  # a text the till cannot read must not come in force
    store_rules_version(
        uc,
        text,
        str(data.get("label") or ""),
        f"hq:{hq_version}",
        hq_version=hq_version,
        allows_local=allows_local,
        loaded_by_id=hq_sync_operator(uc).id,
    )


# -- catalogue ---------------------------------------------------------------------------------


def apply_product(uc: UseCase, data: dict[str, Any]) -> None:
    """Upsert a chain product (at this store's price) by id. A product the store had under
    the same SKU before it joined the chain is taken over (its id stays: sales name it)."""
    s = uc.session
    product = (
        s.get(Product, data["id"])
        or s.scalars(select(Product).where(Product.sku == data["sku"])).first()
    )
    values = {name: data[name] for name in PRODUCT_FIELDS}
    if product is None:
        product = Product(id=data["id"], **values, hq_managed=True, updated_at=uc.now_iso)
        s.add(product)
    elif any(getattr(product, name) != value for name, value in values.items()) or not (
        product.hq_managed
    ):
        for name, value in values.items():
            setattr(product, name, value)
        product.hq_managed = True
        product.updated_at = uc.now_iso
    s.flush()
    barcodes = sorted(set(data.get("barcodes") or ()))
    held = set(
        s.scalars(select(ProductBarcode.barcode).where(ProductBarcode.product_id == product.id))
    )
    if held != set(barcodes):
        # HQ's catalogue decides which product a barcode scans as, here as everywhere.
        s.execute(delete(ProductBarcode).where(ProductBarcode.product_id == product.id))
        if barcodes:
            s.execute(delete(ProductBarcode).where(ProductBarcode.barcode.in_(barcodes)))
        s.add_all(ProductBarcode(barcode=code, product_id=product.id) for code in barcodes)


# -- operators ---------------------------------------------------------------------------------


def apply_operator(uc: UseCase, data: dict[str, Any]) -> None:
    """Upsert a person of the chain by id, sealed with this till's key and recorded in the
    ledger (`operator_changed`), as the till's own operators are. Their password hash is
    HQ's; a deactivated one can no longer sign in here. An operator whose login a local
    operator already has is not applied (logged and audited: a person must resolve it)."""
    s = uc.session
    role = Role(data["role"]).value
    op = s.get(Operator, data["id"])
    if op is None:
        clash = s.scalars(select(Operator.id).where(Operator.login == data["login"])).first()
        if clash is not None:
            log.warning("operator %s from HQ not applied: a local one has it", data["login"])
            record(s, uc.now_iso, None, "operator.hq_login_taken", "refused", data["login"])
            return
        op = Operator(
            id=data["id"],
            login=data["login"],
            name=data["name"],
            role=role,
            password_hash=data["password_hash"],
            active=bool(data["active"]),
            created_at=uc.now_iso,
            hq_managed=True,
        )
        s.add(op)
        s.flush()
        record_operator_change(uc, op, "added", {"source": "hq"})
        return
    wanted = {
        "login": data["login"],
        "name": data["name"],
        "role": role,
        "password_hash": data["password_hash"],
        "active": bool(data["active"]),
    }
    if op.hq_managed and all(getattr(op, name) == value for name, value in wanted.items()):
        return  # the same state again: no new ledger entry
    if op.password_hash != wanted["password_hash"]:
        clear(op)  # a new password from HQ lifts a lockout, as an admin's reset does
    for name, value in wanted.items():
        setattr(op, name, value)
    op.hq_managed = True
    record_operator_change(uc, op, "changed", {"source": "hq"})


# -- coupon templates --------------------------------------------------------------------------

_TEMPLATE_FIELDS = (
    "code",
    "name",
    "kind",
    "threshold_fen",
    "amount_off_fen",
    "percent_off",
    "cap_fen",
    "gift_sku",
    "valid_from",
    "valid_to",
    "valid_days",
    "per_member_limit",
    "stacks_with_tier",
    "stacks_with_coupons",
    "restore_on_refund",
    "points_cost",
    "active",
)


def apply_coupon_template(uc: UseCase, data: dict[str, Any]) -> None:
    """Upsert a chain coupon template by id (a local template of the same code is taken
    over: coupons already issued from it keep their template)."""
    s = uc.session
    values = {name: data[name] for name in _TEMPLATE_FIELDS}
    values["scope_categories"] = json.dumps(list(data["scope_categories"]), ensure_ascii=False)
    values["scope_skus"] = json.dumps(list(data["scope_skus"]), ensure_ascii=False)
    template = _template(s, data["id"], data["code"])
    if template is None:
        s.add(CouponTemplate(id=data["id"], **values, created_at=uc.now_iso))
        return
    for name, value in values.items():
        setattr(template, name, value)


def _template(s: Session, template_id: str, code: str) -> CouponTemplate | None:
    return (
        s.get(CouponTemplate, template_id)
        or s.scalars(select(CouponTemplate).where(CouponTemplate.code == code)).first()
    )


APPLIERS: dict[str, Applier] = {
    "rules": apply_rules,
    "product": apply_product,
    "operator": apply_operator,
    "coupon_template": apply_coupon_template,
}
