"""Issue 11's reproductions of a fooled or crashing `verify`, through the CLI as a person
would run it: each tampering is found (exit 3, the first bad entry named, no traceback), and
a store found broken refuses to move money until a manager restores or acknowledges.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pos_app.services.context import DB_FILENAME
from tests.ledger_tampering import rehash
from tests.test_cli import CARD, PIN, Cli, build_template, copy_store, one_json, sql

CATALOGUE = Path(__file__).resolve().parent.parent / "pos_app" / "resources" / "demo_catalogue.csv"


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("verify-trust") / "store"
    build_template(data_dir)  # 张三's card 88880001 with ¥500 + ¥50, PIN 123456
    c = Cli(data_dir)
    c.ok("product", "import", CATALOGUE, as_="manager")
    c.ok("shift open --float 500", as_="cashier")
    c.ok(f"sale --card {CARD} --pin {PIN} --line V001:2 --pay stored_value", as_="cashier")
    c.ok("sale --line S001 --line H001 --pay cash:100", as_="cashier")
    c.ok(f"topup {CARD} 100 --tender wechat", as_="cashier")
    return data_dir


@pytest.fixture
def c(template_dir: Path, tmp_path: Path) -> Cli:
    c = Cli(copy_store(template_dir, tmp_path / "store"))
    assert c.json("verify")["ok"]
    return c


def drop_triggers(c: Cli) -> None:
    sql(c, "DROP TRIGGER ledger_entry_no_update")
    sql(c, "DROP TRIGGER ledger_entry_no_delete")


def head(c: Cli) -> int:
    return int(sql(c, "SELECT max(store_seq) FROM ledger_entry")[0][0])


def failed(c: Cli) -> dict[str, Any]:
    """`pos-app --json verify` on a tampered store: exit 3, one JSON object, no traceback."""
    result = c.run("verify", json=True)
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    report = one_json(result.stdout)
    assert report["ok"] is False and report["problems"]
    return report


def seq_of_kind(c: Cli, kind: str) -> int:
    return int(sql(c, "SELECT max(store_seq) FROM ledger_entry WHERE kind = ?", kind)[0][0])


# -- the five ways verify was fooled or crashed ----------------------------------------------


def test_deleted_newest_entries_with_the_balance_adjusted(c: Cli) -> None:
    """The last top-up deleted and the card's balance lowered to match."""
    c.ok(f"topup {CARD} 100 --tender wechat", as_="cashier")
    last = head(c)
    assert seq_of_kind(c, "topup") == last  # the top-up was the last thing recorded
    drop_triggers(c)
    sql(c, "DELETE FROM ledger_entry WHERE store_seq = ?", last)
    sql(c, "UPDATE card SET principal_fen = principal_fen - 10000 WHERE card_no = ?", CARD)
    report = failed(c)
    assert report["first_bad_entry"]["store_seq"] == last
    assert f"entries #{last}…#{last} are missing" in report["problems"][0]["message"]


def test_rewritten_amount_rehashed_with_the_projects_own_chain_hash(c: Cli) -> None:
    """The stored-value payment made ¥1 and every entry after it re-hashed with
    `chain_hash`, the card's balance raised to match: the chain links, the MACs do not."""
    k = seq_of_kind(c, "sv_payment")
    drop_triggers(c)
    con = sqlite3.connect(c.data_dir / DB_FILENAME)
    con.row_factory = sqlite3.Row
    try:
        con.execute(
            "UPDATE ledger_entry SET amount_fen = 100, principal_delta = -100, bonus_delta = 0 "
            "WHERE store_seq = ?",
            (k,),
        )
        rehash(con, k)  # with the project's own chain_hash, as the issue did it
        con.commit()
    finally:
        con.close()
    report = failed(c)
    assert report["first_bad_entry"]["store_seq"] == k
    assert report["first_bad_entry"]["message"].startswith("MAC does not match")


def test_zeroed_sale_and_tender_totals(c: Cli) -> None:
    receipt = sql(c, "SELECT receipt_no FROM sale WHERE card_id IS NULL")[0][0]
    sql(
        c,
        "UPDATE sale SET gross_fen = 0, discount_fen = 0, total_fen = 0, change_fen = 0 "
        "WHERE receipt_no = ?",
        receipt,
    )
    sql(
        c,
        "UPDATE sale_tender SET amount_fen = 0 WHERE sale_id = "
        "(SELECT id FROM sale WHERE receipt_no = ?)",
        receipt,
    )
    report = failed(c)
    mine = [p["message"] for p in report["problems"] if p["where"] == f"receipt {receipt}"]
    assert any("its ledger entry says" in m for m in mine), report["problems"]


def test_operator_made_admin_behind_the_apps_back(c: Cli) -> None:
    sql(c, "UPDATE operator SET role = 'admin' WHERE login = 'cashier'")
    report = failed(c)
    mine = [p["message"] for p in report["problems"] if p["where"] == "operator cashier"]
    assert any(m.startswith("role 'admin' differs") for m in mine), report["problems"]
    assert any("seal does not match" in m for m in mine)
    # And the promotion is worth nothing: the cashier can no longer sign in at all.
    refused = c.run(f"balance {CARD}", as_="cashier")
    assert refused.exit_code == 1
    assert "changed outside the app" in refused.stderr or "系统之外" in refused.stderr


