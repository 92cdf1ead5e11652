"""The last line of defence of `pos-app`: a bug becomes a short message and exit code 70
with the traceback in the store's log, and a damaged database file a clear refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pos_app.cli import exit_codes
from pos_app.services.context import DB_FILENAME
from tests.test_cli import CARD, PASSWORDS, Cli, build_template, copy_store


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-internal-template") / "store"
    build_template(data_dir)
    return data_dir


@pytest.fixture
def c(template_dir: Path, tmp_path: Path) -> Cli:
    return Cli(copy_store(template_dir, tmp_path / "store"))


@pytest.fixture
def broken_balance(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in a service: the card number and a password end up in the exception."""

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"bug while reading card {CARD}")

    monkeypatch.setattr("pos_app.cli.money_cmd.card_balance", crash)


def test_a_bug_is_an_internal_error_with_the_traceback_in_the_log(c: Cli, broken_balance) -> None:
    result = c.run(f"balance {CARD}", as_="cashier", lang="en")
    assert result.exit_code == exit_codes.INTERNAL_ERROR == 70
    assert "Traceback" not in result.stdout + result.stderr
    log_file = c.data_dir / "logs" / "pos-app.log"
    assert f"Internal error (RuntimeError); details are in the log at {log_file}" in result.stderr
    logged = log_file.read_text(encoding="utf-8")
    assert "internal error in `cli balance`" in logged  # CliRunner calls the program "cli"
    assert "Traceback (most recent call last)" in logged
    assert "RuntimeError: bug while reading card 888****0001" in logged  # masked
    assert CARD not in logged
    assert PASSWORDS["cashier"] not in logged  # the command line is never logged


def test_with_json_the_internal_error_is_one_json_object(c: Cli, broken_balance) -> None:
    result = c.run(f"balance {CARD}", as_="cashier", json=True)
    assert result.exit_code == 70
    error = json.loads(result.stdout)
    assert error["error"] == "internal_error"
    assert "内部错误" in error["message"]


@pytest.mark.parametrize("damage", [b"not a database at all" * 100, None])
def test_a_damaged_database_is_refused_pointing_at_verify_and_backups(
    c: Cli, damage: bytes | None
) -> None:
    db = c.data_dir / DB_FILENAME
    if damage is None:  # the header intact, the pages behind it overwritten
        data = bytearray(db.read_bytes())
        data[100:] = b"\xff" * (len(data) - 100)
        damage = bytes(data)
    db.write_bytes(damage)
    (c.data_dir / (DB_FILENAME + "-wal")).unlink(missing_ok=True)
    result = c.run(f"balance {CARD}", as_="cashier", json=True)
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    error = json.loads(result.stdout)
    assert error["error"] == "database_damaged"
    assert "pos-app verify" in error["message"] and "备份" in error["message"]


def test_without_a_store_the_traceback_goes_to_a_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing may be created in a data folder that may be mistyped: no store, no log there.
    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("bug before the store was opened")

    monkeypatch.setattr("pos_app.cli.invocation.Invocation.store", crash)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    nowhere = tmp_path / "nowhere"
    result = Cli(nowhere).run(f"balance {CARD}", as_="cashier", lang="en")
    assert result.exit_code == 70
    (log_file,) = tmp_path.glob("pos-app-error-*.log")
    assert f"details are in the log at {log_file}" in result.stderr
    assert "RuntimeError: bug before the store was opened" in log_file.read_text(encoding="utf-8")
    assert not nowhere.exists()
