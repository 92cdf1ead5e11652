"""`pos-app shift ...` and `pos-app report ...` through click's CliRunner on a real store.

The CLI runs on the real clock, so "today" is the machine's business day in Shanghai.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pos_app.domain.text_width import display_width
from tests.test_cli import CARD, PIN, Cli, build_template, copy_store, one_json


@pytest.fixture(scope="module")
def shift_template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-shift-template") / "store"
    build_template(data_dir)
    return data_dir


@pytest.fixture
def c(shift_template_dir: Path, tmp_path: Path) -> Cli:
    return Cli(copy_store(shift_template_dir, tmp_path / "store"))


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def trading(c: Cli) -> None:
    """Shift 1: float ¥200, paid in ¥50, paid out ¥20, a cash top-up of ¥100."""
    c.ok("shift open --float 200", as_="cashier")
    c.ok("shift paid-in 50 --reason 换零钱", as_="cashier")
    c.ok("shift paid-out 20 --reason 快递费", as_="cashier")
    c.ok(f"topup {CARD} 100", as_="cashier")


def test_shift_open_status_and_a_second_open(c: Cli) -> None:
    assert c.json("shift status", as_="cashier") == {"shift": None}
    opened = c.json("shift open --float 200.50", as_="cashier")
    assert (opened["shift_no"], opened["float_fen"], opened["state"]) == (2, 20_050, "open")
    assert opened["business_day"] == today() and opened["opened_by"] == "cashier"
    status = c.json("shift status", as_="cashier")["shift"]
    assert status["id"] == opened["id"]
    again = c.json("shift open --float 100", as_="cashier", code=1)
    assert again["error"] == "already_exists"
    # Another operator is told whose drawer it is: it is handed over first, never joined.
    held = c.json("shift open --float 100", as_="manager", code=1)
    assert held["error"] == "shift_held_by_other" and "王收银" in held["message"]
    people = c.ok("shift status", as_="cashier").stdout
    assert "¥200.50" in people and "未交班 open" in people


def test_cash_moves_and_their_refusals(c: Cli) -> None:
    no_shift = c.json("shift paid-in 50 --reason x", as_="cashier", code=1)
    assert no_shift["error"] == "shift_required" and "shift open" in no_shift["message"]
    c.ok("shift open --float 100", as_="cashier")
    moved = c.json("shift paid-in 50 --reason 换零钱", as_="cashier")
    assert (moved["kind"], moved["amount_fen"], moved["reason"]) == (
        "cash_paid_in",
        5_000,
        "换零钱",
    )
    assert moved["expected_cash_fen"] == 15_000
    assert c.json("shift paid-out -5 --reason x", as_="cashier", code=2)["error"] == "invalid_input"
    missing = c.run("shift paid-out 5", as_="cashier")
    assert missing.exit_code == 2 and "--reason" in missing.stderr
    short = c.json("shift paid-out 150.01 --reason 存银行", as_="cashier", code=1)
    assert short["error"] == "insufficient_balance"
    c.entries()  # the ledger still verifies


def test_x_close_and_z_reports(c: Cli) -> None:
    trading(c)
    x = c.json("report x", as_="cashier")
    assert x["kind"] == "x" and x["shift"]["shift_no"] == 2
    cash = x["figures"]["cash"]
    assert cash["expected_fen"] == 20_000 + 5_000 - 2_000 + 10_000 == 33_000
    assert cash["counted_fen"] is None
    assert x["figures"]["topups"] == [
        {"tender": "cash", "count": 1, "amount_fen": 10_000, "bonus_fen": 0}
    ]

    narrow = c.ok("report x --width 32", as_="cashier").stdout
    assert "X 报表（班中）" in narrow and "¥330.00" in narrow
    assert all(display_width(line) <= 32 for line in narrow.splitlines())

    closed = c.json("shift close --counted 329", as_="cashier")
    assert closed["kind"] == "z" and closed["shift"]["state"] == "closed"
    assert (
        closed["figures"]["cash"]["counted_fen"],
        closed["figures"]["cash"]["over_short_fen"],
    ) == (
        32_900,
        -100,
    )
    assert c.json("report z", as_="cashier") == closed
    assert c.json("report z --shift 2", as_="cashier") == closed
    english = c.ok("report z --shift 2", as_="cashier", lang="en").stdout
    assert "Z REPORT (shift close)" in english and "-¥1.00" in english
    assert c.json("report z --shift 7", as_="cashier", code=1)["error"] == "not_found"
    assert c.json("shift close --counted 1", as_="cashier", code=2)["error"] == "invalid_input"
    c.entries()


def test_day_close_once_by_a_manager(c: Cli) -> None:
    trading(c)
    still_open = c.json("report day-close", as_="manager", code=2)
    assert still_open["error"] == "invalid_input"
    c.ok("shift close --counted 330", as_="cashier")
    denied = c.json("report day-close", as_="cashier", code=1)
    assert denied["error"] == "approval_required"  # a cashier only with a manager on the spot

    day = c.json("report day-close", as_="manager")
    assert (day["kind"], day["day"], day["closed"], day["closed_by"]) == (
        "day",
        today(),
        True,
        "manager",
    )
    # The day also holds the template's shift, which took a ¥500 cash top-up and was counted
    # right: the day is the sum of its shifts, and settles to ¥0.00.
    cash = day["figures"]["cash"]
    assert cash["expected_fen"] == 50_000 + 20_000 + 10_000 + 5_000 - 2_000 == 83_000
    assert (cash["counted_fen"], cash["over_short_fen"]) == (83_000, 0)
    assert day["shifts"][0]["expected_cash_fen"] == day["shifts"][0]["counted_fen"] == 50_000
    assert day["shifts"][1]["expected_cash_fen"] == day["shifts"][1]["counted_fen"] == 33_000
    assert [(x["login"], x["over_short_fen"]) for x in day["cashiers"]] == [("cashier", 0)]
    assert [s["shift_no"] for s in day["shifts"]] == [1, 2]
    entries = c.entries()
    assert c.json("report day-close", as_="manager") == day  # again: the record, no new entry
    assert c.entries() == entries
    assert c.json(f"report z --day {today()}", as_="manager") == day
    people = c.ok(f"report z --day {today()}", as_="manager").stdout
    assert "日结报表" in people and "已交班 closed" in people


def test_range_and_staff_reports(c: Cli) -> None:
    trading(c)
    r = c.json(f"report range --from {today()} --to {today()}", as_="manager")
    assert r["kind"] == "range" and len(r["days"]) == 1
    # The template's ¥500 top-up was made today too.
    assert r["days"][0]["topups_fen"] == 60_000 == r["figures"]["topups_fen"]
    people = c.ok(f"report range --from {today()} --to {today()}", as_="manager").stdout
    assert "营业报表" in people and "每日 By day" in people
    staff = c.json(f"report staff --from {today()} --to {today()}", as_="manager")["staff"]
    assert [(s["login"], s["topups_count"], s["topups_fen"]) for s in staff] == [
        ("cashier", 2, 60_000)
    ]
    assert c.json("report range --from 2026-03-02 --to 2026-03-01", as_="manager", code=2)
    bad = c.run("report range --from 2026-3-x --to 2026-03-01", as_="manager", lang="en")
    assert bad.exit_code == 2 and "--from: not a date" in bad.stderr
    denied = c.json(f"report range --from {today()} --to {today()}", as_="cashier", code=1)
    assert denied["error"] == "approval_required"
    assert one_json(c.run("report x", as_="cashier", json=True).stdout)["figures"]["net_fen"] == 0


def test_sales_refund_verify_and_a_z_report_that_adds_up(c: Cli) -> None:
    catalogue = Path(__file__).resolve().parent.parent / "pos_app" / "resources"
    c.ok("product", "import", catalogue / "demo_catalogue.csv", as_="manager")
    c.ok("shift open --float 100", as_="cashier")
    cash_sale = c.json("sale --line D001:2 --line S001 --pay cash:20", as_="cashier")
    assert (cash_sale["total_fen"], cash_sale["change_fen"]) == (1_150, 850)
    c.ok(f"sale --card {CARD} --pin {PIN} --line H001 --pay stored_value", as_="cashier")
    c.ok("sale --line S001:2 --pay wechat:5:WX123 --pay alipay", as_="cashier")
    c.ok(f"refund {cash_sale['receipt_no']} --line D001:1", as_="cashier")
    c.entries()  # verify: balances, points and the chain check out after the refund

    z = c.json("shift close --counted 121.50", as_="cashier")["figures"]
    assert (z["sales_count"], z["sales_fen"], z["refunds_fen"]) == (3, 1_150 + 3_990 + 1_500, 200)
    assert z["net_fen"] == z["tenders_net_fen"] == 6_440  # tenders = sales − refunds
    tenders = {t["tender"]: t["net_fen"] for t in z["tenders"]}
    assert tenders == {"cash": 950, "wechat": 500, "alipay": 1_000, "stored_value": 3_990}
    cash = z["cash"]
    assert cash["expected_fen"] == cash["float_fen"] + cash["in_fen"] - cash["out_fen"]
    assert cash["expected_fen"] == 10_000 + 1_150 - 200 == 10_950
    assert cash["over_short_fen"] == 12_150 - 10_950
    assert (z["sv_principal_used_fen"], z["member_sales_count"]) == (3_990, 1)
