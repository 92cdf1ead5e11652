"""The chain catalogue (`pos-hq product import`, `pos-hq product price`): products every till
sells, in the till's own CSV format and checked by the same rules
(pos_app.domain.catalogue), and a store's own price for a product. Each change goes down the
feed as a `product` item, priced for the receiving till's store."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from uuid6 import uuid7

from hq.admin import iso, store_by_code
from hq.errors import HqError, HqInvalidInput
from hq.feed_changes import Change, record_changes
from hq.models import ChainProduct, HqAudit, PriceOverride
from pos_app.domain.catalogue import CatalogueProduct, RowProblem, check_catalogue, normalize_sku
from pos_app.domain.catalogue_csv import parse_catalogue_csv
from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import MAX_PRICE_FEN

MAX_PROBLEMS_SHOWN = 20


@dataclass
class ChainImport:
    """What a catalogue import did (nothing, when `problems` is not empty)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def _product(data: dict[str, Any]) -> CatalogueProduct:
    return CatalogueProduct(**{**data, "barcodes": tuple(data.get("barcodes", ()))})


def import_products(session: Session, data: bytes, now: datetime) -> ChainImport:
    """Upsert the file's products by SKU into the chain catalogue; a file with any problem
    writes nothing (the problems say row, column and reason, as at the till)."""
    try:
        header, rows = parse_catalogue_csv(data)
    except InvalidInput as exc:
        raise HqInvalidInput(exc.zh, exc.en) from None
    report = ChainImport()
    if header is None:
        raise HqInvalidInput("文件是空的", "The file is empty")
    existing_rows = {p.sku: p for p in session.scalars(select(ChainProduct))}
    existing = {sku: _product(p.data) for sku, p in existing_rows.items()}
    owner = {code: sku for sku, p in existing.items() for code in p.barcodes}
    check = check_catalogue(header, rows, existing, owner)
    report.rows = check.rows
    if check.problems or not check.header_ok:
        report.problems = check.problems
        return report
    at = iso(now)
    changes = []
    for planned in check.planned:
        if not planned.changed:
            report.unchanged += 1
            continue
        values = asdict(planned.product)
        values["barcodes"] = list(planned.product.barcodes)
        row = existing_rows.get(planned.product.sku)
        if row is None:
            row = ChainProduct(id=str(uuid7()), sku=planned.product.sku, data=values, updated_at=at)
            session.add(row)
            report.created += 1
        else:
            row.data = values
            row.updated_at = at
            report.updated += 1
        changes.append(Change("product", row.id))
    session.flush()
    record_changes(session, changes, at)
    session.add(
        HqAudit(
            at=at,
            actor=None,
            action="product.import",
            outcome="ok",
            target=None,
            detail={"rows": report.rows, "created": report.created, "updated": report.updated},
        )
    )
    return report


def set_store_price(
    session: Session,
    sku: str,
    store_code: str,
    price_fen: int,
    member_price_fen: int | None,
    now: datetime,
) -> PriceOverride:
    """The store's own price (and member price) for a chain product; only that store's tills
    hear of it."""
    product = session.scalar(select(ChainProduct).where(ChainProduct.sku == normalize_sku(sku)))
    if product is None:
        raise HqError("not_found", f"连锁商品目录中没有 {sku}", f"No product {sku} in the chain")
    store = store_by_code(session, store_code)
    if not 0 < price_fen <= MAX_PRICE_FEN:
        raise HqInvalidInput("价格超出范围", "The price is out of range")
    if member_price_fen is not None and member_price_fen > price_fen:
        raise HqInvalidInput("会员价不能高于价格", "The member price cannot be above the price")
    at = iso(now)
    override = session.get(PriceOverride, (product.id, store.id))
    if override is None:
        override = PriceOverride(
            product_id=product.id,
            store_id=store.id,
            price_fen=price_fen,
            member_price_fen=member_price_fen,
            updated_at=at,
        )
        session.add(override)
    else:
        override.price_fen = price_fen
        override.member_price_fen = member_price_fen
        override.updated_at = at
    session.flush()
    record_changes(session, [Change("product", product.id, store_id=store.id)], at)
    session.add(
        HqAudit(
            at=at,
            actor=None,
            action="product.price",
            outcome="ok",
            target=f"{product.sku}@{store.code}",
            detail={"price_fen": price_fen, "member_price_fen": member_price_fen},
        )
    )
    return override


def product_for_store(session: Session, product: ChainProduct, store_id: int) -> dict[str, Any]:
    """The product as a till of `store_id` sells it: the chain's row with the store's price
    override applied (member price too, when the override gives one)."""
    data = {**product.data, "id": product.id}
    override = session.get(PriceOverride, (product.id, store_id))
    if override is not None:
        data["price_fen"] = override.price_fen
        if override.member_price_fen is not None or (
            data.get("member_price_fen") is not None
            and data["member_price_fen"] > override.price_fen
        ):
            # A chain member price above the store's own price would charge members more.
            data["member_price_fen"] = override.member_price_fen
    return data
