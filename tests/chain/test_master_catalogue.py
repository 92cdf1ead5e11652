"""The chain catalogue at a till: HQ's products at the store's own price, marked HQ-managed
(the store's import cannot change them), and the chain's coupon templates."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from db.engine import read_session
from db.models import CouponTemplate, Product
from hq.chain_catalogue import import_products, set_store_price
from hq.chain_coupons import add_coupon_template, deactivate_coupon_template
from hq.models import ChainCouponTemplate, ChainProduct
from pos_app.domain.coupons import TemplateSpec
from pos_app.services import catalogue
from pos_app.services.coupons import list_templates
from tests.chain.master_support import NOW, ChainHq, apply_item, chain_hq
from tests.conftest import StoreFixture

__all__ = ["chain_hq"]

CSV = (
    "sku,barcodes,name,category,price,member_price\n"
    "C001,6900000000011,可乐 330ml,饮料,3.50,3.00\n"
    "C002,6900000000028|6900000000035,薯片,零食,8.00,\n"
)


def chain_catalogue(hq: ChainHq) -> dict[str, str]:
    with hq.session() as session, session.begin():
        report = import_products(session, CSV.encode(), NOW)
        assert (report.created, report.problems) == (2, [])
        return {p.sku: p.id for p in session.scalars(select(ChainProduct))}


def test_a_store_price_override_reaches_only_that_stores_tills(
    chain_hq: ChainHq, store: StoreFixture
) -> None:
    ids = chain_catalogue(chain_hq)
    with chain_hq.session() as session, session.begin():
        set_store_price(session, "c001", "SH01", 280, 250, NOW)
    sh01 = chain_hq.item("product", ids["C001"], "SH01-01")
    bj01 = chain_hq.item("product", ids["C001"], "BJ01-01")
    assert sh01 is not None and bj01 is not None
    assert (sh01["price_fen"], sh01["member_price_fen"]) == (280, 250)
    assert (bj01["price_fen"], bj01["member_price_fen"]) == (350, 300)
    override = [c for c in chain_hq.changes("product") if c.store_id is not None]
    assert [c.key for c in override] == [ids["C001"]]

    for sku in ("C001", "C002"):
        apply_item(store, "product", chain_hq.item("product", ids[sku], "SH01-01") or {})
    apply_item(store, "product", sh01)  # again: nothing changes
    with read_session(store.ctx.engine) as s:
        cola = catalogue.product_by_code(s, "6900000000011")
        chips = catalogue.product_by_code(s, "6900000000035")
        assert (cola.id, cola.price_fen, cola.member_price_fen) == (ids["C001"], 280, 250)
        assert cola.hq_managed and chips.sku == "C002" and chips.price_fen == 800


def test_the_stores_own_import_cannot_change_an_hq_product(
    chain_hq: ChainHq, store: StoreFixture, tmp_path: Path
) -> None:
    ids = chain_catalogue(chain_hq)
    apply_item(store, "product", chain_hq.item("product", ids["C001"], "SH01-01") or {})
    path = tmp_path / "local.csv"
    path.write_text(
        "sku,barcodes,name,category,price\n"
        "C001,,可乐,饮料,4.00\n"  # a new price, and it gives its barcode up
        "L001,6900000000011,本店商品,零食,5.00\n"
        "L002,,本店面包,烘焙,6.00\n",
        encoding="utf-8",
    )
    report = catalogue.import_products(store.ctx, store.manager, path)
    assert not report.imported
    # The first refusal is HQ's product; the second takes HQ's product's barcode.
    assert [(p.row, p.column) for p in report.problems] == [(2, "sku"), (3, "barcodes")]
    assert "HQ" in report.problems[0].reason and "总部" in report.problems[0].reason_zh
    partial = catalogue.import_products(store.ctx, store.manager, path, good_rows_only=True)
    assert partial.imported and partial.created == 1
    with read_session(store.ctx.engine) as s:
        prices = {sku: fen for sku, fen in s.execute(select(Product.sku, Product.price_fen))}
    assert prices == {"C001": 350, "L002": 600}


def test_a_bad_chain_catalogue_file_writes_nothing(chain_hq: ChainHq) -> None:
    with chain_hq.session() as session, session.begin():
        report = import_products(
            session, b"sku,name,category,price\nA1,x,y,abc\nA2,ok,y,1.00\n", NOW
        )
        assert [(p.row, p.column) for p in report.problems] == [(2, "price")]
        assert session.scalars(select(ChainProduct)).all() == []


def test_chain_coupon_templates_reach_the_till(chain_hq: ChainHq, store: StoreFixture) -> None:
    spec = TemplateSpec(
        code="new10", name="新人券", kind="amount_off", threshold_fen=5000,
        amount_off_fen=1000, valid_days=30, categories=("饮料",),
    )  # fmt: skip
    with chain_hq.session() as session, session.begin():
        template_id = add_coupon_template(session, spec, NOW).id
    item = chain_hq.item("coupon_template", template_id, "BJ01-01")
    assert item is not None and item["code"] == "NEW10"
    apply_item(store, "coupon_template", item)
    apply_item(store, "coupon_template", item)
    [view] = [t for t in list_templates(store.ctx, store.cashier) if t.code == "NEW10"]
    assert view.name == "新人券"
    with chain_hq.session() as session, session.begin():
        deactivate_coupon_template(session, "NEW10", NOW)
        assert session.get(ChainCouponTemplate, template_id).active is False  # type: ignore[union-attr]
    apply_item(
        store, "coupon_template", chain_hq.item("coupon_template", template_id, "SH01-01") or {}
    )
    with read_session(store.ctx.engine) as s:
        row = s.get(CouponTemplate, template_id)
        assert row is not None and not row.active and row.threshold_fen == 5000
        assert row.scope_categories == '["饮料"]'
