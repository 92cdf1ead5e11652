"""`pos-app report sales|liabilities`, `sale journal|reprint`, `member history` and the
`--xlsx/--csv` exports through click's CliRunner against a real store."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.test_cli import CARD, PIN, Cli, build_template, copy_store

CATALOGUE = Path(__file__).resolve().parent.parent / "pos_app" / "resources" / "demo_catalogue.csv"


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-journal-template") / "store"
    build_template(data_dir)  # member 张三 with card 88880001, PIN 123456, ¥500 + ¥50
    c = Cli(data_dir)
    c.ok("product", "import", CATALOGUE, as_="manager")
    c.ok("shift open --float 500", as_="cashier")
    return data_dir


@pytest.fixture
def c(template_dir: Path, tmp_path: Path) -> Cli:
    return Cli(copy_store(template_dir, tmp_path / "store"))


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def test_sale_still_sells_and_journal_finds_by_member_and_amount(c: Cli) -> None:
    walk_in = c.json("sale --line D001:3 --pay cash", as_="cashier")["receipt_no"]
    member = c.json(f"sale --card {CARD} --pin {PIN} --line H001 --pay cash", as_="cashier")
    found = c.json(f"sale journal --member {CARD}", as_="cashier")
    assert [r["receipt_no"] for r in found["receipts"]] == [member["receipt_no"]]
    everything = c.json(f"sale journal --from {today()} --to {today()}", as_="cashier")
    assert [r["receipt_no"] for r in everything["receipts"]] == [member["receipt_no"], walk_in]
    by_amount = c.json("sale journal --amount 6", as_="cashier")
    assert [r["receipt_no"] for r in by_amount["receipts"]] == [walk_in]
    paged = c.json("sale journal --per-page 1 --page 2", as_="cashier")
    assert [r["receipt_no"] for r in paged["receipts"]] == [walk_in] and not paged["has_more"]
    people = c.ok("sale journal", as_="cashier").stdout
    assert walk_in in people and "¥6.00" in people


def test_sale_reprint_is_marked(c: Cli) -> None:
    sold = c.json("sale --line D001 --pay cash", as_="cashier")["receipt_no"]
    again = c.run(f"sale reprint {sold}", as_="cashier")
    assert again.exit_code == 0 and "补打" in again.stdout  # the receipt says so
    assert c.json(f"sale reprint {sold}", as_="cashier")["receipt"]["reprint"] is True


def test_member_history_by_mobile(c: Cli) -> None:
    sold = c.json(f"sale --card {CARD} --pin {PIN} --line D001 --pay cash", as_="cashier")
    h = c.json("member history 13800138000", as_="cashier")
    assert [(x["kind"], x["receipt_no"], x["amount_fen"]) for x in h["lines"]] == [
        ("sale", sold["receipt_no"], 200),
        ("topup", None, 50_000),
    ]


def test_report_sales_top_and_csv(c: Cli, tmp_path: Path) -> None:
    c.ok("sale --line D001:3 --line S001 --pay cash", as_="cashier")
    out = tmp_path / "sales.csv"
    r = c.json(f"report sales --from {today()} --to {today()} --top 1 --csv {out}", as_="manager")
    assert [(p["key"], p["qty"], p["net_fen"]) for p in r["products"]] == [("S001", 1, 750)]
    assert r["figures"]["delivered_fen"] == 600 + 750
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert ["S001", "乐事薯片", "1", "7.50", "7.50", "56"] in rows
    assert not list(tmp_path.glob(".sales.csv.*"))  # no temp file left behind


def test_report_liabilities_and_x_report_to_xlsx(c: Cli, tmp_path: Path) -> None:
    c.json(f"sale --card {CARD} --pin {PIN} --line C010 --pay cash", as_="cashier")
    owed = c.json(f"report liabilities --date {today()}", as_="manager")
    assert (owed["sv_principal_fen"], owed["sv_bonus_fen"]) == (50_000, 5_000)
    assert owed["passes"] == [{"kind": "count", "passes": 1, "uses_left": 10, "value_fen": 40_000}]
    book_path = tmp_path / "x.xlsx"
    c.ok(f"report x --xlsx {book_path}", as_="cashier")
    cells = {row[0]: row[1] for row in load_workbook(book_path).active.iter_rows(values_only=True)}
    # The shift opened after the top-up: it took the ¥400 card, all of it prepaid.
    assert cells["收款合计 Received total"] == 400
    assert cells["预收合计 Prepaid total"] == 400
    assert cells["销售（商品与服务） Delivered"] == 0
    refused = c.run("report liabilities", as_="cashier")
    assert refused.exit_code != 0
