"""The `pos-app` command line, driven through click's CliRunner against a real SQLite store.

One store is set up through the CLI itself per module (init, operators, rules, a member with
a card holding ¥500 + ¥50 bonus) and copied for each test, since password hashing is slow.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pos_app.cli.main import cli
from pos_app.services.context import DB_FILENAME

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_RULES = ROOT / "pos_app" / "resources" / "rules.example.toml"
PASSWORDS = {"admin": "admin123", "manager": "manager123", "cashier": "cashier123"}
POS_ENV = (
    "POS_DATA_DIR",
    "POS_OPERATOR",
    "POS_PASSWORD",
    "POS_APPROVER",
    "POS_APPROVER_PASSWORD",
    "POS_LANG",
    "POS_CARD_SOURCES",
    "POS_PRINTER",
    "POS_DISPLAY",
    "POS_SCALE",
    "POS_PAPER_MM",
    "POS_PRINTER_ENCODING",
)
CARD = "88880001"  # member SH010000001 (张三, 13800138000), PIN 123456, ¥500 + ¥50 bonus
PIN = "123456"


def make_runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()  # click ≥ 8.2 keeps stdout and stderr apart by itself


def one_json(stdout: str) -> dict[str, Any]:
    """stdout must be exactly one JSON object."""
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, stdout
    data = json.loads(lines[0])
    assert isinstance(data, dict)
    return data


@dataclass
class Cli:
    """Runs `pos-app --data-dir DIR ...` with a clean POS_* environment."""

    data_dir: Path

    def run(
        self,
        *args: object,
        as_: str | None = None,
        json: bool = False,
        env: dict[str, str] | None = None,
        input: str | None = None,
        lang: str | None = None,
    ) -> Result:
        environ: dict[str, str | None] = dict.fromkeys(POS_ENV)  # None: unset
        if as_:
            environ.update(POS_OPERATOR=as_, POS_PASSWORD=PASSWORDS[as_])
        environ.update(env or {})
        argv = ["--data-dir", str(self.data_dir)]
        argv += ["--json"] if json else []
        argv += ["--lang", lang] if lang else []
        if len(args) == 1 and isinstance(args[0], str):
            argv += shlex.split(args[0])  # one string: split as a shell would
        else:
            argv += [str(a) for a in args]
        return make_runner().invoke(cli, argv, env=environ, input=input, catch_exceptions=False)

    def ok(self, *args: object, **kwargs: Any) -> Result:
        result = self.run(*args, **kwargs)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def json(self, *args: object, code: int = 0, **kwargs: Any) -> dict[str, Any]:
        result = self.run(*args, json=True, **kwargs)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return one_json(result.stdout)

    def entries(self) -> int:
        """How many ledger entries there are (and that they all check out)."""
        report = self.json("verify")
        assert report["ok"], report["problems"]
        return report["entries"]

    def balance(self, card: str = CARD) -> dict[str, Any]:
        return self.json("balance", card, as_="cashier")


def copy_store(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for name in (DB_FILENAME, DB_FILENAME + "-wal"):
        if (source / name).exists():
            shutil.copy(source / name, target / name)
    return target


def build_template(data_dir: Path) -> None:
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
    c.ok("rules", "load", EXAMPLE_RULES, as_="admin")
    c.ok("member add --mobile 13800138000 --name 张三", as_="cashier")
    c.ok(f"card issue --member-no SH010000001 --card-no {CARD} --pin {PIN}", as_="cashier")
    # Money moves only inside the operator's own shift: one took the top-up and was closed
    # with its drawer counted exactly.
    c.ok("shift open --float 0", as_="cashier")
    c.ok(f"topup {CARD} 500", as_="cashier")
    c.ok("shift close --counted 500", as_="cashier")


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-template") / "store"
    build_template(data_dir)
    Cli(data_dir).ok("shift open --float 0", as_="cashier")  # the cashier is at the till
    return data_dir


@pytest.fixture
def c(template_dir: Path, tmp_path: Path) -> Cli:
    return Cli(copy_store(template_dir, tmp_path / "store"))


def sql(c: Cli, statement: str, *params: object) -> list[tuple[Any, ...]]:
    """Reach into the database behind the app's back, as a tamperer would."""
    con = sqlite3.connect(c.data_dir / DB_FILENAME)
    try:
        rows = con.execute(statement, params).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


# -- init, operators, rules ----------------------------------------------------------------


