"""`pos-app demo`, `demo-data` and `member import`: the slow commands with progress on stderr."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pos_app.cli import demo_cmd
from pos_app.cli.main import cli
from tests.test_cli import POS_ENV, Cli, copy_store, make_runner, one_json


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store with a handful of members, built once by `pos-app demo`."""
    data_dir = tmp_path_factory.mktemp("demo-template") / "demo"
    result = Cli(data_dir).run("demo --members 6", json=True)
    assert result.exit_code == 0, result.stderr
    return data_dir


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Cli:
    return Cli(copy_store(demo_template, tmp_path / "demo"))


def test_demo_builds_the_store_once_then_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without --data-dir the demo goes to the user data folder's "demo" subfolder.
    monkeypatch.setattr(demo_cmd, "default_data_dir", lambda: tmp_path / "userdata")
    env = dict.fromkeys(POS_ENV)  # no --data-dir, no POS_DATA_DIR
    built = make_runner().invoke(cli, ["--json", "demo", "--members", "4"], env=env)
    assert built.exit_code == 0, built.stderr
    data = one_json(built.stdout)
    assert data["data_dir"] == str(tmp_path / "userdata" / "demo")
    assert data["created"] is True
    assert (data["store_code"], data["store_name"]) == ("DEMO01", "演示门店 Demo Store")
    assert [x["login"] for x in data["logins"]] == ["admin", "manager", "cashier", "cashier2"]
    assert data["verify"]["ok"] is True
    assert data["verify"]["members"] == 4 + 2  # and the two of the demo's day at the till
    assert data["summary"]["members"] == 4
    assert data["sample_cards"], "the walkthrough shows cards to try"
    assert all(c["stored_value_fen"] > 0 for c in data["sample_cards"])
    assert "Creating demo data" in built.stderr  # progress, never on stdout

    again = make_runner().invoke(cli, ["--json", "demo"], env=env)
    assert again.exit_code == 0, again.stderr
    reused = one_json(again.stdout)
    assert reused["created"] is False and reused["summary"] is None
    assert reused["verify"]["entries"] == data["verify"]["entries"]  # nothing added
    assert reused["sample_cards"] == data["sample_cards"]
    assert "Creating demo data" not in again.stderr


def test_demo_walkthrough_for_people(demo: Cli) -> None:
    text = demo.ok("demo", "--no-gui").stdout
    assert "DEMO01 演示门店 Demo Store" in text
    assert "cashier123" in text and "manager123" in text  # demo logins are meant to be seen
    assert "账本校验 Verify: 通过 OK" in text
    assert f"export POS_DATA_DIR={demo.data_dir}" in text
    card = next(line.split()[0] for line in text.splitlines() if "DEMO01000000" in line)
    assert f"pos-app balance {card}" in text
    # The card it suggests really works with the logins it shows.
    assert demo.balance(card)["stored_value_fen"] > 0


def test_demo_refuses_a_folder_holding_another_store(tmp_path: Path) -> None:
    real = Cli(tmp_path / "real")
    real.ok(
        "init --store-code SH09 --store-name 真店 --admin-login admin --admin-password admin123"
    )
    result = real.run("demo", json=True)
    assert result.exit_code == 1
    assert one_json(result.stdout)["error"] == "already_exists"
    assert real.json("verify")["members"] == 0


def test_demo_data_is_for_admins(demo: Cli) -> None:
    before = demo.json("verify")["members"]
    refused = demo.json("demo-data --members 3", as_="cashier", code=1)
    assert refused["error"] == "permission_denied"
    added = demo.run("demo-data --members 3", as_="admin", json=True)
    assert added.exit_code == 0, added.stderr
    assert one_json(added.stdout)["members"] == 3
    assert "Creating demo data" in added.stderr
    after = demo.json("verify")
    assert after["ok"] and after["members"] == before + 3


def test_member_import_reports_row_errors_and_imports_nothing(demo: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("mobile,name,card_no\n137001,王五,55550003\n13700137004,,55550004\n", "utf-8")
    before = demo.json("verify")["entries"]
    refused = demo.run("member", "import", bad, as_="admin", json=True)
    assert refused.exit_code == 2
    report = one_json(refused.stdout)
    assert report["error"] == "invalid_input" and report["imported"] == 0
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "mobile"), (3, "name")]
    assert demo.json("verify")["entries"] == before

    cashier = demo.json("member", "import", bad, as_="cashier", code=1)
    assert cashier["error"] == "permission_denied"


def test_member_import_with_opening_balances(demo: Cli, tmp_path: Path) -> None:
    good = tmp_path / "members.csv"
    good.write_text(
        "手机号,姓名,卡号,本金,赠送金,积分\n13700137001,王五,55550001,100,10,20\n"
        "13700137002,赵六,55550002,0,0,0\n",
        "utf-8",
    )
    done = demo.run("member", "import", good, as_="admin", json=True)
    assert done.exit_code == 0, done.stderr
    result = one_json(done.stdout)
    assert (result["imported"], result["opening_principal_fen"]) == (2, 10000)
    assert "2/2" in done.stderr
    shown = demo.balance("55550001")
    assert (shown["principal_fen"], shown["bonus_fen"], shown["points"]) == (10000, 1000, 20)
    assert demo.json("verify")["ok"] is True


def test_a_missing_optional_service_is_refused_clearly(
    demo: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pos_app.services.member_import", None)
    csv = tmp_path / "m.csv"
    csv.write_text("mobile,name,card_no\n", "utf-8")
    result = demo.json("member", "import", csv, as_="admin", lang="en", code=1)
    assert result == {"error": "unavailable", "message": "This build cannot import members yet"}
