"""The catalogue service on a real store: CSV and XLSX imports (all or nothing, or the good
rows only), upserts by SKU, barcode conflicts with the database, the checkout's look-ups, the
demo catalogue, permissions."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy import select, update

from db.engine import read_session, write_session
from db.models import AuditEvent, Product, ProductBarcode
from pos_app.domain.errors import InvalidInput, NotFound, PermissionDenied
from pos_app.services import catalogue
from pos_app.services.catalogue import (
    ProductImportReport,
    ProductView,
    import_products,
    list_products,
    load_demo_catalogue,
    product_by_code,
    product_view,
    search_products,
    show_product,
)
from pos_app.services.verify import verify_ledger
from tests.conftest import EXAMPLE_RULES, StoreFixture
from tests.services.support import count, ledger_count

HEADER = "sku,barcodes,name,name_en,category,unit,kind,price,member_price,earns_points,"
HEADER += "takes_discounts,pass_services,pass_valid_days\n"
GOOD = (
    HEADER
    + "D001,6921168509256,农夫山泉550ml,Nongfu Spring 550ml,饮品,瓶,goods,2.00,,yes,yes,,\n"
    + "D002,6901939621257|6901939621264,可口可乐330ml,Coca-Cola,饮品,罐,,3.50,3.00,,,,\n"
    + "SV01,,精致洗车,Car wash,服务,次,service,50,,yes,yes,,\n"
    + "C010,,洗车10次卡,,卡项,张,count_card,400,,yes,no,SV01*10,365\n"
)


def write(tmp_path: Path, text: str, name: str = "products.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def find(store: StoreFixture, code: str, **kwargs: Any) -> ProductView:
    with read_session(store.ctx.engine) as s:
        return product_view(s, product_by_code(s, code, **kwargs))


def barcodes_in_db(store: StoreFixture) -> dict[str, str]:
    with read_session(store.ctx.engine) as s:
        rows = s.execute(
            select(ProductBarcode.barcode, Product.sku).join(
                Product, Product.id == ProductBarcode.product_id
            )
        )
        return {code: sku for code, sku in rows}


def problems(report: ProductImportReport) -> list[tuple[int, str]]:
    return [(p.row, p.column) for p in report.problems]


def audit_actions(store: StoreFixture) -> list[tuple[str, str, str | None]]:
    with read_session(store.ctx.engine) as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(r.action, r.outcome, r.detail) for r in rows]


# -- CSV ---------------------------------------------------------------------------------------


def test_a_csv_file_creates_products_barcodes_and_an_audit_event(
    store: StoreFixture, tmp_path: Path
) -> None:
    entries_before = ledger_count(store)
    seen: list[tuple[int, int | None]] = []
    report = import_products(
        store.ctx,
        store.manager,
        write(tmp_path, GOOD),
        progress=lambda done, total=None: seen.append((done, total)),
    )
    assert report.imported and report.ok
    assert (report.rows, report.created, report.updated, report.unchanged) == (4, 4, 0, 0)
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)

    cola = find(store, "6901939621264")
    assert cola.sku == "D002"
    assert cola.barcodes == ("6901939621257", "6901939621264")
    assert (cola.price_fen, cola.member_price_fen, cola.kind, cola.unit) == (
        350,
        300,
        "goods",
        "罐",
    )
    assert (cola.earns_points, cola.takes_discounts, cola.active) == (True, True, True)
    card = find(store, "c010")
    assert card.pass_spec == {"services": {"SV01": 10}, "valid_days": 365}
    assert (card.kind, card.takes_discounts, card.name_en) == ("count_card", False, None)
    assert find(store, " sv01 ").kind == "service"

    # Products are not ledger facts: an audit event, no ledger entry.
    assert ledger_count(store) == entries_before
    assert verify_ledger(store.ctx).ok
    action, outcome, detail = audit_actions(store)[-1]
    assert (action, outcome) == ("product.import", "ok")
    assert json.loads(detail or "{}")["created"] == 4


def test_a_file_with_any_problem_imports_nothing(store: StoreFixture, tmp_path: Path) -> None:
    text = GOOD + "D003,,冰红茶,,饮品,瓶,goods,3.005,,,,,\n" + "D004,,王老吉,,饮品,罐,礼盒,4,,,,,\n"
    report = import_products(store.ctx, store.manager, write(tmp_path, text))
    assert not report.imported
    assert problems(report) == [(6, "price"), (7, "kind")]
    assert (report.rows, report.created, report.skipped) == (6, 0, 6)
    assert count(store, Product) == 0 and count(store, ProductBarcode) == 0
    assert not any(a == "product.import" for a, _, _ in audit_actions(store))


def test_good_rows_only_imports_the_good_rows_and_reports_the_others(
    store: StoreFixture, tmp_path: Path
) -> None:
    text = (
        GOOD + "D003,,冰红茶,,饮品,瓶,goods,3.005,,,,,\n" + "D004,,王老吉,,饮品,罐,goods,4,5,,,,\n"
    )
    report = import_products(store.ctx, store.manager, write(tmp_path, text), good_rows_only=True)
    assert report.imported
    assert problems(report) == [(6, "price"), (7, "member_price")]
    assert (report.created, report.skipped) == (4, 2)
    assert count(store, Product) == 4
    with pytest.raises(NotFound):
        find(store, "D003")


def test_a_file_with_only_bad_rows_imports_nothing_even_with_good_rows_only(
    store: StoreFixture, tmp_path: Path
) -> None:
    path = write(tmp_path, HEADER + "D003,,冰红茶,,饮品,瓶,goods,abc,,,,,\n")
    report = import_products(store.ctx, store.manager, path, good_rows_only=True)
    assert not report.imported and problems(report) == [(2, "price")]
    assert count(store, Product) == 0


def test_a_bad_header_imports_nothing_even_with_good_rows_only(
    store: StoreFixture, tmp_path: Path
) -> None:
    path = write(tmp_path, "sku,name,category,price,stock\nD001,水,饮品,2,10\n")
    report = import_products(store.ctx, store.manager, path, good_rows_only=True)
    assert not report.imported and problems(report) == [(1, "stock")]
    assert count(store, Product) == 0


def test_updates_by_sku_replace_prices_names_and_barcodes(
    store: StoreFixture, tmp_path: Path
) -> None:
    import_products(store.ctx, store.manager, write(tmp_path, GOOD))
    with read_session(store.ctx.engine) as s:
        stamp = s.scalars(select(Product.updated_at).where(Product.sku == "D001")).one()
    store.clock.advance(days=1)

    again = import_products(store.ctx, store.manager, write(tmp_path, GOOD, "again.csv"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)

    changed = GOOD.replace(
        "可口可乐330ml,Coca-Cola,饮品,罐,,3.50", "可口可乐汽水,Coke,饮品,罐,,3.80"
    )
    changed = changed.replace("6901939621257|6901939621264", "6901939621271")
    changed += "D009,6901939621257,可乐旧包装,,饮品,罐,goods,3,,,,,\n"  # the barcode moves here
    report = import_products(store.ctx, store.manager, write(tmp_path, changed, "changed.csv"))
    assert (report.created, report.updated, report.unchanged) == (1, 1, 3), report.problems
    cola = find(store, "D002")
    assert (cola.name, cola.name_en, cola.price_fen) == ("可口可乐汽水", "Coke", 380)
    assert cola.barcodes == ("6901939621271",)
    assert find(store, "6901939621257").sku == "D009"
    with pytest.raises(NotFound):
        find(store, "6901939621264")
    assert count(store, Product) == 5
    with read_session(store.ctx.engine) as s:
        stamps = {sku: at for sku, at in s.execute(select(Product.sku, Product.updated_at))}
    assert stamps["D001"] == stamp  # an unchanged product is not touched
    assert stamps["D002"] > stamp


def test_a_price_only_file_keeps_barcodes_kinds_and_passes(
    store: StoreFixture, tmp_path: Path
) -> None:
    import_products(store.ctx, store.manager, write(tmp_path, GOOD))
    prices = "编码,名称,分类,售价\nD002,可口可乐330ml,饮品,3.20\nC010,洗车10次卡,卡项,380\n"
    report = import_products(store.ctx, store.manager, write(tmp_path, prices, "prices.csv"))
    assert (report.updated, report.imported) == (2, True), report.problems
    cola, card = find(store, "D002"), find(store, "C010")
    assert (cola.price_fen, cola.member_price_fen, cola.unit) == (320, 300, "罐")
    assert cola.barcodes == ("6901939621257", "6901939621264")
    assert (card.price_fen, card.kind, card.takes_discounts) == (38000, "count_card", False)
    assert card.pass_spec == {"services": {"SV01": 10}, "valid_days": 365}


def test_a_barcode_of_another_product_in_the_database_is_refused(
    store: StoreFixture, tmp_path: Path
) -> None:
    import_products(store.ctx, store.manager, write(tmp_path, GOOD))
    text = HEADER + "D020,6921168509256,矿泉水,,饮品,瓶,goods,2,,,,,\n"
    report = import_products(store.ctx, store.manager, write(tmp_path, text, "clash.csv"))
    assert not report.imported
    assert problems(report) == [(2, "barcodes")]
    assert "已被商品 D001 使用" in report.problems[0].reason_zh
    assert barcodes_in_db(store)["6921168509256"] == "D001"
    assert count(store, Product) == 4


def test_cards_may_name_services_already_in_the_catalogue(
    store: StoreFixture, tmp_path: Path
) -> None:
    import_products(store.ctx, store.manager, write(tmp_path, GOOD))
    text = HEADER + "T001,,洗车体验卡,,卡项,张,体验卡,9.90,,,否,SV01*1,30\n"
    text += "C011,,错卡,,卡项,张,次卡,100,,,,D001*3,30\n"
    report = import_products(store.ctx, store.manager, write(tmp_path, text, "cards.csv"))
    assert problems(report) == [(3, "pass_services")]
    assert "D001 不是服务项目" in report.problems[0].reason_zh
    ok = import_products(
        store.ctx, store.manager, write(tmp_path, text, "cards.csv"), good_rows_only=True
    )
    assert ok.created == 1
    assert find(store, "T001").pass_spec == {"services": {"SV01": 1}, "valid_days": 30}


def test_a_gb18030_file_from_chinese_excel_is_read(store: StoreFixture, tmp_path: Path) -> None:
    text = "编码,条码,名称,分类,单位,类型,售价,会员价,积分,参与折扣\r\n"
    text += "V001,6900000010016,有机菠菜500g,蔬菜,份,商品,6.80,,是,是\r\n"
    text += "W001,6902523800013,飞天茅台500ml,酒水,瓶,商品,1499,,否,否\r\n"
    path = write(tmp_path, text, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really not UTF-8
    report = import_products(store.ctx, store.manager, path)
    assert report.imported and report.created == 2, report.problems
    spinach = find(store, "6900000010016")
    assert (spinach.name, spinach.category, spinach.unit) == ("有机菠菜500g", "蔬菜", "份")
    moutai = find(store, "W001")
    assert (moutai.price_fen, moutai.earns_points, moutai.takes_discounts) == (149900, False, False)


def test_a_utf8_file_with_a_bom_and_tabs_is_read(store: StoreFixture, tmp_path: Path) -> None:
    path = tmp_path / "tabs.txt"
    path.write_bytes("\ufeffsku\tname\tcategory\tprice\nS001\t乐事薯片\t零食\t7.50\n".encode())
    report = import_products(store.ctx, store.manager, path)
    assert report.created == 1, report.problems
    assert find(store, "S001").price_fen == 750


def test_files_that_cannot_be_read_are_refused(store: StoreFixture, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="xlsx"):
        import_products(store.ctx, store.manager, write(tmp_path, "x", "old.xls"))
    with pytest.raises(InvalidInput):
        import_products(store.ctx, store.manager, write(tmp_path, "x", "notes.pdf"))
    with pytest.raises(InvalidInput, match="workbook"):
        import_products(store.ctx, store.manager, write(tmp_path, "not a zip", "broken.xlsx"))
    empty = import_products(store.ctx, store.manager, write(tmp_path, "", "empty.csv"))
    assert not empty.imported and empty.problems[0].reason_zh == "文件是空的"


# -- XLSX --------------------------------------------------------------------------------------


def make_xlsx(path: Path, rows: list[list[Any]], sheet_title: str = "商品") -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    for row in rows:
        sheet.append(row)
    book.create_sheet("说明").append(["这张表不导入 this sheet is not read"])
    book.save(path)
    return path


def test_an_xlsx_file_with_excel_numbers_imports_exactly(
    store: StoreFixture, tmp_path: Path
) -> None:
    path = make_xlsx(
        tmp_path / "products.xlsx",
        [
            [
                "编码",
                "条码",
                "名称",
                "分类",
                "售价",
                "会员价",
                "积分",
                "类型",
                "次卡服务",
                "有效天数",
            ],
            ["F001", 6900000020015, "红富士苹果", "水果", 12.8, 11.8, True, None, None, None],
            ["D001", 6921168509256.0, "农夫山泉550ml", "饮品", 2, None, "是", "商品", None, None],
            [None, None, None, None, None, None, None, None, None, None],
            ["SV02", None, "健身单次", "服务", 30, None, 1, "服务", None, None],
            ["C030", None, "健身月卡", "卡项", 299, None, False, "时限卡", "SV02", 30.0],
        ],
    )
    report = import_products(store.ctx, store.manager, path)
    assert report.imported and report.created == 4, report.problems
    apples = find(store, "6900000020015")
    assert (apples.sku, apples.price_fen, apples.member_price_fen) == ("F001", 1280, 1180)
    assert find(store, "6921168509256").sku == "D001"
    month = find(store, "C030")
    assert month.pass_spec == {"services": {"SV02": None}, "valid_days": 30}
    assert month.earns_points is False


def test_xlsx_problems_keep_the_sheets_row_numbers(store: StoreFixture, tmp_path: Path) -> None:
    path = make_xlsx(
        tmp_path / "bad.xlsx",
        [
            ["sku", "barcodes", "name", "category", "price"],
            ["F001", 6900000020015, "红富士苹果", "水果", 12.8],
            [None, None, None, None, None],
            ["F002", "6.90000E+12", "香蕉", "水果", 6.985],
        ],
    )
    report = import_products(store.ctx, store.manager, path)
    assert not report.imported
    assert problems(report) == [(4, "barcodes"), (4, "price")]
    assert count(store, Product) == 0


# -- look-ups ----------------------------------------------------------------------------------


def test_product_by_code_refuses_unknown_and_inactive_products(
    store: StoreFixture, tmp_path: Path
) -> None:
    import_products(store.ctx, store.manager, write(tmp_path, GOOD))
    with pytest.raises(NotFound) as unknown:
        find(store, "6900000000000")
    assert unknown.value.zh == "没有这个商品：6900000000000"
    assert unknown.value.en == "No such product: 6900000000000"

    off = HEADER.rstrip("\n") + ",active\nD001,6921168509256,农夫山泉550ml,,饮品,瓶,,2,,,,,,否\n"
    report = import_products(store.ctx, store.manager, write(tmp_path, off, "off.csv"))
    assert report.updated == 1, report.problems
    with pytest.raises(NotFound) as inactive:
        find(store, "6921168509256")
    assert inactive.value.code == "product_inactive"
    assert "停售" in inactive.value.zh
    assert find(store, "D001", include_inactive=True).active is False
    assert show_product(store.ctx, store.cashier, "d001").active is False


def test_search_by_name_sku_prefix_or_barcode(store: StoreFixture, tmp_path: Path) -> None:
    load_demo_catalogue(store.ctx, store.manager)
    skus = [v.sku for v in search_products(store.ctx, store.cashier, "洗车")]
    assert skus == ["C010", "P001", "SV01", "T001"]
    assert [v.sku for v in search_products(store.ctx, store.cashier, "sv0")] == [
        "SV01",
        "SV02",
        "SV03",
    ]
    # An exact code comes first, then other matches.
    assert search_products(store.ctx, store.cashier, "6921168509256")[0].sku == "D001"
    assert search_products(store.ctx, store.cashier, "s001")[0].sku == "S001"
    assert [v.sku for v in search_products(store.ctx, store.cashier, "COCA")] == ["D002"]
    assert len(search_products(store.ctx, store.cashier, "0", limit=3)) == 3
    assert search_products(store.ctx, store.cashier, "100%") == []  # % is not a wildcard

    with write_session(store.ctx.engine) as s:
        s.execute(update(Product).where(Product.sku == "SV02").values(active=False))
    assert "SV02" not in [v.sku for v in search_products(store.ctx, store.cashier, "SV")]
    listed = list_products(store.ctx, store.cashier, category="服务")
    assert [(v.sku, v.active) for v in listed] == [("SV01", True), ("SV02", False), ("SV03", True)]


# -- permissions -------------------------------------------------------------------------------


def test_a_cashier_may_not_import_and_the_refusal_is_audited(
    store: StoreFixture, tmp_path: Path
) -> None:
    with pytest.raises(PermissionDenied):
        import_products(store.ctx, store.cashier, write(tmp_path, GOOD))
    with pytest.raises(PermissionDenied):
        load_demo_catalogue(store.ctx, store.cashier)
    assert count(store, Product) == 0
    action, outcome, _ = audit_actions(store)[-1]
    assert (action, outcome) == ("product.import", "refused")


# -- many rows ---------------------------------------------------------------------------------


def test_many_rows_are_written_in_chunks_with_progress(
    store: StoreFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue, "WRITE_CHUNK", 700)
    monkeypatch.setattr(catalogue, "READ_PROGRESS_EVERY", 1000)
    lines = [
        f"X{i:05d},69{i:011d},商品{i},分类{i % 7},{i % 900 + 1}.{i % 100:02d}\n"
        for i in range(3000)
    ]
    path = write(tmp_path, "sku,barcodes,name,category,price\n" + "".join(lines))
    seen: list[tuple[int, int | None]] = []
    report = import_products(
        store.ctx, store.manager, path, progress=lambda d, t=None: seen.append((d, t))
    )
    assert report.created == 3000, report.problems[:3]
    assert (999, None) in seen  # while reading
    assert [s for s in seen if s[1]] == [(0, 3000), (700, 3000), (1400, 3000), (2100, 3000),
                                         (2800, 3000), (3000, 3000)]  # fmt: skip
    assert count(store, ProductBarcode) == 3000
    assert find(store, "6900000002999").sku == "X02999"


@pytest.mark.slow
def test_fifty_thousand_rows_import_in_a_few_seconds(store: StoreFixture, tmp_path: Path) -> None:
    lines = [
        f"Y{i:06d},69{i:011d}|70{i:011d},商品{i},分类{i % 30},{i % 9000 + 1}.50,,yes,yes\n"
        for i in range(50_000)
    ]
    header = "sku,barcodes,name,category,price,member_price,earns_points,takes_discounts\n"
    path = write(tmp_path, header + "".join(lines))
    report = import_products(store.ctx, store.manager, path)
    assert report.created == 50_000
    assert report.seconds < 15, report.seconds
    again = import_products(store.ctx, store.manager, path)
    assert again.unchanged == 50_000 and again.seconds < 15


# -- the demo catalogue ------------------------------------------------------------------------


def ean13_ok(code: str) -> bool:
    digits = [int(c) for c in code]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return len(code) == 13 and (10 - total % 10) % 10 == digits[12]


def test_the_demo_catalogue_holds_what_tests_and_promotions_rely_on(store: StoreFixture) -> None:
    report = load_demo_catalogue(store.ctx, store.manager)
    assert report.ok and report.imported, report.problems
    assert 35 <= report.created <= 60
    views = list_products(store.ctx, store.manager)
    by_sku = {v.sku: v for v in views}
    assert {v.category for v in views} == {
        "饮品", "零食", "蔬菜", "水果", "日用", "酒水", "服务", "卡项", "赠品"
    }  # fmt: skip
    expected = {  # sku: (name, category, kind, price, member price)
        "D001": ("农夫山泉550ml", "饮品", "goods", 200, None),
        "D002": ("可口可乐330ml", "饮品", "goods", 350, 300),
        "S001": ("乐事薯片", "零食", "goods", 750, None),
        "V001": ("有机菠菜500g", "蔬菜", "goods", 680, None),
        "V002": ("西红柿500g", "蔬菜", "goods", 450, None),
        "F001": ("红富士苹果", "水果", "goods", 1280, 1180),
        "H001": ("洗衣液2kg", "日用", "goods", 3990, None),
        "W001": ("飞天茅台500ml", "酒水", "goods", 149900, None),
        "SV01": ("精致洗车", "服务", "service", 5000, None),
        "SV02": ("健身单次", "服务", "service", 3000, None),
        "SV03": ("打蜡护理", "服务", "service", 8000, None),
        "C010": ("洗车10次卡", "卡项", "count_card", 40000, None),
        "C030": ("健身月卡", "卡项", "time_card", 29900, None),
        "P001": ("洗车护理套餐", "卡项", "package", 55000, None),
        "T001": ("洗车体验卡", "卡项", "trial_card", 990, None),
        "G001": ("环保购物袋", "赠品", "goods", 500, None),
    }
    for sku, (name, category, kind, price, member) in expected.items():
        v = by_sku[sku]
        assert (v.name, v.category, v.kind, v.price_fen, v.member_price_fen) == (
            name,
            category,
            kind,
            price,
            member,
        ), sku
    assert "6921168509256" in by_sku["D001"].barcodes
    assert (by_sku["W001"].earns_points, by_sku["W001"].takes_discounts) == (False, False)
    passes = {
        "C010": {"services": {"SV01": 10}, "valid_days": 365},
        "C030": {"services": {"SV02": None}, "valid_days": 30},
        "P001": {"services": {"SV01": 5, "SV03": 5}, "valid_days": 180},
        "T001": {"services": {"SV01": 1}, "valid_days": 30},
    }
    for sku, spec in passes.items():
        card = by_sku[sku]
        assert card.pass_spec == spec
        assert (card.earns_points, card.takes_discounts) == (True, False)
    for v in views:
        if v.kind == "goods" and v.sold_by_weight:
            # Loose goods carry the 5-digit PLU their scale labels print, priced per kg or 斤.
            assert v.unit in ("kg", "斤") and any(len(c) == 5 for c in v.barcodes), v.sku
        elif v.kind == "goods":
            assert v.barcodes and all(ean13_ok(code) for code in v.barcodes), v.sku
        if v.member_price_fen is not None:
            assert v.member_price_fen < v.price_fen

    # The example promotions name products and categories of the demo catalogue.
    rules = tomllib.loads(EXAMPLE_RULES.read_text(encoding="utf-8"))
    categories = {v.category for v in views}
    for promotion in rules.get("promotion", []):
        assert set(promotion.get("skus", [])) <= set(by_sku), promotion["code"]
        assert set(promotion.get("categories", [])) <= categories, promotion["code"]
        if "gift_sku" in promotion:
            assert promotion["gift_sku"] in by_sku

    # Loading it again changes nothing.
    again = load_demo_catalogue(store.ctx, store.manager)
    assert (again.created, again.updated, again.unchanged) == (0, 0, report.created)
