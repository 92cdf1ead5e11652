"""Backups: online, verified copies kept K deep; a restore that refuses a copy that does not
verify, keeps what it replaces, and round-trips a demo store's balances exactly."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from pos_app.domain.errors import AuthenticationFailed, InvalidInput, PermissionDenied
from pos_app.services import stored_value
from pos_app.services.backups import (
    BackupFailed,
    back_up,
    backup_due,
    backup_settings,
    list_backups,
    restore,
)
from pos_app.services.cards import issue_card
from pos_app.services.context import DB_FILENAME
from pos_app.services.integrity_alarm import read_alarm
from pos_app.services.members import register_member
from pos_app.services.store_check import check_store
from pos_app.services.verify import verify_ledger
from pos_app.settings_file import update_settings
from tests.conftest import PASSWORD, StoreFixture
from tests.test_cli import Cli, one_json

CARD = "66660001"


@pytest.fixture
def shop(store: StoreFixture) -> StoreFixture:
    member = register_member(store.ctx, store.cashier, "13900000001", "赵六")
    issue_card(store.ctx, store.cashier, member.member_no, CARD)
    store.at_till(store.cashier)
    stored_value.top_up(store.ctx, store.cashier, CARD, 50_000)
    return store


def balances(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every balance a member has, straight from the tables."""
    con = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        return {
            table: con.execute(query).fetchall()
            for table, query in {
                "cards": "SELECT card_no, state, principal_fen, bonus_fen, pin_failures "
                "FROM card ORDER BY card_no",
                "members": "SELECT member_no, tier_code, points_balance, points_debt "
                "FROM member ORDER BY member_no",
                "lots": "SELECT id, remaining FROM point_lot ORDER BY id",
                "coupons": "SELECT code, state FROM coupon ORDER BY code",
                "passes": "SELECT pass_id, service_sku, uses_left FROM service_pass_item "
                "ORDER BY pass_id, service_sku",
            }.items()
        }
    finally:
        con.close()


def test_a_backup_is_a_verified_copy_with_a_manifest(shop: StoreFixture) -> None:
    steps: list[str] = []
    info = back_up(shop.ctx, shop.cashier, progress=lambda stage, _n: steps.append(stage))
    assert steps[0] == "copy"
    path = Path(info.path)
    assert path.exists() and path.with_suffix(".json").exists()
    assert path.parent == shop.data_dir / "backups"
    assert info.head_seq == info.entries > 0 and info.reason == "manual"
    assert info.operator == "cashier"
    # A self-contained single file (no -wal beside it) that opens and verifies on its own.
    assert not path.with_name(path.name + "-wal").exists()
    assert verify_ledger(shop.ctx).ok
    assert [b.name for b in list_backups(shop.ctx)] == [info.name]
    assert not backup_due(shop.ctx)
    shop.clock.advance(hours=4)
    assert backup_due(shop.ctx)


def test_only_the_newest_backups_are_kept(shop: StoreFixture) -> None:
    update_settings(shop.data_dir, "backup", {"keep": 2})
    made = []
    for _ in range(3):
        made.append(back_up(shop.ctx, shop.manager).name)
        shop.clock.advance(minutes=1)
    kept = [b.name for b in list_backups(shop.ctx)]
    assert kept == [made[2], made[1]]
    assert len(list((shop.data_dir / "backups").glob("*.sqlite3"))) == 2


def test_a_backup_goes_to_the_folder_the_settings_name(shop: StoreFixture, tmp_path: Path) -> None:
    update_settings(shop.data_dir, "backup", {"folder": str(tmp_path / "usb"), "keep": 3})
    info = back_up(shop.ctx, shop.cashier)
    assert Path(info.path).parent == tmp_path / "usb"
    update_settings(shop.data_dir, "backup", {"keep": 0})
    with pytest.raises(InvalidInput, match="backup.keep"):
        backup_settings(shop.data_dir)


def test_a_broken_store_is_not_backed_up(shop: StoreFixture) -> None:
    con = sqlite3.connect(shop.data_dir / DB_FILENAME)
    con.execute("UPDATE card SET principal_fen = 1 WHERE card_no = ?", (CARD,))
    con.commit()
    con.close()
    with pytest.raises(BackupFailed, match="did not verify"):
        back_up(shop.ctx, shop.manager)
    assert list_backups(shop.ctx) == []
    assert not [p for p in (shop.data_dir / "backups").iterdir()]  # nothing half-written


def test_restore_puts_the_backup_back_and_keeps_the_replaced_database(shop: StoreFixture) -> None:
    info = back_up(shop.ctx, shop.manager)
    before = balances(shop.data_dir)
    stored_value.top_up(shop.ctx, shop.cashier, CARD, 30_000)
    assert balances(shop.data_dir) != before
    result, ctx = restore(shop.ctx, "manager", PASSWORD, info.name)
    shop.ctx = ctx
    assert balances(shop.data_dir) == before
    assert result.lost_entries == 1 and result.replaced_head_seq == info.head_seq + 1
    replaced = Path(result.replaced_folder)
    assert (replaced / DB_FILENAME).exists()  # never deleted
    report = verify_ledger(ctx)
    assert report.ok, report.problems
    con = sqlite3.connect(shop.data_dir / DB_FILENAME)
    (kind, payload), *_ = con.execute(
        "SELECT kind, payload FROM ledger_entry ORDER BY store_seq DESC LIMIT 1"
    ).fetchall()
    con.close()
    assert kind == "store_restored" and info.name in payload


