"""`pos-app product import | list | show` through click's CliRunner against a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from tests.test_cli import PASSWORDS, Cli, copy_store, one_json

HEADER = "sku,barcodes,name,category,unit,kind,price,member_price,pass_services,pass_valid_days\n"
GOOD = (
    HEADER
    + "D001,6921168509256,农夫山泉550ml,饮品,瓶,,2.00,,,\n"
    + "D002,6901939621257|6901939621264,可口可乐330ml,饮品,罐,,3.50,3.00,,\n"
    + "SV01,,精致洗车,服务,次,服务,50,,,\n"
    + "C010,,洗车10次卡,卡项,张,次卡,400,,SV01*10,365\n"
)
BAD = GOOD + "D003,,冰红茶,饮品,瓶,,3.005,,,\n" + "D004,6921168509256,王老吉,饮品,罐,,4,,,\n"


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("product-cli") / "store"
    c = Cli(data_dir)
    c.ok(
        "init --store-code sh01 --store-name 上海南京路店 --admin-login admin "
        "--admin-password admin123"
    )
    for login, name in (("manager", "李店长"), ("cashier", "王收银")):
        c.ok(
            f"operator add --login {login} --name {name} --role {login} "
            f"--password {PASSWORDS[login]}",
            as_="admin",
        )
    return data_dir


@pytest.fixture
def c(template_dir: Path, tmp_path: Path) -> Cli:
    return Cli(copy_store(template_dir, tmp_path / "store"))


def write(tmp_path: Path, text: str, name: str = "products.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_then_list_and_show(c: Cli, tmp_path: Path) -> None:
    result = c.run("product", "import", write(tmp_path, GOOD), as_="manager", json=True)
    assert result.exit_code == 0, result.stderr
    data = one_json(result.stdout)  # progress stays on stderr
    assert (data["imported"], data["created"], data["rows"], data["problems"]) == (True, 4, 4, [])
    assert "4/4" in result.stderr

    text = c.ok("product", "import", write(tmp_path, GOOD), as_="manager").stdout
    assert "未变 Unchanged" in text and "4" in text

    listed = c.json("product list --category 饮品", as_="cashier")
    assert [p["sku"] for p in listed["products"]] == ["D001", "D002"]
    assert listed["products"][1]["barcodes"] == ["6901939621257", "6901939621264"]
    found = c.json("product list --search 洗车", as_="cashier")
    assert [p["sku"] for p in found["products"]] == ["C010", "SV01"]

    shown = c.json("product show 6901939621264", as_="cashier")
    assert (shown["sku"], shown["price_fen"], shown["member_price_fen"]) == ("D002", 350, 300)
    card = c.json("product show c010", as_="cashier")
    assert card["pass_spec"] == {"services": {"SV01": 10}, "valid_days": 365}
    people = c.ok("product show C010", as_="cashier").stdout
    assert "次卡 count card" in people and "SV01×10 / 365 天 days" in people
    table = c.ok("product list", as_="cashier").stdout
    assert "4 个商品" in table and "¥3.50" in table


def test_a_file_with_problems_exits_2_and_imports_nothing(c: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    result = c.run("product", "import", path, as_="manager")
    assert result.exit_code == 2
    assert "未导入任何商品" in result.stderr
    lines = result.stdout.splitlines()
    assert any("6" in line and "price" in line and "两位小数" in line for line in lines)
    assert any("7" in line and "barcodes" in line and "第 2 行" in line for line in lines)
    assert c.json("product list", as_="manager")["count"] == 0

    data = c.json("product", "import", path, as_="manager", code=2, lang="en")
    assert data["error"] == "invalid_input" and data["imported"] is False
    assert [(p["row"], p["column"]) for p in data["problems"]] == [(6, "price"), (7, "barcodes")]
    assert data["problems"][0]["reason"] == data["problems"][0]["reason_en"]
    assert "two decimals" in data["problems"][0]["reason"]


def test_good_rows_only_imports_the_rest_and_exits_0(c: Cli, tmp_path: Path) -> None:
    data = c.json("product", "import", write(tmp_path, BAD), "--good-rows-only", as_="manager")
    assert (data["imported"], data["created"], data["skipped"]) == (True, 4, 2)
    assert [p["row"] for p in data["problems"]] == [6, 7]
    assert c.json("product list", as_="manager")["count"] == 4


def test_an_xlsx_file_imports(c: Cli, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["编码", "条码", "名称", "分类", "售价", "会员价"])
    sheet.append(["F001", 6900000020015, "红富士苹果", "水果", 12.8, 11.8])
    path = tmp_path / "apples.xlsx"
    book.save(path)
    data = c.json("product", "import", path, as_="manager")
    assert data["created"] == 1
    shown = c.json("product show 6900000020015", as_="cashier")
    assert (shown["sku"], shown["price_fen"], shown["member_price_fen"]) == ("F001", 1280, 1180)


def test_refusals_and_unknown_codes(c: Cli, tmp_path: Path) -> None:
    refused = c.json("product", "import", write(tmp_path, GOOD), as_="cashier", code=1)
    assert refused["error"] == "permission_denied"
    missing = c.json("product show 123456", as_="cashier", code=1)
    assert missing["error"] == "not_found" and "没有这个商品：123456" in missing["message"]
    unsupported = c.json("product", "import", write(tmp_path, "x", "a.xls"), as_="manager", code=2)
    assert unsupported["error"] == "invalid_input"
