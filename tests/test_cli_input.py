"""Numbers and files typed at `pos-app`: read strictly, refused clearly (exit 2), never a
traceback. Each case here was accepted wrongly or crashed before (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_app.cli.main import cli
from tests.test_cli import (
    CARD,
    EXAMPLE_RULES,
    Cli,
    build_template,
    copy_store,
    make_runner,
    one_json,
)
from tests.test_cli_sale import CATALOGUE

MEMBER = "SH010000001"


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-input-template") / "store"
    build_template(data_dir)  # member 张三 with card 88880001, ¥500 + ¥50 bonus
    c = Cli(data_dir)
    c.ok("product", "import", CATALOGUE, as_="manager")
    c.ok("shift open --float 500", as_="cashier")
    return data_dir


@pytest.fixture
def c(template_dir: Path, tmp_path: Path) -> Cli:
    return Cli(copy_store(template_dir, tmp_path / "store"))


def refused(c: Cli, *args: object, as_: str = "cashier", said: str = "") -> dict[str, object]:
    """Run with --json; the command must be refused as invalid input, cleanly."""
    result = c.run(*args, as_=as_, json=True)
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    error = one_json(result.stdout)
    assert said in str(error["message"]), error
    return error


@pytest.mark.parametrize(
    ("amount", "said"),
    [
        ("50,00", "逗号只能分隔千位"),  # was ¥5,000
        ("5_0", "金额格式不正确"),  # was ¥50
        ("1e2", "金额格式不正确"),  # was ¥100
        ("١٢٣", "金额格式不正确"),  # Arabic-Indic digits: was ¥123
        ("1e999999", "金额格式不正确"),  # was a decimal.Overflow traceback
        ("9" * 5000, "金额过大"),
        ("-5", "不带正负号"),
        ("100001", "金额过大"),  # above a single top-up's maximum
    ],
)
def test_a_top_up_amount_is_read_strictly(c: Cli, amount: str, said: str) -> None:
    before = c.balance()["stored_value_fen"]
    refused(c, "topup", CARD, amount, said=said)
    assert c.balance()["stored_value_fen"] == before


def test_grouped_and_fullwidth_amounts_are_accepted(c: Cli) -> None:
    assert c.json("topup", CARD, "1,000.50", as_="cashier")["amount_fen"] == 100050
    assert c.json("topup", CARD, "１２０.５０", as_="cashier")["amount_fen"] == 12050


@pytest.mark.parametrize("qty", ["²", "٣", "1_0", "1e2", "0", "-1", "10000", "", "9" * 5000])
def test_a_sale_line_quantity_is_read_strictly(c: Cli, qty: str) -> None:
    refused(c, "sale", "--line", f"D001:{qty}", "--pay", "cash", said="数量")  # D001:² crashed


def test_a_fullwidth_quantity_sells(c: Cli) -> None:
    sale = c.json("sale", "--line", "D001:３", "--pay", "cash", as_="cashier")
    assert sale["receipt"]["lines"][0]["qty"] == 3
    refused(c, "refund", sale["receipt_no"], "--line", "D001:²", said="数量")
    assert c.json("refund", sale["receipt_no"], "--line", "D001:２", as_="cashier")["receipt_no"]


@pytest.mark.parametrize(
    "args",
    [
        ("points", "give", "1" + "0" * 30, "--member-no", MEMBER, "--reason", "x"),
        ("points", "give", "٣", "--member-no", MEMBER, "--reason", "x"),
        ("points", "adjust", "1_000", "--member-no", MEMBER, "--reason", "x"),
        ("points", "adjust", "-" + "9" * 40, "--member-no", MEMBER, "--reason", "x"),
        ("points", "redeem", "1e3", "--member-no", MEMBER),
        ("coupon", "template", "add", "--code", "X", "--name", "x", "--kind", "amount_off",
         "--amount", "8", "--days", "30", "--points-cost", "1" + "0" * 25),
        ("coupon", "batch", "--template", "X", "--count", "٣", "--label", "x"),
        ("member", "find", "张", "--limit", "1_0"),
        ("report", "z", "--shift", "99999999999999999999999"),
    ],
)  # fmt: skip
def test_whole_number_options_are_read_strictly(c: Cli, args: tuple[str, ...]) -> None:
    result = c.run(*args, as_="manager", json=True)
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr


def test_a_signed_points_adjustment_still_works(c: Cli) -> None:
    given = c.json(
        "points", "adjust", "+１０", "--member-no", MEMBER, "--reason", "补录", as_="manager"
    )
    assert given["points_delta"] == 10
    taken = c.json("points", "adjust", "-5", "--member-no", MEMBER, "--reason", "x", as_="manager")
    assert taken["points_delta"] == -5


# -- rules files -----------------------------------------------------------------------------


def test_an_empty_rules_file_is_refused(c: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("# to be written\n\n", encoding="utf-8")
    error = refused(c, "rules", "load", empty, as_="admin", said="空")
    assert error["error"] == "rules_invalid"
    assert c.json("rules show")["version"] == 1


def test_a_rules_refusal_names_the_key_and_the_line(c: Cli, tmp_path: Path) -> None:
    text = EXAMPLE_RULES.read_text(encoding="utf-8").replace(
        'upgrade_topup = "3000"', 'upgrade_topup = "500"'
    )
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    line = 1 + text.splitlines().index('upgrade_topup = "500"')
    result = c.run("rules", "load", path, as_="admin", lang="en")
    assert result.exit_code == 2
    assert f"Rules file error (line {line}): tiers.level[2].upgrade_topup must be above" in (
        result.stderr
    )


def test_a_rules_file_that_is_not_utf8_is_refused_cleanly(c: Cli, tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes('label = "标准规则"\n'.encode("gbk"))
    refused(c, "rules", "load", path, as_="admin", said="UTF-8")


def test_a_rules_file_saved_with_a_bom_loads(c: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE_RULES.read_bytes())
    assert c.json("rules", "load", path, as_="admin")["version"] == 2


def test_a_file_name_with_a_nul_is_a_usage_error(c: Cli, tmp_path: Path) -> None:
    # os.stat() raises ValueError for it, which click.Path let through as a traceback.
    for args in (("product", "import", "a\x00b"), ("rules", "load", "\x00")):
        result = c.run(*args, as_="admin")
        assert result.exit_code == 2, result.stderr
        assert "NUL" in result.stderr
    data_dir = make_runner().invoke(cli, ["--data-dir", "\x00", "verify"])
    assert data_dir.exit_code == 2 and "NUL" in data_dir.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("product", "list", "--search", "\udcff"),
        ("reprint", "SH01\udcff"),
        ("member", "find", "\udcff"),
    ],
)
def test_an_undecodable_argument_is_a_usage_error(c: Cli, args: tuple[str, ...]) -> None:
    # What Python makes of a byte of argv that is not UTF-8: it reached SQLite, which could
    # not encode it (UnicodeEncodeError).
    result = c.run(*args, as_="manager")
    assert result.exit_code == 2, result.stderr
    assert "not UTF-8 text: " in result.stderr and "\\udcff" in result.stderr


def test_a_card_stock_file_that_is_not_utf8_is_refused_cleanly(c: Cli, tmp_path: Path) -> None:
    path = tmp_path / "cards.txt"
    path.write_bytes("88889999\n卡号\n".encode("gbk"))
    refused(c, "card", "stock-import", path, as_="manager", said="UTF-8")


@pytest.mark.parametrize("timeout", ["nan", "NaN", "١٠", "1_0", "1e1"])
def test_a_device_timeout_is_read_strictly(c: Cli, timeout: str) -> None:
    # "nan" passed click's FloatRange (every comparison with NaN is false) and the read
    # then waited forever; float() also took Arabic-Indic digits and "1_0".
    result = c.run("hw", "read-card", "--source", "sim:card", "--timeout", timeout)
    assert result.exit_code == 2, result.stderr
    assert "Seconds must be from 0.1 to 3600" in result.stderr