def test_restore_refuses_a_backup_that_does_not_verify(shop: StoreFixture) -> None:
    info = back_up(shop.ctx, shop.manager)
    con = sqlite3.connect(info.path)
    con.execute("UPDATE card SET bonus_fen = bonus_fen + 100000")
    con.commit()
    con.close()
    before = (shop.data_dir / DB_FILENAME).read_bytes()
    with pytest.raises(BackupFailed, match="does not verify"):
        restore(shop.ctx, "manager", PASSWORD, info.name)
    assert (shop.data_dir / DB_FILENAME).read_bytes() == before
    assert not list(shop.data_dir.glob("replaced-*"))


def test_only_a_manager_restores(shop: StoreFixture) -> None:
    info = back_up(shop.ctx, shop.manager)
    with pytest.raises(PermissionDenied):
        restore(shop.ctx, "cashier", PASSWORD, info.name)
    with pytest.raises(AuthenticationFailed):
        restore(shop.ctx, "manager", "wrong-password", info.name)
    assert not list(shop.data_dir.glob("replaced-*"))


def test_restore_brings_back_a_store_whose_database_is_destroyed(shop: StoreFixture) -> None:
    info = back_up(shop.ctx, shop.manager)
    before = balances(shop.data_dir)
    shop.ctx.engine.dispose()
    path = shop.data_dir / DB_FILENAME
    path.write_bytes(b"\0" * path.stat().st_size)  # the disk returned zeros
    (shop.data_dir / (DB_FILENAME + "-wal")).unlink(missing_ok=True)
    check = check_store(shop.ctx)
    assert not check.report.ok and read_alarm(shop.data_dir) is not None
    _result, ctx = restore(shop.ctx, "manager", PASSWORD, info.name)
    shop.ctx = ctx
    assert balances(shop.data_dir) == before
    assert read_alarm(shop.data_dir) is None  # the alarm is lowered by the restore
    stored_value.top_up(ctx, shop.cashier, CARD, 10_000)  # and the till records again
    assert verify_ledger(ctx).ok


# -- a demo store, through the CLI as a manager would do it -----------------------------------


def test_a_demo_store_round_trips_through_backup_and_restore(tmp_path: Path) -> None:
    c = Cli(tmp_path / "demo")
    card = c.json("demo --no-gui --members 30")["sample_cards"][0]["card_no"]
    demo = {"POS_OPERATOR": "admin", "POS_PASSWORD": "admin123"}
    before = balances(c.data_dir)
    made = one_json(c.run("backup now", json=True, env=demo).stdout)
    assert made["head_seq"] > 100
    listed = one_json(c.run("backup list", json=True, env=demo).stdout)
    assert [b["name"] for b in listed["backups"]] == [made["name"]]
    # The day goes on: a top-up in the cashier's shift, then someone edits balances behind
    # the app's back.
    cashier = {"POS_OPERATOR": "cashier", "POS_PASSWORD": "cashier123"}
    c.ok("shift open --float 500", env=cashier)
    c.ok(f"topup {card} 100", env=cashier)
    assert balances(c.data_dir) != before
    con = sqlite3.connect(c.data_dir / DB_FILENAME)
    con.execute("UPDATE card SET principal_fen = principal_fen + 99900")
    con.commit()
    con.close()
    assert c.run("verify", json=True).exit_code == 3
    refused = c.run(f"backup restore {made['name']}", json=True, env=demo)
    assert refused.exit_code == 2  # --yes is required where nobody can be asked
    restored = c.run(
        f"backup restore {made['name']} --yes",
        json=True,
        env={"POS_OPERATOR": "manager", "POS_PASSWORD": "manager123"},
    )
    assert restored.exit_code == 0, (restored.stdout, restored.stderr)
    assert balances(c.data_dir) == before  # bit for bit, every balance
    assert c.json("verify")["ok"]
    assert list(c.data_dir.glob("replaced-*"))


def test_day_close_makes_a_backup(tmp_path: Path) -> None:
    c = Cli(tmp_path / "store")
    c.ok(
        "init --store-code sh01 --store-name 上海南京路店 --admin-login admin "
        "--admin-password admin123"
    )
    admin = {"POS_OPERATOR": "admin", "POS_PASSWORD": "admin123"}
    c.ok("shift open --float 100", env=admin)
    c.ok("shift close --counted 100", env=admin)
    closed = c.run("report day-close", json=True, env=admin)
    assert closed.exit_code == 0 and one_json(closed.stdout)["closed"]
    listed = one_json(c.run("backup list", json=True, env=admin).stdout)
    assert [b["reason"] for b in listed["backups"]] == ["day_close"]
    assert f"备份 Backup: {listed['backups'][0]['name']}" in closed.stderr
    c.ok("report day-close", env=admin)  # asked again: the record is shown, no new backup
    assert one_json(c.run("backup list", json=True, env=admin).stdout)["count"] == 1


def test_a_copy_left_half_made_by_a_killed_backup_is_cleared_later(shop: StoreFixture) -> None:
    folder = shop.data_dir / "backups"
    folder.mkdir()
    old = folder / ".partial-SH01-2026-03-01-000000-000000.sqlite3"
    young = folder / ".partial-SH01-2026-03-02-015959-000000.sqlite3"
    for path in (old, young):
        path.write_bytes(b"half a database")
    os.utime(old, (time.time() - 7 * 3600, time.time() - 7 * 3600))
    back_up(shop.ctx, shop.manager)
    assert not old.exists()  # killed long ago
    assert young.exists()  # perhaps another backup at work right now
    assert len(list_backups(shop.ctx)) == 1