def test_a_malformed_payload_is_named_not_a_crash(c: Cli) -> None:
    """Old verify died with JSONDecodeError on this."""
    k = seq_of_kind(c, "member_registered")
    drop_triggers(c)
    sql(c, "UPDATE ledger_entry SET payload = '{not json' WHERE store_seq = ?", k)
    report = failed(c)
    assert report["first_bad_entry"]["store_seq"] == k


def test_a_corrupted_index_fails_integrity_check_first(c: Cli) -> None:
    """A page of an index overwritten on disk: the tables read fine (old verify passed),
    `PRAGMA integrity_check` does not, and verify says so first."""
    path = c.data_dir / DB_FILENAME
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    (root,) = con.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'ix_member_name'"
    ).fetchone()
    con.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size + page_size - 40)
        f.write(b"\xff" * 32)  # the last cell's bytes: the key stored in the index
    report = failed(c)
    assert report["integrity_ok"] is False
    assert report["problems"][0]["where"] == "database"
    assert report["problems"][0]["message"].startswith("integrity_check:")


def test_a_file_that_is_not_a_database_is_reported_not_raised(c: Cli) -> None:
    path = c.data_dir / DB_FILENAME
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    with path.open("r+b") as f:
        f.write(b"\0" * 100)  # the header
    report = failed(c)
    assert report["problems"][0]["where"] == "database"
    assert "file is not a database" in report["problems"][0]["message"]


# -- a store found broken stops moving value --------------------------------------------------


def test_after_a_failed_verify_money_waits_for_a_manager(c: Cli) -> None:
    sql(c, "UPDATE card SET bonus_fen = bonus_fen + 99900 WHERE card_no = ?", CARD)
    failed(c)
    refused = c.run(f"topup {CARD} 100", as_="cashier", json=True)
    assert refused.exit_code == 1 and '"store_broken"' in refused.stdout
    refused = c.run(f"pay {CARD} 10 --pin {PIN}", as_="cashier", json=True)
    assert refused.exit_code == 1 and '"store_broken"' in refused.stdout
    # Safety goes on: a lost card can still be reported.
    c.ok(f"card lost {CARD}", as_="cashier")
    # A cashier cannot lift it; a manager acknowledges the problem with a reason.
    denied = c.run("verify --acknowledge 核对后确认", as_="cashier", json=True)
    assert denied.exit_code == 1 and "permission_denied" in denied.stdout
    ack = c.run("verify --acknowledge 已报总部核查", as_="manager", json=True)
    assert ack.exit_code == 3  # the problems are still there ...
    assert '"acknowledged"' in ack.stdout
    c.ok(f"card found {CARD}", as_="manager")
    c.ok(f"topup {CARD} 100", as_="cashier")  # ... but the store records again
    assert c.run("verify", json=True).exit_code == 3
    c.ok(f"topup {CARD} 100", as_="cashier")  # the same problems stay acknowledged
    # Something new found: stopped again.
    sql(c, "UPDATE member SET points_balance = points_balance + 1 WHERE member_no = 'SH010000001'")
    assert c.run("verify", json=True).exit_code == 3
    assert c.run(f"topup {CARD} 100", as_="cashier").exit_code == 1
    kinds = [k for (k,) in sql(c, "SELECT kind FROM ledger_entry ORDER BY store_seq")]
    assert "integrity_acknowledged" in kinds


def test_a_verify_that_passes_lowers_the_alarm(c: Cli) -> None:
    sql(c, "UPDATE card SET bonus_fen = bonus_fen + 1 WHERE card_no = ?", CARD)
    failed(c)
    assert c.run(f"topup {CARD} 100", as_="cashier").exit_code == 1
    sql(c, "UPDATE card SET bonus_fen = bonus_fen - 1 WHERE card_no = ?", CARD)
    lowered = c.json("verify")
    assert lowered["ok"] and lowered["alarm"] is None
    c.ok(f"topup {CARD} 100", as_="cashier")


def test_cash_taken_as_wechat_in_the_sale_tables_is_caught(c: Cli) -> None:
    """The total left alone, only the tender changed (cash that went into a pocket booked as
    WeChat): the sale's sealed entry says what each tender paid."""
    receipt = sql(c, "SELECT receipt_no FROM sale WHERE card_id IS NULL")[0][0]
    sql(
        c,
        "UPDATE sale_tender SET tender = 'wechat' WHERE sale_id = "
        "(SELECT id FROM sale WHERE receipt_no = ?)",
        receipt,
    )
    report = failed(c)
    mine = [p["message"] for p in report["problems"] if p["where"] == f"receipt {receipt}"]
    (total,) = sql(c, "SELECT total_fen FROM sale WHERE receipt_no = ?", receipt)[0]
    assert mine == [f"tenders wechat {total} differ from its ledger entry's cash {total}"], mine
