"""The down feed's master data items (docs/chain-protocol.md, "Master data from HQ"): what a
till receives for a `rules`, `product`, `operator` or `coupon_template` change.

Each builder is `(session, key, till) -> data | None`: the item's current state as that till
must see it (a product at its store's price), or None when the till is not to have it (an
operator of another store or region, a row that no longer exists). The till side is
`pos_app.services.master_apply.APPLIERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.orm import Session

from hq.chain_catalogue import product_for_store
from hq.chain_rules import rules_in_force
from hq.models import ChainCouponTemplate, ChainProduct, HqOperator, Store
from hq.operators import reaches_till


class TillInScope(Protocol):
    """What a builder needs of the pulling till: its store (hq.feed.PullingTill)."""

    @property
    def store_id(self) -> int: ...


Builder = Callable[[Session, str, TillInScope], dict[str, Any] | None]


def rules_item(session: Session, key: str, till: TillInScope) -> dict[str, Any] | None:
    """The chain rules in force (whatever the key: only the newest version matters)."""
    rules = rules_in_force(session)
    if rules is None:
        return None
    return {
        "version": rules.version,
        "label": rules.label,
        "source_text": rules.source_text,
        "sha256": rules.sha256,
        "allow_local_promotions": rules.allow_local_promotions,
        "published_at": rules.published_at,
    }


def product_item(session: Session, key: str, till: TillInScope) -> dict[str, Any] | None:
    product = session.get(ChainProduct, key)
    if product is None:
        return None
    return product_for_store(session, product, till.store_id)


def operator_item(session: Session, key: str, till: TillInScope) -> dict[str, Any] | None:
    """The operator with their password hash, for a till their scope covers only."""
    op = session.get(HqOperator, key)
    store = session.get(Store, till.store_id)
    if op is None or store is None or not reaches_till(op, store):
        return None
    return {
        "id": op.id,
        "login": op.login,
        "name": op.name,
        "role": op.role,
        "active": op.active,
        "password_hash": op.password_hash,
        "scope": op.scope,
    }


def coupon_template_item(session: Session, key: str, till: TillInScope) -> dict[str, Any] | None:
    template = session.get(ChainCouponTemplate, key)
    if template is None:
        return None
    return {**template.data, "id": template.id, "active": template.active}


BUILDERS: dict[str, Builder] = {
    "rules": rules_item,
    "product": product_item,
    "operator": operator_item,
    "coupon_template": coupon_template_item,
}