def test_init_prints_the_store_and_refuses_a_second_init(tmp_path: Path) -> None:
    c = Cli(tmp_path / "new")
    data = c.json(
        "init --store-code bj02 --store-name 北京店 --admin-login boss --admin-password boss12345"
    )
    assert data["store_code"] == "BJ02"
    assert data["store_name"] == "北京店"
    assert data["admin_login"] == "boss"
    assert data["store_id"]
    assert (tmp_path / "new" / DB_FILENAME).exists()

    again = c.run(
        "--json init --store-code BJ03 --store-name x --admin-login boss2 "
        "--admin-password boss12345"
    )
    assert again.exit_code == 1
    assert one_json(again.stdout)["error"] == "already_exists"
    assert "已初始化" in again.stderr
    # The first store is still the one there.
    shown = c.json("rules show")
    assert shown["version"] == 0


def test_a_refused_init_leaves_no_folder_or_database_behind(tmp_path: Path) -> None:
    result = Cli(tmp_path / "new" / "store").run(
        "init --store-code '上海!' --store-name x --admin-login admin --admin-password admin123"
    )
    assert result.exit_code == 2
    assert "门店编码不正确" in result.stderr
    assert not (tmp_path / "new").exists()

    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine", encoding="utf-8")
    short = Cli(kept).run(
        "init --store-code SH01 --store-name x --admin-login a --admin-password x"
    )
    assert short.exit_code == 2
    assert sorted(p.name for p in kept.iterdir()) == ["notes.txt"]


