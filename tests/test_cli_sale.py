"""`pos-app sale | refund | reprint` through click's CliRunner against a real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_app.domain.text_width import display_width
from tests.test_cli import CARD, PIN, Cli, build_template, copy_store

CATALOGUE = Path(__file__).resolve().parent.parent / "pos_app" / "resources" / "demo_catalogue.csv"


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-sale-template") / "store"
    build_template(data_dir)  # member 张三 with card 88880001, PIN 123456, ¥500 + ¥50
    c = Cli(data_dir)
    c.ok("product", "import", CATALOGUE, as_="manager")
    c.ok("shift open --float 500", as_="cashier")
    return data_dir


@pytest.fixture
def c(template_dir: Path, tmp_path: Path) -> Cli:
    return Cli(copy_store(template_dir, tmp_path / "store"))


def test_member_sale_split_stored_value_and_cash_prints_the_receipt(c: Cli) -> None:
    out = c.ok(
        f"sale --card {CARD} --pin {PIN} --line V001:3 --line 6921168509256:2 "
        "--pay stored_value:20 --pay cash:50",
        as_="cashier",
    ).stdout
    lines = out.rstrip("\n").splitlines()
    assert all(display_width(line) <= 32 for line in lines), out
    assert "有机菠菜500g" in out and "¥24.40" in out and "找零" in out and "¥45.60" in out
    assert "138****8000" in out and "储值余额" in out and "¥530.00" in out
    assert lines[-1].startswith("SH01-")


def test_sale_json_is_the_receipt_document(c: Cli) -> None:
    data = c.json(
        f"sale --card {CARD} --pin {PIN} --line H001 --line F001:2 --pay stored_value",
        as_="cashier",
    )
    doc = data["receipt"]
    assert data["receipt_no"] == doc["receipt_no"] and data["total_fen"] == 3990 + 2360
    assert [(line["sku"], line["qty"], line["net_fen"]) for line in doc["lines"]] == [
        ("H001", 1, 3990),
        ("F001", 2, 2360),
    ]
    assert doc["lines"][1]["adjustments"][0]["kind"] == "member_price"
    assert doc["tenders"] == [
        {
            "tender": "stored_value",
            "label_zh": "储值卡",
            "label_en": "Stored value",
            "amount_fen": 6350,
            "reference": None,
            "detail_zh": "本金 ¥63.50 赠送 ¥0.00",
            "detail_en": "principal ¥63.50 bonus ¥0.00",
        }
    ]
    assert doc["member"]["stored_value_fen"] == 55000 - 6350
    assert data["points_earned"] == doc["member"]["points_earned"] == 39 + 70
    assert c.entries() > 0  # verify passes


def test_refund_some_lines_then_the_rest_and_reprint(c: Cli) -> None:
    sale = c.json("sale --line D001:3 --line S001 --pay wechat::WX1", as_="cashier")
    no = sale["receipt_no"]
    part = c.json(f"refund {no} --line D001:2", as_="cashier")
    assert part["total_fen"] == -400
    assert part["receipt"]["original_receipt_no"] == no
    rest = c.json(f"refund {no}", as_="cashier")
    assert rest["total_fen"] == -(200 + 750)
    again = c.run(f"refund {no}", as_="cashier", json=True)
    assert again.exit_code == 2 and "全部退完" in again.stderr
    text = c.ok(f"reprint {no} --width 48", as_="cashier").stdout
    assert "补打" in text and all(display_width(x) <= 48 for x in text.splitlines())


def test_refund_above_the_limit_needs_the_approver(c: Cli) -> None:
    sale = c.json("sale --line W001 --pay bank", as_="cashier")
    refused = c.run(f"refund {sale['receipt_no']}", as_="cashier", json=True)
    assert refused.exit_code == 1 and "店长" in refused.stderr
    done = c.json(
        f"refund {sale['receipt_no']}",
        as_="cashier",
        env={"POS_APPROVER": "manager", "POS_APPROVER_PASSWORD": "manager123"},
    )
    assert done["receipt"]["approved_by_name"] == "李店长"


def test_two_small_returns_of_one_receipt_are_one_return_for_the_limit(c: Cli) -> None:
    """Issue 11: a ¥299 receipt returned as 6 + 4 lines needed no approval (limit ¥200)."""
    sale = c.json("sale --line S005:10 --pay cash", as_="cashier")  # 10 × ¥29.90
    no = sale["receipt_no"]
    assert c.json(f"refund {no} --line S005:6", as_="cashier")["total_fen"] == -17940
    refused = c.json(f"refund {no} --line S005:4", as_="cashier", code=1)
    assert refused["error"] == "approval_required"
    done = c.json(
        f"refund {no} --line S005:4 --approver manager --approver-password manager123",
        as_="cashier",
    )
    assert done["total_fen"] == -11960


def test_a_walk_in_receipt_credited_to_the_member_afterwards(c: Cli) -> None:
    """补积分: the customer shows the card after paying; points and tier come from the
    receipt's own lines, once."""
    sale = c.json("sale --line W003:12 --line W001 --pay bank", as_="cashier")
    no = sale["receipt_no"]  # 12 × ¥89 of wine, and a ¥1499 茅台 that earns no points
    claimed = c.json(f"purchase --receipt {no} --card {CARD}", as_="cashier")
    assert (claimed["receipt_no"], claimed["member_no"]) == (no, "SH010000001")
    assert (claimed["amount_fen"], claimed["eligible_fen"]) == (106800 + 149900, 106800)
    assert claimed["points_earned"] == 1068
    assert claimed["tier"] == "gold" and claimed["tier_changed"] is True
    again = c.json(f"purchase --receipt {no} --member-no SH010000001", as_="cashier", code=1)
    assert again["error"] == "already_exists"
    member_sale = c.json(f"sale --card {CARD} --pin {PIN} --line D001 --pay cash", as_="cashier")
    theirs = c.json(
        f"purchase --receipt {member_sale['receipt_no']} --card {CARD}", as_="cashier", code=1
    )
    assert theirs["error"] == "already_exists"
    assert (
        c.json(f"purchase --receipt NO-SUCH --card {CARD}", as_="cashier", code=1)["error"]
        == "not_found"
    )
    # Returning the receipt takes the credit back: its points, and the tier it earned.
    back = c.json(f"refund {no} --approver manager --approver-password manager123", as_="cashier")
    assert back["points_earned"] == -1068
    assert c.balance()["tier"] == "normal"
    assert c.entries() > 0


