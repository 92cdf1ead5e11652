"""The catalogue file's rules: every problem named by row, column and reason; upserts that keep
what a file leaves out; card passes checked against the services they name."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pytest

from pos_app.domain.catalogue import (
    CatalogueCheck,
    CatalogueProduct,
    Cell,
    RowProblem,
    cell_text,
    check_catalogue,
    pass_spec_text,
)
from pos_app.domain.passes import parse_pass_spec

HEADER = [
    "sku",
    "barcodes",
    "name",
    "category",
    "price",
    "member_price",
    "kind",
    "pass_services",
    "pass_valid_days",
]
WASH = CatalogueProduct("SV01", "精致洗车", "服务", 5000, kind="service")
WAX = CatalogueProduct("SV03", "打蜡护理", "服务", 8000, kind="service")
WATER = CatalogueProduct("D001", "农夫山泉550ml", "饮品", 200, barcodes=("6921168509256",))


def check(
    rows: Sequence[Sequence[Cell]],
    header: Sequence[Cell] = HEADER,
    existing: Sequence[CatalogueProduct] = (),
) -> CatalogueCheck:
    """Rows numbered as a spreadsheet does: the header is row 1, the first data row is 2."""
    by_sku: Mapping[str, CatalogueProduct] = {p.sku: p for p in existing}
    owners = {code: p.sku for p in existing for code in p.barcodes}
    return check_catalogue(header, list(enumerate(rows, start=2)), by_sku, owners)


def where(result: CatalogueCheck) -> list[tuple[int, str]]:
    return [(p.row, p.column) for p in result.problems]


def only_problem(result: CatalogueCheck) -> RowProblem:
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def products(result: CatalogueCheck) -> dict[str, CatalogueProduct]:
    return {p.product.sku: p.product for p in result.planned}


# -- good files ------------------------------------------------------------------------------


def test_a_good_file_gives_products_in_fen_with_their_passes() -> None:
    result = check(
        [
            [
                "d002",
                "6901939621257|6901939621264",
                "可口可乐330ml",
                "饮品",
                "3.50",
                "3",
                "",
                "",
                "",
            ],
            ["SV01", "", "精致洗车", "服务", "50", "", "服务", "", ""],
            ["SV03", "", "打蜡护理", "服务", "80", "", "service", "", ""],
            ["C010", "", "洗车10次卡", "卡项", "400.00", "", "次卡", "SV01*10", "365"],
            ["P001", "", "洗车护理套餐", "卡项", "550", "", "套餐", "SV01*5 | sv03×5", "180"],
            ["C030", "", "健身月卡", "卡项", "299", "", "时限卡", "SV01", "30"],
            ["T001", "", "洗车体验卡", "卡项", "9.90", "", "体验卡", "SV01*1", "30"],
        ]
    )
    assert result.ok and result.header_ok, result.problems
    assert result.rows == 7 and result.bad_rows == 0
    got = products(result)
    cola = got["D002"]  # SKUs are kept upper case
    assert cola.barcodes == ("6901939621257", "6901939621264")
    assert (cola.price_fen, cola.member_price_fen) == (350, 300)
    assert (cola.kind, cola.unit, cola.earns_points, cola.takes_discounts, cola.active) == (
        "goods",
        "件",
        True,
        True,
        True,
    )
    assert cola.pass_spec is None and cola.name_en is None
    assert got["SV01"].kind == "service"
    assert got["C010"].kind == "count_card"
    assert json.loads(got["C010"].pass_spec or "") == {"services": {"SV01": 10}, "valid_days": 365}
    assert got["P001"].pass_spec == '{"services": {"SV01": 5, "SV03": 5}, "valid_days": 180}'
    assert json.loads(got["C030"].pass_spec or "") == {"services": {"SV01": None}, "valid_days": 30}
    assert got["T001"].kind == "trial_card"
    assert all(not p.existed and p.changed for p in result.planned)
    assert [p.row for p in result.planned] == [2, 3, 4, 5, 6, 7, 8]


def test_chinese_headers_flags_and_blank_lines() -> None:
    header = ["编码", "条码", "名称", "英文名", "分类", "单位", "售价", "积分", "参与折扣", "在售"]
    result = check(
        [
            [
                "W001",
                "6902523800013",
                "飞天茅台500ml",
                "Moutai",
                "酒水",
                "瓶",
                "1,499.00",
                "否",
                "no",
                "",
            ],
            ["", "", "", "", "", "", "", "", "", ""],  # a blank line: not a row, but counted
            ["S001", "6904570031020", "乐事薯片", "", "零食", "", "¥7.5", "1", "TRUE", "0"],
        ],
        header=header,
    )
    assert result.ok, result.problems
    assert result.rows == 2
    got = products(result)
    moutai = got["W001"]
    assert (moutai.price_fen, moutai.earns_points, moutai.takes_discounts) == (149900, False, False)
    assert (moutai.name_en, moutai.unit) == ("Moutai", "瓶")
    chips = got["S001"]
    assert (chips.price_fen, chips.earns_points, chips.takes_discounts) == (750, True, True)
    assert chips.active is False
    assert [p.row for p in result.planned] == [2, 4]


def test_excel_numbers_come_back_as_the_digits_people_typed() -> None:
    # openpyxl gives whole numbers as int, or as float when Excel stored 6.921168509256E+12.
    assert cell_text(6921168509256) == "6921168509256"
    assert cell_text(6921168509256.0) == "6921168509256"
    assert cell_text(12.8) == "12.8"
    assert cell_text(None) == ""
    result = check(
        [
            ["D001", 6921168509256.0, "农夫山泉550ml", "饮品", 2, None, None, None, None],
            ["F001", 6900000000017, "红富士苹果", "水果", 12.8, 11.8, None, None, None],
            [1001, None, "散装大米", "粮油", 5.5, None, None, None, None],
        ]
    )
    assert result.ok, result.problems
    got = products(result)
    assert got["D001"].barcodes == ("6921168509256",) and got["D001"].price_fen == 200
    assert (got["F001"].price_fen, got["F001"].member_price_fen) == (1280, 1180)
    assert got["F001"].barcodes == ("6900000000017",)
    assert "1001" in got


def test_excel_floats_with_more_than_two_decimals_or_half_barcodes_are_refused() -> None:
    result = check(
        [
            ["D001", 6921168509256.5, "农夫山泉550ml", "饮品", 12.345, None, None, None, None],
        ]
    )
    assert where(result) == [(2, "barcodes"), (2, "price")]
    assert "两位小数" in result.problems[1].reason_zh
    assert result.planned == []


# -- the header ------------------------------------------------------------------------------


def test_unknown_duplicate_and_missing_columns_refuse_the_whole_file() -> None:
    result = check(
        [["D001", "农夫山泉", "饮品", "2", "x", "y"]],
        header=["sku", "name", "Category", "colour", "Name", "库存"],
    )
    assert not result.header_ok
    assert set(where(result)) == {(1, "colour"), (1, "Name"), (1, "库存"), (1, "price")}
    missing = next(p for p in result.problems if p.column == "price")
    assert "缺少必填列" in missing.reason_zh and missing.reason == "missing column price"
    assert result.planned == [] and result.rows == 1 and result.bad_rows == 1


def test_header_names_ignore_case_spaces_and_dashes() -> None:
    header = ["SKU", "Barcode", "Name", "Name EN", "Category", "Price", "Member-Price"]
    result = check([["D002", "6901939621257", "可口可乐", "Coke", "饮品", "3.5", "3"]], header)
    assert result.ok, result.problems
    assert products(result)["D002"].name_en == "Coke"


# -- problems, each with its row and column ----------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "zh_part"),
    [
        (["", "", "无编码", "饮品", "2", "", "", "", ""], "sku", "缺少编码"),
        (["D 0@1", "", "怪编码", "饮品", "2", "", "", "", ""], "sku", "编码只能包含"),
        (["D001", "", "", "饮品", "2", "", "", "", ""], "name", "缺少名称"),
        (["D001", "", "水", "", "2", "", "", "", ""], "category", "缺少分类"),
        (["D001", "", "水" * 81, "饮品", "2", "", "", "", ""], "name", "太长"),
        (["D001", "", "水", "饮品", "", "", "", "", ""], "price", "缺少售价"),
        (["D001", "", "水", "饮品", "abc", "", "", "", ""], "price", "金额格式不正确"),
        (["D001", "", "水", "饮品", "2.005", "", "", "", ""], "price", "两位小数"),
        (["D001", "", "水", "饮品", "-5", "", "", "", ""], "price", "不带正负号"),
        (["D001", "", "水", "饮品", "50,00", "", "", "", ""], "price", "逗号只能分隔千位"),
        (["D001", "", "水", "饮品", "1e2", "", "", "", ""], "price", "金额格式不正确"),
        (["D001", "", "水", "饮品", "5_0", "", "", "", ""], "price", "金额格式不正确"),
        (["D001", "", "水", "饮品", "١٢", "", "", "", ""], "price", "金额格式不正确"),
        (["D001", "", "水", "饮品", "1000001", "", "", "", ""], "price", "金额过大"),
        (["D001", "", "水", "饮品", "0", "", "", "", ""], "price", "大于零"),
        (["D001", "", "水", "饮品", "2", "2.5", "", "", ""], "member_price", "会员价不能高于售价"),
        (["D001", "", "水", "饮品", "2", "", "礼品卡", "", ""], "kind", "未知的类型"),
        (["D001", "6.92117E+12", "水", "饮品", "2", "", "", "", ""], "barcodes", "科学计数法"),
        (["D001", "6921 168", "水", "饮品", "2", "", "", "", ""], "barcodes", "条码只能包含"),
        (["D001", "", "水", "饮品", "2", "", "", "SV01*2", ""], "pass_services", "只有次卡"),
        (["D001", "", "水", "饮品", "2", "", "", "", "30"], "pass_valid_days", "只有次卡"),
        (["C010", "", "卡", "卡项", "400", "", "次卡", "", "365"], "pass_services", "缺少次卡服务"),
        (["C010", "", "卡", "卡项", "400", "", "次卡", "SV01", "365"], "pass_services", "缺少次数"),
        (["C010", "", "卡", "卡项", "400", "", "次卡", "SV01*0", "365"], "pass_services", "1 到"),
        (
            ["C010", "", "卡", "卡项", "400", "", "次卡", "SV01*1.5", "365"],
            "pass_services",
            "的整数",
        ),
        (
            ["C010", "", "卡", "卡项", "400", "", "次卡", "SV01*-2", "365"],
            "pass_services",
            "的整数",
        ),
        (
            ["C010", "", "卡", "卡项", "400", "", "次卡", "SV01*2|SV01*3", "9"],
            "pass_services",
            "两次",
        ),
        (
            ["C030", "", "卡", "卡项", "299", "", "时限卡", "SV01*30", "30"],
            "pass_services",
            "不限次数",
        ),
        (
            ["C010", "", "卡", "卡项", "400", "", "次卡", "SV01*10", ""],
            "pass_valid_days",
            "缺少有效天数",
        ),
        (["C010", "", "卡", "卡项", "400", "", "次卡", "SV01*10", "0"], "pass_valid_days", "1 到"),
        (["C010", "", "卡", "卡项", "400", "", "次卡", "SV01*²", "9"], "pass_services", "的整数"),
        (
            ["C010", "", "卡", "卡项", "400", "", "次卡", "SV01*10", "²"],
            "pass_valid_days",
            "的整数",
        ),
        (["C010", "", "卡", "卡项", "400", "", "次卡", "SV01*1_0", "9"], "pass_services", "的整数"),
        (
            ["C010", "", "卡", "卡项", "400", "", "次卡", "SV01*10", "一年"],
            "pass_valid_days",
            "整数",
        ),
        (
            ["C010", "", "卡", "卡项", "400", "", "次卡", "SV99*10", "365"],
            "pass_services",
            "没有这个服务",
        ),
        (
            ["C010", "", "卡", "卡项", "400", "", "次卡", "D001*10", "365"],
            "pass_services",
            "不是服务项目",
        ),
        (["D009", "6921168509256", "水", "饮品", "2", "", "", "", ""], "barcodes", "已被商品 D001"),
    ],
)
def test_each_problem_is_reported_with_its_row_and_column(
    row: list[str], column: str, zh_part: str
) -> None:
    rows = [["G001", "", "购物袋", "赠品", "5", "", "", "", ""], row]
    result = check(rows, existing=[WASH, WATER])
    problem = only_problem(result)
    assert (problem.row, problem.column) == (3, column)
    assert zh_part in problem.reason_zh, problem.reason_zh
    assert problem.reason and problem.reason != problem.reason_zh  # an English text too
    assert [p.product.sku for p in result.planned] == ["G001"]  # the good row stays good
    assert result.bad_rows == 1


def test_every_problem_of_a_row_is_reported_not_just_the_first() -> None:
    result = check([["", "", "", "饮品", "abc", "", "什么", "", ""]])
    assert where(result) == [(2, "sku"), (2, "name"), (2, "kind"), (2, "price")]


def test_duplicates_in_the_file_name_the_row_they_repeat() -> None:
    result = check(
        [
            ["D001", "6921168509256", "农夫山泉", "饮品", "2", "", "", "", ""],
            ["D002", "6901939621257", "可乐", "饮品", "3.5", "", "", "", ""],
            ["d001", "", "农夫山泉大瓶", "饮品", "4", "", "", "", ""],
            ["D003", "6921168509256|6923318101051", "冰红茶", "饮品", "3", "", "", "", ""],
        ]
    )
    assert where(result) == [(4, "sku"), (5, "barcodes")]
    assert "第 2 行" in result.problems[0].reason_zh
    assert result.problems[1].reason == "barcode 6921168509256 is also on row 2 (D001)"
    assert sorted(products(result)) == ["D001", "D002"]


def test_a_row_wider_than_the_header_is_refused_a_shorter_one_is_padded() -> None:
    result = check(
        [
            ["D001", "", "水", "饮品", "2", "", "", "", "", "多余"],
            ["D002", "", "可乐", "饮品", "3.5"],
        ]
    )
    assert where(result) == [(2, "")]
    assert "超出了表头" in result.problems[0].message("zh")
    assert result.problems[0].message("en").startswith("row 2: ")
    assert sorted(products(result)) == ["D002"]


def test_a_problem_message_reads_in_either_language() -> None:
    problem = RowProblem(7, "price", "金额格式不正确", "Not an amount", "abc")
    assert problem.message("zh") == "第 7 行，price：金额格式不正确"
    assert problem.message("en") == "row 7, price: Not an amount"


# -- cards and their services ------------------------------------------------------------------


def test_services_may_come_from_the_file_or_the_catalogue_but_must_be_services() -> None:
    result = check(
        [
            ["SV02", "", "健身单次", "服务", "30", "", "service", "", ""],
            ["C030", "", "健身月卡", "卡项", "299", "", "time_card", "SV02", "30"],
            ["P001", "", "套餐", "卡项", "550", "", "package", "SV01*5|SV03*5", "180"],
        ],
        existing=[WASH, WAX],
    )
    assert result.ok, result.problems


def test_a_card_whose_service_row_is_refused_is_refused_too() -> None:
    result = check(
        [
            ["SV05", "", "抛光", "服务", "abc", "", "service", "", ""],
            ["C050", "", "抛光5次卡", "卡项", "200", "", "count_card", "SV05*5", "90"],
        ]
    )
    assert where(result) == [(2, "price"), (3, "pass_services")]
    assert "第 2 行有错误" in result.problems[1].reason_zh
    assert result.planned == [] and result.bad_rows == 2


def test_a_service_that_an_existing_card_sells_must_stay_a_service() -> None:
    card = CatalogueProduct(
        "C010",
        "洗车10次卡",
        "卡项",
        40000,
        kind="count_card",
        pass_spec=pass_spec_text({"SV01": 10}, 365),
    )
    result = check(
        [["SV01", "", "精致洗车", "服务", "50", "", "goods", "", ""]], existing=[WASH, card]
    )
    problem = only_problem(result)
    assert (problem.row, problem.column) == (2, "kind")
    assert "C010" in problem.reason_zh


def test_a_file_without_the_pass_columns_keeps_a_cards_pass() -> None:
    card = CatalogueProduct(
        "C010",
        "洗车10次卡",
        "卡项",
        40000,
        kind="count_card",
        takes_discounts=False,
        pass_spec=pass_spec_text({"SV01": 10}, 365),
    )
    result = check(
        [["C010", "洗车十次卡", "卡项", "380"]],
        header=["sku", "name", "category", "price"],
        existing=[WASH, card],
    )
    assert result.ok, result.problems
    got = products(result)["C010"]
    assert (got.kind, got.pass_spec, got.takes_discounts) == ("count_card", card.pass_spec, False)
    assert (got.name, got.price_fen) == ("洗车十次卡", 38000)
    assert result.planned[0].existed and result.planned[0].changed


# -- upserts -----------------------------------------------------------------------------------


def test_left_out_columns_keep_the_existing_values_and_same_rows_are_unchanged() -> None:
    cola = CatalogueProduct(
        "D002",
        "可口可乐330ml",
        "饮品",
        350,
        barcodes=("6901939621257",),
        name_en="Coke",
        unit="罐",
        member_price_fen=300,
        earns_points=False,
    )
    header = ["sku", "name", "category", "price"]
    same = check([["D002", "可口可乐330ml", "饮品", "3.50"]], header, existing=[cola])
    assert same.ok and same.planned[0].existed and not same.planned[0].changed
    assert products(same)["D002"] == cola

    dearer = check([["D002", "可口可乐330ml", "饮品", "3.80"]], header, existing=[cola])
    assert products(dearer)["D002"] == CatalogueProduct(
        "D002",
        "可口可乐330ml",
        "饮品",
        380,
        barcodes=("6901939621257",),
        name_en="Coke",
        unit="罐",
        member_price_fen=300,
        earns_points=False,
    )
    assert dearer.planned[0].changed

    # Given but empty: the default, or none.
    cleared = check(
        [["D002", "", "可口可乐330ml", "饮品", "3.50", "", "", "", ""]], existing=[cola]
    )
    got = products(cleared)["D002"]
    assert (got.barcodes, got.member_price_fen, got.unit, got.name_en) == ((), None, "罐", "Coke")


def test_a_barcode_may_move_between_products_in_one_file() -> None:
    cola = CatalogueProduct("D002", "可乐", "饮品", 350, barcodes=("6901939621257",))
    result = check(
        [
            ["D002", "", "可乐", "饮品", "3.5", "", "", "", ""],
            ["D012", "6901939621257", "可乐新包装", "饮品", "3.5", "", "", "", ""],
        ],
        existing=[cola],
    )
    assert result.ok, result.problems


def test_a_barcode_its_owner_keeps_because_the_owners_row_was_refused() -> None:
    cola = CatalogueProduct("D002", "可乐", "饮品", 350, barcodes=("6901939621257",))
    result = check(
        [
            ["D002", "", "可乐", "饮品", "x", "", "", "", ""],
            ["D012", "6901939621257", "可乐新包装", "饮品", "3.5", "", "", "", ""],
        ],
        existing=[cola],
    )
    assert where(result) == [(2, "price"), (3, "barcodes")]
    assert result.planned == []


def test_what_the_catalogue_stores_is_what_selling_a_card_reads() -> None:
    rows = [
        ["SV01", "", "精致洗车", "服务", "50", "", "service", "", ""],
        ["C999", "", "大次卡", "卡项", "400", "", "count_card", "SV01*9999", "3660"],
        ["C030", "", "月卡", "卡项", "299", "", "time_card", "SV01", "1"],
        ["P001", "", "套餐", "卡项", "550", "", "package", "SV01*5|SV03*1", "180"],
        ["T001", "", "体验卡", "卡项", "9.9", "", "trial_card", "SV01*1", "30"],
        ["C998", "", "太多次", "卡项", "400", "", "count_card", "SV01*10000", "30"],
        ["C997", "", "太久", "卡项", "400", "", "count_card", "SV01*1", "3661"],
    ]
    result = check(rows, existing=[WAX])
    assert where(result) == [(7, "pass_services"), (8, "pass_valid_days")]
    for planned in result.planned:
        product = planned.product
        if product.pass_spec is not None:
            spec = parse_pass_spec(product.kind, product.pass_spec)
            assert spec.services == json.loads(product.pass_spec)["services"]


# -- goods sold by weight --------------------------------------------------------------------

WEIGHED_HEADER = ["sku", "barcodes", "name", "category", "price", "单位", "称重", "kind"]


def test_goods_sold_by_weight_are_priced_per_kg_or_jin() -> None:
    result = check(
        [
            ["F005", "10005", "苹果", "水果", "12.80", "公斤", "是", ""],
            ["F006", "10006", "香蕉", "水果", "3.49", "斤", "yes", ""],
            ["F001", "", "盒装苹果", "水果", "12.80", "kg", "", ""],
        ],
        WEIGHED_HEADER,
    )
    assert result.ok, result.problems
    got = products(result)
    assert (got["F005"].sold_by_weight, got["F005"].unit) == (True, "kg")
    assert (got["F006"].sold_by_weight, got["F006"].unit) == (True, "斤")
    # A unit of kg alone does not make a product weighed: a 1 kg bag is sold by the bag.
    assert got["F001"].sold_by_weight is False


def test_a_weighed_product_needs_a_weight_unit_and_to_be_goods() -> None:
    result = check(
        [
            ["F007", "", "西瓜", "水果", "2.00", "个", "yes", ""],
            ["SV09", "", "称重服务", "服务", "2.00", "kg", "yes", "service"],
        ],
        WEIGHED_HEADER,
    )
    assert where(result) == [(2, "unit"), (3, "sold_by_weight")]
    assert "kg" in result.problems[0].reason_zh


def test_a_file_without_the_column_keeps_a_weighed_product_weighed() -> None:
    apples = CatalogueProduct("F005", "苹果", "水果", 1280, unit="kg", sold_by_weight=True)
    result = check([["F005", "", "苹果", "水果", "11.80"]], HEADER[:5], existing=[apples])
    assert products(result)["F005"].sold_by_weight is True
