"""The store's key: made at set-up, given to a store made by an older version when it is first
opened, never replaced; the head record beside it; operators sealed."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from pos_app.domain.errors import AuthenticationFailed
from pos_app.services import stored_value
from pos_app.services.chain_head import SLOT_BYTES, head_record_path, read_head
from pos_app.services.context import DB_FILENAME, open_store
from pos_app.services.employee_cards import employee_card_hash, sign_in_by_card
from pos_app.services.sign_in import sign_in
from pos_app.services.store_secret import StoreKeyError, key_path, load_keys
from pos_app.services.store_setup import init_store
from pos_app.services.verify import verify_ledger
from tests.conftest import FakeClock, hand_till_to
from tests.ledger_tampering import rehash

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "stores" / "v0.1.0.sqlite3"


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    """A copy of a store made by pos-app 0.1.0 (no key, plain chain, bare card hashes)."""
    data_dir = tmp_path / "legacy"
    data_dir.mkdir()
    shutil.copy(FIXTURE, data_dir / DB_FILENAME)
    return data_dir


def raw(data_dir: Path, statement: str, *params: object) -> list[tuple[object, ...]]:
    con = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        rows = con.execute(statement, params).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def test_a_new_store_gets_its_key_and_seals_from_the_first_entry(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    ctx = open_store(tmp_path / "store", clock=FakeClock(), key_dir=key_dir)
    info = init_store(ctx, "SH02", "新店", "admin", "secret123")
    keys = ctx.keys
    assert keys is not None and keys.keyed_from_seq == 1
    path = key_path(key_dir, info.store_id)
    assert path.stat().st_mode & 0o777 == 0o600  # owner only
    assert path.parent != ctx.data_dir  # apart from the database
    # The first entry records the admin, sealed.
    (kind, mac), *_ = raw(ctx.data_dir, "SELECT kind, mac FROM ledger_entry ORDER BY store_seq")
    assert kind == "operator_changed" and mac
    head = read_head(keys, ctx.data_dir)
    assert head is not None and head.seq == 1 and head.genuine
    assert verify_ledger(ctx).ok
    ctx.engine.dispose()


def test_an_older_store_is_sealed_when_first_opened(legacy: Path, tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    keys = ctx.keys
    assert keys is not None
    assert keys.keyed_from_seq == 11  # the version 0.1.0 wrote 10 entries without a MAC
    rows = raw(legacy, "SELECT store_seq, kind, mac FROM ledger_entry ORDER BY store_seq")
    assert all(mac is None for seq, _, mac in rows if seq <= 10)
    sealed = [(kind, mac) for seq, kind, mac in rows if seq > 10]
    assert [k for k, _ in sealed] == ["operator_changed"] * 3 and all(m for _, m in sealed)
    report = verify_ledger(ctx)
    assert report.ok, report.problems
    # Everyone signs in as before, by password and by the employee card given in 0.1.0.
    manager = sign_in(ctx, "manager", "manager123")
    assert sign_in_by_card(ctx, "E2000001").login == "manager"
    (stored,) = raw(legacy, "SELECT employee_card_hash FROM operator WHERE login = 'manager'")[0]
    assert stored != hashlib.sha256(b"E2000001").hexdigest()  # keyed now
    assert stored == employee_card_hash(keys, "E2000001")
    # Money written from now on is sealed, and the balance carried over is intact.
    hand_till_to(ctx, manager)
    result = stored_value.top_up(ctx, manager, "88880001", 10_000)
    assert result.balance.principal_fen == 50_000 - 1_360 + 10_000
    assert verify_ledger(ctx).ok
    ctx.engine.dispose()
    # Opening it again changes nothing.
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    assert raw(legacy, "SELECT count(*) FROM ledger_entry")[0][0] == 15  # and the new shift
    ctx.engine.dispose()


def test_an_old_entry_rewritten_and_rehashed_up_to_the_key_is_caught(
    legacy: Path, tmp_path: Path
) -> None:
    """Entries from before the key have no MAC, but the first sealed entry's MAC covers its
    link to them: re-hashing the old part breaks the link where the seals begin."""
    key_dir = tmp_path / "keys"
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    ctx.engine.dispose()
    con = sqlite3.connect(legacy / DB_FILENAME)
    con.row_factory = sqlite3.Row
    con.execute("DROP TRIGGER ledger_entry_no_update")
    # The WeChat top-up turned into cash taken at the till, before the key existed.
    con.execute("UPDATE ledger_entry SET tender = 'cash' WHERE kind = 'topup'")
    rehash(con, 1, 10)
    con.commit()
    con.close()
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    report = verify_ledger(ctx)
    assert report.first_bad_entry is not None and report.first_bad_entry.store_seq == 11
    ctx.engine.dispose()


def test_a_lost_key_is_never_replaced(legacy: Path, tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    keys = ctx.keys
    assert keys is not None
    cashier = sign_in(ctx, "cashier", "cashier123")
    ctx.engine.dispose()
    keys.path.unlink()
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    assert ctx.keys is None and not keys.path.exists()  # not silently made anew
    with pytest.raises(StoreKeyError, match="key file is missing"):
        stored_value.top_up(ctx, cashier, "88880001", 10_000)
    with pytest.raises(StoreKeyError):
        sign_in(ctx, "cashier", "cashier123")
    report = verify_ledger(ctx)
    assert not report.ok and report.problems[0].where == "key"
    ctx.engine.dispose()


def test_a_key_file_of_another_store_is_refused(legacy: Path, tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    keys = ctx.keys
    assert keys is not None
    data = json.loads(keys.path.read_text())
    data["store_id"] = "someone-else"
    keys.path.write_text(json.dumps(data))
    with pytest.raises(StoreKeyError, match="another store"):
        load_keys(key_dir, keys.store_id)
    ctx.engine.dispose()


def test_a_forged_head_record_is_reported(legacy: Path, tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    keys = ctx.keys
    assert keys is not None
    path = head_record_path(keys, legacy)
    forged = json.dumps({"seq": 5, "hash": "0" * 64, "at": "", "mac": "f" * 64}).encode()
    # Someone trying to make a truncation to #5 look recorded, in both slots.
    path.write_bytes((forged.ljust(SLOT_BYTES - 1) + b"\n") * 2)
    report = verify_ledger(ctx)
    assert [p.where for p in report.problems] == ["head record"]
    ctx.engine.dispose()


def test_an_operator_row_changed_outside_the_app_cannot_sign_in(
    legacy: Path, tmp_path: Path
) -> None:
    """A password hash swapped for one whose password is known: refused at sign-in."""
    key_dir = tmp_path / "keys"
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    ctx.engine.dispose()
    (known,) = raw(legacy, "SELECT password_hash FROM operator WHERE login = 'cashier'")[0]
    raw(legacy, "UPDATE operator SET password_hash = ? WHERE login = 'admin'", known)
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    with pytest.raises(AuthenticationFailed) as refused:
        sign_in(ctx, "admin", "cashier123")
    assert refused.value.code == "operator_tampered"
    report = verify_ledger(ctx)
    assert any(p.where == "operator admin" for p in report.problems)
    ctx.engine.dispose()


def test_a_head_record_torn_by_a_power_cut_falls_back_to_the_slot_before(
    legacy: Path, tmp_path: Path
) -> None:
    """The head is written in place in one of two slots (no rename on a sale's path); a write
    torn in the middle spoils that slot only, and the other still holds the head before."""
    key_dir = tmp_path / "keys"
    ctx = open_store(legacy, clock=FakeClock(), key_dir=key_dir)
    keys = ctx.keys
    assert keys is not None
    manager = sign_in(ctx, "manager", "manager123")
    hand_till_to(ctx, manager)
    stored_value.top_up(ctx, manager, "88880001", 10_000)
    head = read_head(keys, legacy)
    assert head is not None and head.seq == 15
    path = head_record_path(keys, legacy)
    raw = bytearray(path.read_bytes())
    slot = (head.seq % 2) * SLOT_BYTES
    raw[slot + 20 : slot + SLOT_BYTES] = b"\0" * (SLOT_BYTES - 20)  # torn mid-write
    path.write_bytes(bytes(raw))
    fallback = read_head(keys, legacy)
    assert (
        fallback is not None and fallback.genuine and fallback.seq == 14
    )  # the shift opened before the top-up
    assert verify_ledger(ctx).ok  # a lag, not a problem
    ctx.engine.dispose()