def test_bad_input_is_refused_clearly(c: Cli) -> None:
    for args, code, text in (
        ("sale --line D001:x --pay cash", 2, "数量"),
        ("sale --line D001 --pay cheque", 2, "付款方式"),
        ("sale --line D001 --pay cash:1.234", 2, "两位小数"),
        ("sale --line NOPE --pay cash", 1, "NOPE"),
        (f"sale --card {CARD} --line W001 --pay stored_value --pin {PIN}", 1, "还差 ¥949.00"),
    ):
        result = c.run(args, as_="cashier", json=True)
        assert result.exit_code == code, (args, result.stderr)
        assert text in result.stderr, (args, result.stderr)
    english = c.run("sale --line D001 --pay stored_value", as_="cashier", lang="en")
    assert english.exit_code == 2 and "member card" in english.stderr


def test_weighed_goods_take_a_weight_and_pieces_a_whole_number(c: Cli) -> None:
    sale = c.json("sale --line F005:0.5 --line F006:1.5 --line D001:2 --pay cash", as_="cashier")
    lines = sale["receipt"]["lines"]
    assert [(x["sku"], x["weight_milli"], x["unit"], x["gross_fen"]) for x in lines] == [
        ("F005", 500, "kg", 640),
        ("F006", 1500, "斤", 524),
        ("D001", None, "", 400),
    ]
    refused = c.run("sale --line D001:1.5 --pay cash", as_="cashier", json=True)
    assert refused.exit_code != 0 and "数量必须是整数" in refused.stdout
    back = c.json(f"refund {sale['receipt_no']} --line F005:0.2", as_="cashier")
    assert back["total_fen"] == -256  # 0.2 of the 0.5 kg line's ¥6.40
    rest = c.json(f"refund {sale['receipt_no']} --line F005", as_="cashier")
    assert rest["total_fen"] == -384


def test_price_change_order_discount_and_rounding_options(c: Cli) -> None:
    refused = c.json("sale --line H002@10 --pay cash", as_="cashier", code=1)
    assert refused["error"] == "approval_required" and "改价" in refused["message"]
    done = c.json(
        "sale --line H002@10 --pay cash --approver manager --approver-password manager123",
        as_="cashier",
    )
    assert done["total_fen"] == 1000 and done["receipt"]["approved_by_name"] == "李店长"
    both = c.json(
        "sale --line H002 --line D001:2 --order-discount 5% --round yuan --pay cash",
        as_="cashier",
    )
    assert both["total_fen"] == 1600
    kinds = [a["kind"] for a in both["receipt"]["sale_adjustments"]]
    assert kinds == ["order_discount", "rounding"]
    text = c.ok("sale --line H002 --order-discount 0.50 --pay cash", as_="cashier").stdout
    assert "整单折扣 减¥0.50" in text