def test_a_folder_without_a_store_is_refused_and_left_untouched(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    c = Cli(nowhere)
    result = c.run(f"balance {CARD}", as_="cashier", json=True)
    assert result.exit_code == 1
    error = one_json(result.stdout)
    assert error["error"] == "not_initialized"
    assert "pos-app init" in error["message"]
    assert c.run("verify").exit_code == 1
    assert not nowhere.exists()


def test_only_an_admin_adds_operators_and_the_new_login_works(c: Cli) -> None:
    refused = c.run(
        "operator add --login zhao --name 赵收银 --role cashier --password zhao12345",
        as_="cashier",
        json=True,
    )
    assert refused.exit_code == 1
    assert one_json(refused.stdout)["error"] == "permission_denied"

    # The acting admin's own password goes in --operator-password: --password is the new one's.
    added = c.json(
        "operator add --login zhao --name 赵收银 --role cashier --password zhao12345 "
        "--operator admin --operator-password admin123"
    )
    assert added == {
        "operator_id": added["operator_id"],
        "login": "zhao",
        "name": "赵收银",
        "role": "cashier",
    }
    shown = c.json(f"balance {CARD} --operator zhao --password zhao12345")
    assert shown["stored_value_fen"] == 55000


def test_rules_show_needs_no_operator_and_rules_load_makes_a_new_version(
    c: Cli, tmp_path: Path
) -> None:
    shown = c.json("rules show")
    assert shown["version"] == 1
    assert shown["rules"]["stored_value"]["min_topup_fen"] == 5000
    human = c.ok("rules show").stdout
    assert "最低充值 Min top-up" in human and "¥50.00" in human

    cheaper = EXAMPLE_RULES.read_text(encoding="utf-8").replace(
        'min_topup = "50"', 'min_topup = "10"'
    )
    path = tmp_path / "cheaper.toml"
    path.write_text(cheaper, encoding="utf-8")
    refused = c.run("rules", "load", path, as_="cashier", json=True)
    assert refused.exit_code == 1
    assert one_json(refused.stdout)["error"] == "permission_denied"
    assert c.json(f"topup {CARD} 20", as_="cashier", code=2)["error"] == "invalid_input"

    loaded = c.json("rules", "load", path, as_="admin")
    assert loaded["version"] == 2
    assert c.json("rules show")["rules"]["stored_value"]["min_topup_fen"] == 1000
    assert c.json(f"topup {CARD} 20", as_="cashier")["amount_fen"] == 2000

    broken = tmp_path / "broken.toml"
    broken.write_text("[stored_value]\nmin_topup = 12.5\n", encoding="utf-8")
    bad = c.run("rules", "load", broken, as_="admin", json=True)
    assert bad.exit_code == 2
    assert one_json(bad.stdout)["error"] == "rules_invalid"
    assert c.json("rules show")["version"] == 2


# -- members ---------------------------------------------------------------------------------


def test_member_add_show_find_and_edit(c: Cli) -> None:
    added = c.json(
        "member add --mobile '139 0013 9000' --name 李四 --birthday 1990-01-02 "
        "--referrer SH010000001",
        as_="cashier",
    )
    assert added["member_no"] == "SH010000002"
    assert added["mobile"] == "139****9000"  # a cashier sees it masked
    assert added["birthday"] == "1990-01-02"
    assert added["referrer_no"] == "SH010000001"
    assert added["tier"] == "normal" and added["points"] == 0 and added["cards"] == []

    by_card = c.json(f"member show --card {CARD}", as_="cashier")
    assert by_card["member_no"] == "SH010000001"
    assert by_card["cards"][0]["card_no"] == CARD  # typed by the operator: shown in full
    assert by_card["cards"][0]["stored_value_fen"] == 55000
    by_mobile = c.json("member show --mobile 13800138000", as_="manager")
    assert by_mobile["mobile"] == "13800138000"  # a manager may see the full number
    assert by_mobile["cards"][0]["card_no"] == "88****01"  # not typed: masked
    revealed = c.json("member show --mobile 13800138000 --show-card-numbers", as_="cashier")
    assert revealed["cards"][0]["card_no"] == CARD
    by_no = c.ok("member show --member-no SH010000002", as_="cashier").stdout
    assert "会员号 Member no" in by_no and "李四" in by_no and "推荐人 Referrer" in by_no

    two = c.run(f"member show --card {CARD} --member-no SH010000001", as_="cashier")
    assert two.exit_code == 2

    found = c.json("member find 9000", as_="cashier")
    assert found["count"] == 1
    assert found["members"][0] == {
        "member_no": "SH010000002",
        "name": "李四",
        "mobile": "139****9000",
        "tier": "normal",
        "tier_name": "普通会员",
    }
    assert c.json("member find 张", as_="cashier")["members"][0]["member_no"] == "SH010000001"
    assert c.json("member find 0000", as_="cashier")["count"] == 0

    edited = c.json(
        "member edit --member-no SH010000002 --name 李思 --email li@example.com", as_="cashier"
    )
    assert (edited["name"], edited["email"]) == ("李思", "li@example.com")
    assert c.run("member edit --member-no SH010000002", as_="cashier").exit_code == 2
    dup = c.json("member add --mobile 13800138000 --name 重复", as_="cashier", code=1)
    assert dup["error"] == "already_exists"


# -- cards -----------------------------------------------------------------------------------


def test_card_issue_and_the_lifecycle_by_role(c: Cli) -> None:
    c.ok("member add --mobile 13900139000 --name 李四", as_="cashier")
    issued = c.run(
        "--json card issue --member-no SH010000002 --card-no 66660001 --media magstripe "
        "--pin 654321",
        as_="cashier",
    )
    assert issued.exit_code == 0
    assert "654321" not in issued.stdout + issued.stderr  # a PIN is never printed
    card = one_json(issued.stdout)["card"]
    assert card == {
        "card_no": "66660001",
        "media": "magstripe",
        "state": "active",
        "principal_fen": 0,
        "bonus_fen": 0,
        "stored_value_fen": 0,
        "pin_set": True,
        "pin_locked": False,
    }

    assert c.json("card lost 66660001", as_="cashier")["card"]["state"] == "lost"
    refused = c.json("card found 66660001", as_="cashier", code=1)
    assert refused["error"] == "permission_denied"
    assert c.json("card found 66660001", as_="manager")["card"]["state"] == "active"
    assert c.json("card freeze 66660001", as_="manager")["card"]["state"] == "frozen"
    frozen_pay = c.json("topup 66660001 100", as_="cashier", code=1)
    assert frozen_pay["error"] == "card_state"
    assert c.json("card unfreeze 66660001", as_="manager")["card"]["state"] == "active"
    assert c.json("card unfreeze 66660001", as_="manager", code=1)["error"] == "card_state"


def test_a_cashier_is_refused_card_found_and_nothing_is_written(c: Cli) -> None:
    before = c.entries()
    result = c.run(f"card found {CARD}", as_="cashier", json=True)
    assert result.exit_code == 1
    assert one_json(result.stdout) == {
        "error": "permission_denied",
        "message": "收银员无权解除挂失",
    }
    assert "收银员无权解除挂失" in result.stderr
    assert c.entries() == before
    assert c.balance()["card_state"] == "active"


def test_card_cancel_needs_a_managers_approval(c: Cli) -> None:
    before = c.entries()
    refused = c.run(f"card cancel {CARD}", as_="cashier")
    assert refused.exit_code == 1
    assert "需要店长授权" in refused.stderr
    assert refused.stdout == ""
    # A cashier cannot approve: the approver must be a manager or admin.
    by_cashier = c.json(
        f"card cancel {CARD} --approver cashier --approver-password cashier123",
        as_="cashier",
        code=1,
    )
    assert by_cashier["error"] in ("approval_required", "permission_denied")
    assert c.entries() == before
    assert c.balance()["stored_value_fen"] == 55000

    done = c.json(
        f"card cancel {CARD} --approver manager --approver-password manager123", as_="cashier"
    )
    assert done["refund_fen"] == 49000  # ¥500 principal less the ¥10 fee
    assert done["fee_fen"] == 1000
    assert done["forfeited_bonus_fen"] == 5000
    assert done["card"]["state"] == "cancelled"
    assert c.balance()["card_state"] == "cancelled"
    assert c.entries() == before + 1


def test_approver_from_the_environment_and_a_wrong_approver_password(c: Cli) -> None:
    before = c.entries()
    wrong = c.json(
        f"card replace {CARD} 88880002",
        as_="cashier",
        code=1,
        env={"POS_APPROVER": "manager", "POS_APPROVER_PASSWORD": "nope"},
    )
    assert wrong["error"] == "authentication_failed"
    assert c.entries() == before

    moved = c.json(
        f"card replace {CARD} 88880002",
        as_="cashier",
        env={"POS_APPROVER": "manager", "POS_APPROVER_PASSWORD": "manager123"},
    )
    assert (moved["moved_principal_fen"], moved["moved_bonus_fen"]) == (50000, 5000)
    assert moved["old_card"]["state"] == "replaced"
    assert moved["new_card"]["card_no"] == "88880002"
    assert c.balance("88880002")["stored_value_fen"] == 55000
    assert c.balance()["card_state"] == "replaced"


def test_a_manager_resets_a_pin_without_an_approver(c: Cli) -> None:
    needs = c.json(f"card reset-pin {CARD} --new-pin 000000", as_="cashier", code=1)
    assert needs["error"] == "approval_required"
    reset = c.run(f"card reset-pin {CARD} --new-pin 778899", as_="manager")
    assert reset.exit_code == 0 and "778899" not in reset.stdout + reset.stderr
    assert c.json(f"pay {CARD} 1 --pin {PIN}", as_="cashier", code=1)["error"] == "wrong_pin"
    assert c.json(f"pay {CARD} 1 --pin 778899", as_="cashier")["amount_fen"] == 100


def test_card_stock_import_progress_goes_to_stderr(c: Cli, tmp_path: Path) -> None:
    stock = tmp_path / "stock.txt"
    stock.write_text("77770001\n77770002\n\n77770003\n", encoding="utf-8")
    refused = c.json("card", "stock-import", stock, as_="cashier", code=1)
    assert refused["error"] == "permission_denied"

    result = c.run("card", "stock-import", stock, "--label", "第一批", as_="manager", json=True)
    assert result.exit_code == 0
    data = one_json(result.stdout)  # progress never mixes into the JSON
    assert (data["imported"], data["label"], data["media"]) == (3, "第一批", "ic")
    assert "3/3" in result.stderr

    bad = tmp_path / "bad.txt"
    bad.write_text("77770004\n7777-0005\n", encoding="utf-8")
    before = c.entries()
    refused_file = c.run("card", "stock-import", bad, as_="manager")
    assert refused_file.exit_code == 2
    assert "第 2 行" in refused_file.stderr
    dup = c.json("card", "stock-import", stock, as_="manager", code=1)
    assert dup["error"] == "already_exists"
    assert c.entries() == before

    c.ok("member add --mobile 13900139000 --name 李四", as_="cashier")
    issued = c.json("card issue --member-no SH010000002 --card-no 77770002", as_="cashier")
    assert issued["card"]["state"] == "active"


# -- stored value ----------------------------------------------------------------------------

BALANCE_KEYS = {
    "card_no",
    "member_no",
    "card_state",
    "principal_fen",
    "bonus_fen",
    "stored_value_fen",
    "points",
    "tier",
}


def test_topup_and_balance_print_amounts_in_fen(c: Cli) -> None:
    topped = c.json(f"topup {CARD} 1000 --tender wechat --reference WX1", as_="cashier")
    assert topped["amount_fen"] == 100000
    assert topped["bonus_fen"] == 15000  # 充1000送150
    assert topped["tender"] == "wechat"
    assert topped["new_tier"] == "silver"  # a ¥1000 top-up reaches 银卡
    assert topped["balance"]["stored_value_fen"] == 55000 + 115000

    shown = c.balance()
    assert shown.keys() >= BALANCE_KEYS
    assert shown["card_no"] == CARD
    assert shown["member_no"] == "SH010000001"
    assert (shown["principal_fen"], shown["bonus_fen"]) == (150000, 20000)
    assert shown["stored_value_fen"] == 170000
    assert (shown["card_state"], shown["tier"], shown["points"]) == ("active", "silver", 0)

    human = c.ok(f"balance {CARD}", as_="cashier").stdout
    assert "余额 Balance" in human
    assert "¥1700.00" in human and "¥1500.00" in human and "¥200.00" in human


def test_credentials_from_options_or_environment_and_none_at_all(c: Cli) -> None:
    by_options = c.json(f"balance {CARD} --operator cashier --password cashier123")
    by_env = c.json(
        f"balance {CARD}", env={"POS_OPERATOR": "cashier", "POS_PASSWORD": "cashier123"}
    )
    assert by_options == by_env
    missing = c.run(f"balance {CARD}", json=True)
    assert missing.exit_code == 2
    error = one_json(missing.stdout)
    assert error["error"] == "credentials_missing"
    assert "POS_OPERATOR" in error["message"]
    no_password = c.run(f"balance {CARD} --operator cashier")
    assert no_password.exit_code == 2
    assert "POS_PASSWORD" in no_password.stderr


def test_a_wrong_password_is_refused_and_writes_nothing(c: Cli) -> None:
    before = c.entries()
    result = c.run(f"topup {CARD} 100 --operator cashier --password wrong-pw", json=True)
    assert result.exit_code == 1
    assert one_json(result.stdout) == {
        "error": "authentication_failed",
        "message": "用户名或密码不正确",
    }
    assert "wrong-pw" not in result.stdout + result.stderr
    assert c.entries() == before
    assert c.balance()["stored_value_fen"] == 55000


@pytest.mark.parametrize(
    ("amount", "zh"),
    [("12.345", "最多两位小数"), ("-5", "不带正负号"), ("0", "必须大于零"), ("abc", "格式不正确")],
)
def test_invalid_amounts_are_refused_before_anything_happens(c: Cli, amount: str, zh: str) -> None:
    before = c.entries()
    for command in (("topup", CARD, amount), ("pay", CARD, amount, "--pin", PIN)):
        result = c.run(*command, as_="cashier", json=True)
        assert result.exit_code == 2, result.stdout
        error = one_json(result.stdout)
        assert error["error"] == "invalid_input"
        assert zh in error["message"]
    assert c.entries() == before
    assert c.balance()["stored_value_fen"] == 55000


def test_messages_are_chinese_unless_english_is_asked_for(c: Cli) -> None:
    zh = c.run(f"card found {CARD}", as_="cashier")
    assert "错误：收银员无权解除挂失" in zh.stderr
    en = c.run(f"card found {CARD}", as_="cashier", lang="en")
    assert "Error: A cashier is not allowed to mark a lost card found" in en.stderr
    by_env = c.json(f"topup {CARD} 12.345", as_="cashier", env={"POS_LANG": "en_US.UTF-8"}, code=2)
    assert by_env["message"] == "An amount has at most two decimals: 12.345"
    missing = c.json("balance NOSUCH01", as_="cashier", lang="en", code=1)
    assert missing == {"error": "not_found", "message": "No such card: NO****01"}


def test_pay_asks_for_the_pin_and_counts_wrong_tries(c: Cli) -> None:
    assert c.json(f"pay {CARD} 10", as_="cashier", code=1)["error"] == "pin_required"
    wrong = c.run(f"pay {CARD} 10 --pin 000000", as_="cashier")
    assert wrong.exit_code == 1
    assert "还可尝试 4 次" in wrong.stderr
    paid = c.json(f"pay {CARD} 10 --pin {PIN} --reference R1", as_="cashier")
    assert paid["amount_fen"] == paid["from_principal_fen"] == 1000
    assert paid["from_bonus_fen"] == 0
    assert paid["balance"]["stored_value_fen"] == 54000
    # --pin alone reads it: hidden at a terminal, from stdin in a pipe.
    piped = c.json(f"pay {CARD} 0.5 --pin", as_="cashier", input=f"{PIN}\n")
    assert piped["balance"]["stored_value_fen"] == 53950
    over = c.json(f"pay {CARD} 540 --pin {PIN}", as_="cashier", code=1)
    assert over["error"] == "insufficient_balance"


def test_refunds_of_a_payment_and_of_a_top_up(c: Cli) -> None:
    payment = c.json(f"pay {CARD} 20 --pin {PIN}", as_="cashier")["entry_id"]
    needs = c.json("refund-payment", payment, as_="cashier", code=1)
    assert needs["error"] == "approval_required"
    back = c.json(
        f"refund-payment {payment} --approver manager --approver-password manager123",
        as_="cashier",
    )
    assert (back["principal_returned_fen"], back["bonus_returned_fen"]) == (2000, 0)
    assert back["balance"]["stored_value_fen"] == 55000
    assert c.json("refund-payment", payment, as_="manager", code=2)["error"] == "invalid_input"

    topup = c.json(f"topup {CARD} 1000", as_="cashier")["entry_id"]
    # The manager is not at the till: their refund would come out of the cashier's drawer.
    held = c.json("topup-refund", topup, as_="manager", code=1)
    assert held["error"] == "shift_held_by_other"
    refunded = c.json(
        f"topup-refund {topup} --approver manager --approver-password manager123", as_="cashier"
    )
    assert refunded["cash_out_fen"] == 100000
    assert (refunded["principal_withdrawn_fen"], refunded["bonus_withdrawn_fen"]) == (100000, 15000)
    assert c.balance()["stored_value_fen"] == 55000
    assert c.json("topup-refund no-such-entry", as_="manager", code=1)["error"] == "not_found"


# -- purchases, points, tiers ----------------------------------------------------------------


def test_purchase_points_and_tiers(c: Cli) -> None:
    # Issue 11: `purchase 1000000 --card …` gave a cashier a million points and the top tier.
    # A purchase without a receipt now needs a manager, a reason and stays within the cap.
    huge = f"purchase 1000000 --card {CARD} --reason 测试"
    assert c.json(huge, as_="cashier", code=1)["error"] == "approval_required"
    assert c.json(huge, as_="manager", code=1)["error"] == "limit_exceeded"
    assert c.run(f"purchase --card {CARD} 300", as_="manager").exit_code == 2  # no reason
    assert c.run("purchase 10 --reason 补录", as_="manager").exit_code == 2  # no member
    both = f"purchase --card {CARD} --member-no SH010000001 10 --reason 补录"
    assert c.run(both, as_="manager").exit_code == 2
    assert c.run(f"purchase --card {CARD} --receipt R1 10", as_="cashier").exit_code == 2
    credited = c.json(
        f"purchase --card {CARD} 400 --reason 旧系统小票 "
        "--approver manager --approver-password manager123",
        as_="cashier",
    )
    assert (credited["points_earned"], credited["amount_fen"]) == (400, 40000)
    assert credited["tier"] == "normal" and credited["tier_changed"] is False

    redeemed = c.json(f"points redeem --card {CARD} 100 --reason 礼品", as_="cashier")
    assert (redeemed["points_delta"], redeemed["points_balance"]) == (-100, 300)
    give = "points give 50 --member-no SH010000001 --reason 问卷"
    assert c.json(give, as_="cashier", code=1)["error"] == "approval_required"
    given = c.json(give, as_="manager")
    assert given["points_balance"] == 350
    adjust = "points adjust -20 --member-no SH010000001 --reason 更正"  # a negative argument
    assert c.json(adjust, as_="cashier", code=1)["error"] == "permission_denied"
    adjusted = c.json(adjust, as_="manager")
    assert (adjusted["points_delta"], adjusted["points_balance"]) == (-20, 330)
    assert c.json("points expire", as_="manager") == {"points_expired": 0}

    changed = c.json("tier set silver --member-no SH010000001 --reason 测试", as_="manager")
    assert (changed["old_tier"], changed["new_tier"]) == ("normal", "silver")
    assert changed["locked_until"] is None
    assert c.balance()["tier"] == "silver"
    locked = c.json(
        "tier set gold --member-no SH010000001 --reason 年度大客户 --locked-until 2099-12-31",
        as_="manager",
    )
    assert (locked["new_tier"], locked["locked_until"]) == ("gold", "2099-12-31")
    bad_date = "tier set gold --member-no SH010000001 --reason x --locked-until 31/12/2099"
    assert c.run(bad_date, as_="manager").exit_code == 2
    assert c.json("tier review", as_="manager") == {"count": 0, "changes": []}

    purchase = credited["purchase_entry_id"]
    assert c.json(f"purchase-refund {purchase}", as_="cashier", code=1)["error"] == (
        "approval_required"
    )
    refund = c.json(
        f"purchase-refund {purchase} --approver manager --approver-password manager123",
        as_="cashier",
    )
    assert refund["points_delta"] == -400
    assert c.balance()["tier"] == "gold"  # locked: a refund lowers it no further
    assert c.entries() > 0  # and the ledger still checks out after all of it


# -- operators -------------------------------------------------------------------------------


def test_operators_lock_out_deactivate_and_change_passwords(c: Cli) -> None:
    """Issue 11: no lockout after wrong passwords (sign-in and --approver-password), no way to
    deactivate an operator or change a password."""
    approver = "points give 5 --member-no SH010000001 --reason x --approver manager"
    for _ in range(5):
        c.run(f"{approver} --approver-password nope", as_="cashier")
    refused = c.json(f"{approver} --approver-password manager123", as_="cashier", code=1)
    assert refused["error"] == "sign_in_locked"  # the manager's right password, too late
    guess = {"POS_OPERATOR": "cashier", "POS_PASSWORD": "guess1"}
    for _ in range(4):
        assert c.json("balance", CARD, env=guess, code=1)["error"] == "authentication_failed"
    assert c.json("balance", CARD, env=guess, code=1)["error"] == "sign_in_locked"
    right_but_locked = c.run("balance", CARD, as_="cashier", lang="en")
    assert right_but_locked.exit_code == 1 and "locked until" in right_but_locked.stderr

    listed = c.json("operator list", as_="admin")
    states = {o["login"]: o for o in listed["operators"]}
    assert states["cashier"]["locked_until"] and states["manager"]["locked_until"]
    assert c.json("operator list", as_="cashier", code=1)["error"] == "sign_in_locked"

    reset = c.json("operator reset-password cashier --new-password cashier456", as_="admin")
    assert reset["locked_until"] is None and reset["failed_logins"] == 0
    mine = {"POS_OPERATOR": "cashier", "POS_PASSWORD": "cashier456"}
    changed = c.json("operator password --new-password cashier789", env=mine)
    assert changed == {"login": "cashier", "changed": True}
    assert c.json("balance", CARD, env=mine, code=1)["error"] == "authentication_failed"
    now = {"POS_OPERATOR": "cashier", "POS_PASSWORD": "cashier789"}
    assert c.json("balance", CARD, env=now)["card_no"] == CARD
    assert c.run("operator password --new-password 123", env=now).exit_code == 2  # too short

    gone = c.json("operator deactivate cashier --reason 离职", as_="admin")
    assert gone["active"] is False
    assert c.json("balance", CARD, env=now, code=1)["error"] == "authentication_failed"
    assert c.json("operator deactivate admin", as_="admin", code=2)["error"] == "invalid_input"
    back = c.json("operator reactivate cashier", as_="admin")
    assert back["active"] is True
    assert c.json("balance", CARD, env=now)["card_no"] == CARD
    trail = {e["action"] for e in c.json("audit --limit 100", as_="admin")["events"]}
    assert {
        "operator.locked",
        "operator.password_reset",
        "operator.password",
        "operator.deactivate",
        "operator.reactivate",
    } <= trail
    assert c.entries() > 0  # the operator changes are sealed entries; verify passes


# -- verify and audit ------------------------------------------------------------------------


def test_verify_passes_then_catches_a_card_balance_changed_behind_its_back(c: Cli) -> None:
    ok = c.run("verify")
    assert ok.exit_code == 0
    assert "通过 OK" in ok.stdout

    sql(c, "UPDATE card SET principal_fen = principal_fen + 10000 WHERE card_no = ?", CARD)
    bad = c.run("verify", json=True)
    assert bad.exit_code == 3
    report = one_json(bad.stdout)
    assert report["ok"] is False
    assert any(
        "principal_fen is 60000" in p["message"] and p["where"] == "card 88****01"
        for p in report["problems"]
    )
    human = c.run("verify")
    assert human.exit_code == 3
    assert "principal_fen" in human.stdout


def test_verify_names_the_first_tampered_entry(c: Cli) -> None:
    ((seq, entry_id),) = sql(c, "SELECT store_seq, entry_id FROM ledger_entry WHERE kind = 'topup'")
    sql(c, "DROP TRIGGER ledger_entry_no_update")
    sql(c, "UPDATE ledger_entry SET amount_fen = amount_fen + 1 WHERE entry_id = ?", entry_id)

    result = c.run("verify", json=True)
    assert result.exit_code == 3
    first = one_json(result.stdout)["first_bad_entry"]
    assert (first["store_seq"], first["entry_id"]) == (seq, entry_id)
    human = c.run("verify")
    assert human.exit_code == 3
    assert f"#{seq} {entry_id}" in human.stdout
    assert "hash does not match" in human.stdout


def test_audit_shows_refusals_to_managers_only(c: Cli) -> None:
    c.run(f"card freeze {CARD}", as_="cashier")
    assert c.json("audit", as_="cashier", code=1)["error"] == "permission_denied"
    trail = c.json("audit --limit 200", as_="manager")
    assert trail["count"] == len(trail["events"]) <= 200
    refusals = [
        e for e in trail["events"] if e["outcome"] == "refused" and e["action"] == "card.freeze"
    ]
    assert refusals and refusals[0]["target"] == "88****01"  # masked: not typed by the reader
    assert len(c.json("audit --limit 3", as_="manager")["events"]) == 3


# -- usage, output, logs ---------------------------------------------------------------------


def test_usage_errors_exit_2_with_a_json_error(c: Cli) -> None:
    missing = c.run("topup", json=True)
    assert missing.exit_code == 2
    assert one_json(missing.stdout) == {"error": "usage", "message": "Missing argument 'CARD'."}
    unknown = c.run("no-such-command", json=True)
    assert unknown.exit_code == 2
    assert one_json(unknown.stdout)["error"] == "usage"
    plain = c.run(f"card issue --card-no {CARD}")
    assert plain.exit_code == 2
    assert "Usage:" in plain.stderr and plain.stdout == ""


def test_the_whole_contract_in_human_output(c: Cli) -> None:
    """Every command of the fixed contract, as a person would type them, exits 0."""
    cases: list[tuple[tuple[object, ...], str | None, str]] = [
        (
            (
                "member",
                "add",
                "--mobile",
                "13900139000",
                "--name",
                "李四",
                "--birthday",
                "1991-02-03",
                "--referrer",
                "SH010000001",
            ),
            "cashier",
            "会员已注册",
        ),
        (("member", "show", "--mobile", "13900139000"), "cashier", "李四"),
        (("member", "find", "李"), "cashier", "SH010000002"),
        (
            (
                "card",
                "issue",
                "--member-no",
                "SH010000002",
                "--card-no",
                "99990001",
                "--media",
                "barcode",
            ),
            "cashier",
            "发卡成功",
        ),
        (("topup", "99990001", "88.80", "--tender", "alipay"), "cashier", "¥88.80"),
        (("balance", "99990001"), "cashier", "¥88.80"),
        (("card", "lost", "99990001"), "cashier", "已挂失"),
        (("card", "found", "99990001"), "manager", "已解挂"),
        (("card", "freeze", "99990001"), "manager", "已冻结"),
        (("card", "unfreeze", "99990001"), "manager", "已解冻"),
        (("card", "reset-pin", "99990001", "--new-pin", "246810"), "manager", "密码已重置"),
        (("card", "replace", "99990001", "99990002"), "manager", "换卡成功"),
        (
            (
                "card",
                "cancel",
                "99990002",
                "--approver",
                "manager",
                "--approver-password",
                "manager123",
            ),
            "cashier",
            "卡已注销",
        ),
        (("rules", "show"), None, "当前规则"),
        (("verify",), None, "通过 OK"),
    ]
    for args, who, expected in cases:
        result = c.ok(*args, as_=who)
        assert expected in result.stdout, (args, result.stdout)
        assert "246810" not in result.stdout


def test_the_log_records_operations_without_card_numbers_or_secrets(c: Cli) -> None:
    c.ok(f"topup {CARD} 100 --operator cashier --password cashier123")
    c.ok(f"pay {CARD} 1 --pin {PIN}", as_="cashier")
    text = (c.data_dir / "logs" / "pos-app.log").read_text(encoding="utf-8")
    assert "stored_value.topup by cashier" in text
    assert CARD not in text
    assert "cashier123" not in text and PIN not in text
