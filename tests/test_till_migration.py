"""A store made before tills had ids migrates in place (issue 13): it becomes its store's till
01, its older entries keep no till and their hashes, its chain keeps verifying, the entries
written from then on name the till, and every row it already had waits in the sync outbox."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from alembic import command

from db.engine import make_engine
from db.migrate import alembic_config
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.checkout import sell
from pos_app.services.context import DB_FILENAME, open_store
from pos_app.services.sign_in import sign_in
from pos_app.services.verify import verify_ledger
from tests.conftest import FakeClock, hand_till_to
from tests.services.support import req

# Store SH09 as pos-app 0.1.0 left it (schema 0003, 10 entries, no key): see its README.
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "stores" / "v0.1.0.sqlite3"


def _rows(path: Path, statement: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(statement).fetchall()
    finally:
        con.close()


def test_a_store_at_revision_0006_migrates_in_place_and_keeps_verifying(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    data_dir.mkdir()
    db = data_dir / DB_FILENAME
    shutil.copy(FIXTURE, db)
    engine = make_engine(db)
    command.upgrade(alembic_config(engine), "0006")  # the last schema without tills
    engine.dispose()
    assert _rows(db, "SELECT version_num FROM alembic_version") == [("0006",)]
    before = _rows(db, "SELECT store_seq, hash FROM ledger_entry ORDER BY store_seq")
    assert len(before) == 10
    counts = {
        table: int(_rows(db, f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608 — fixed names
        for table in ("store", "operator", "member", "card", "sale", "sale_line", "shift")
    }

    ctx = open_store(data_dir, clock=FakeClock(), key_dir=tmp_path / "keys")
    try:
        assert ctx.till_id == "SH09-01"
        assert _rows(db, "SELECT id FROM till") == [("SH09-01",)]
        # The older entries: no till, the same hashes.
        old = _rows(
            db, "SELECT store_seq, hash, till_id FROM ledger_entry WHERE store_seq <= 10 "
            "ORDER BY store_seq",
        )  # fmt: skip
        assert [(seq, h) for seq, h, _ in old] == before
        assert {till for _, _, till in old} == {None}
        # Everything the store held before waits in the outbox, as inserts.
        for table, count in counts.items():
            queued = _rows(
                db,
                "SELECT count(DISTINCT row_key) FROM sync_outbox "  # noqa: S608
                f"WHERE table_name = '{table}' AND op = 'I'",
            )[0][0]
            assert queued == count, table
        assert _rows(db, "SELECT count(*) FROM sync_outbox WHERE table_name = 'till'") == [(1,)]
        report = verify_ledger(ctx)
        assert report.ok, report.problems
        assert report.till_id == "SH09-01"

        # Written from now on: the till is named (the sealing on first open, then a sale).
        admin = sign_in(ctx, "admin", "admin123")
        load_demo_catalogue(ctx, admin)
        hand_till_to(ctx, admin, 10000)
        sale = sell(ctx, admin, req(("V001", 1)))
        assert sale.receipt_no.startswith("SH09-01-")
        new = _rows(db, "SELECT DISTINCT till_id FROM ledger_entry WHERE store_seq > 10")
        assert new == [("SH09-01",)]
        assert (
            _rows(db, f"SELECT count(*) FROM sync_outbox WHERE row_key LIKE '%{sale.sale_id}%'")[0][
                0
            ]
            >= 1
        )  # the new sale is queued by the triggers, in its own transaction
        report = verify_ledger(ctx)
        assert report.ok, report.problems
        assert report.entries > 10
    finally:
        ctx.engine.dispose()
