"""`pos-hq` admin commands against a real database, SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from click.testing import CliRunner, Result
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session

from hq.cli import main
from hq.models import EnrollmentToken, Till


def hq(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", url, "--json", *args])


def ok(url: str, *args: str) -> dict[str, object]:
    result = hq(url, *args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def initialised(url: str) -> str:
    ok(url, "init")
    return url


def test_init_creates_the_schema_and_a_second_init_changes_nothing(hq_url):
    assert ok(hq_url, "init") == {"initialised": True, "upgraded": True, "revision": "0003"}
    assert ok(hq_url, "init") == {"initialised": True, "upgraded": False, "revision": "0003"}
    engine = create_engine(hq_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"store", "till", "enrollment_token", "hq_ledger_entry", "fork"} <= tables


def test_commands_before_init_are_refused(hq_url):
    result = hq(hq_url, "store", "add", "--code", "SH01", "--name", "徐汇店")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"] == "not_initialised"


def test_a_store_is_added_once(hq_url):
    url = initialised(hq_url)
    assert ok(url, "store", "add", "--code", "SH01", "--name", "徐汇店") == {
        "store": "SH01",
        "name": "徐汇店",
    }
    again = hq(url, "store", "add", "--code", "SH01", "--name", "另一家")
    assert again.exit_code == 1
    assert json.loads(again.stdout)["error"] == "already_exists"
    assert "SH01" in again.stderr


def test_a_bad_store_code_is_invalid_input(hq_url):
    url = initialised(hq_url)
    for code in ("sh01", "S", "SH-01", "A" * 17, "上海01"):
        result = hq(url, "store", "add", "--code", code, "--name", "店")
        assert result.exit_code == 2, code
        assert json.loads(result.stdout)["error"] == "invalid_input"
    assert ok(url, "status") == {"tills": []}  # nothing was written
    assert ok(url, "store", "add", "--code", "A" * 16, "--name", "店")["store"] == "A" * 16


def test_tills_are_numbered_per_store(hq_url):
    url = initialised(hq_url)
    ok(url, "store", "add", "--code", "SH01", "--name", "徐汇店")
    ok(url, "store", "add", "--code", "BJ02", "--name", "朝阳店")
    tills = [ok(url, "till", "enroll", "--store", s)["till"] for s in ("SH01", "SH01", "BJ02")]
    assert tills == ["SH01-01", "SH01-02", "BJ02-01"]
    assert ok(url, "till", "enroll", "--store", "SH01")["till"] == "SH01-03"


def test_enrolling_at_an_unknown_store_is_refused(hq_url):
    url = initialised(hq_url)
    result = hq(url, "till", "enroll", "--store", "NOPE")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"] == "not_found"


def test_only_the_tokens_hash_is_stored_and_it_expires_in_24_hours(hq_url):
    url = initialised(hq_url)
    ok(url, "store", "add", "--code", "SH01", "--name", "徐汇店")
    enrolled = ok(url, "till", "enroll", "--store", "SH01")
    assert set(enrolled) == {"till", "token"}
    token = str(enrolled["token"])
    assert len(token) >= 43  # 32 random bytes, base64url
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            row = session.execute(
                select(EnrollmentToken).join(Till).where(Till.code == "SH01-01")
            ).scalar_one()
            assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
            assert row.used_at is None
            lifetime = datetime.fromisoformat(row.expires_at) - datetime.fromisoformat(
                row.issued_at
            )
            assert lifetime == timedelta(hours=24)
            with engine.connect() as conn:  # the token appears in no column of any table
                for table in inspect(conn).get_table_names():
                    dump = str(conn.execute(text(f"SELECT * FROM {table}")).all())
                    assert token not in dump, table
    finally:
        engine.dispose()


def test_status_lists_every_till_in_the_contracts_shape(hq_url):
    url = initialised(hq_url)
    ok(url, "store", "add", "--code", "SH01", "--name", "徐汇店")
    ok(url, "store", "add", "--code", "BJ02", "--name", "朝阳店")
    for store in ("SH01", "BJ02", "SH01"):
        ok(url, "till", "enroll", "--store", store)
    empty = {"acked_seq": 0, "head_hash": None, "entries": 0, "forks": 0, "last_seen": None}
    assert ok(url, "status") == {
        "tills": [
            {"store": "BJ02", "till": "BJ02-01", **empty},
            {"store": "SH01", "till": "SH01-01", **empty},
            {"store": "SH01", "till": "SH01-02", **empty},
        ]
    }


def test_the_database_comes_from_POS_HQ_DB(hq_url):
    result = CliRunner().invoke(main, ["--json", "init"], env={"POS_HQ_DB": hq_url})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["upgraded"] is True


def test_an_unreachable_database_is_a_refusal_not_a_crash(tmp_path):
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"
    result = hq(url, "init")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"] == "database_error"
