"""Log lines go to the store's log file only; `pos-app -v` shows them on stderr too.

The terminal is for the command's result and its errors: an English INFO line from the
ledger, from Alembic's migrations or from a device library is noise to a cashier there.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from click.testing import Result

from pos_app.cli.main import cli
from tests.test_cli import CARD, EXAMPLE_RULES, Cli

# What a log record looks like on the terminal, whatever the format: its level name or one of
# the loggers that write during these commands.
ADMIN = "--admin-login admin --admin-password admin123"
LOG_LINE = re.compile(r"\b(DEBUG|INFO|WARNING)\b|alembic|pos_app\.|hardware\.")


def quiet(result: Result) -> None:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert not LOG_LINE.search(result.stdout), result.stdout
    assert not LOG_LINE.search(result.stderr), result.stderr


def log_text(data_dir: Path) -> str:
    return (data_dir / "logs" / "pos-app.log").read_text(encoding="utf-8")


def test_write_commands_show_results_only_and_log_to_the_file(tmp_path: Path) -> None:
    c = Cli(tmp_path / "store")
    quiet(c.run(f"init --store-code SH01 --store-name 测试店 {ADMIN}"))
    quiet(c.run("rules", "load", EXAMPLE_RULES, as_="admin"))
    cashier = "--login cashier --name 王收银 --role cashier --password cashier123"
    quiet(c.run(f"operator add {cashier}", as_="admin"))
    quiet(c.run("member add --mobile 13800138000 --name 张三", as_="cashier"))
    quiet(c.run(f"card issue --member-no SH010000001 --card-no {CARD}", as_="cashier"))
    quiet(c.run("shift open --float 0", as_="cashier"))
    topup = c.run(f"topup {CARD} 500", as_="cashier")
    quiet(topup)
    assert "充值成功" in topup.stdout

    text = log_text(c.data_dir)
    # The new store's migrations and the ledger's lines are in the file, card numbers masked.
    assert "INFO alembic.runtime.migration Running upgrade  -> 0001" in text
    assert "stored_value.topup by cashier on 88****01" in text
    assert CARD not in text


def test_verbose_shows_the_log_lines_on_stderr_and_keeps_stdout_for_the_result(
    tmp_path: Path,
) -> None:
    c = Cli(tmp_path / "store")
    init = c.run(f"-v init --store-code SH01 --store-name 测试店 {ADMIN}")
    assert init.exit_code == 0, init.stderr
    assert "INFO alembic.runtime.migration Running upgrade  -> 0001" in init.stderr
    assert not LOG_LINE.search(init.stdout)

    c.run("rules", "load", EXAMPLE_RULES, as_="admin")
    c.run("member add --mobile 13800138000 --name 张三", as_="admin")
    c.run(f"card issue --member-no SH010000001 --card-no {CARD}", as_="admin")
    c.run("shift open --float 0", as_="admin")
    topup = c.run(f"--verbose topup {CARD} 500", as_="admin")
    assert topup.exit_code == 0, topup.stderr
    assert "INFO pos_app.services.use_case stored_value.topup by admin on 88****01" in topup.stderr
    assert CARD not in topup.stderr  # masked on the terminal as in the file
    assert not LOG_LINE.search(topup.stdout)

    # The next run without -v is quiet again: -v lasts for its own invocation only.
    quiet(c.run(f"topup {CARD} 100", as_="admin"))


def test_a_warning_with_no_store_log_does_not_reach_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a store (no log file to write to), logging's last resort would print a
    library's warning on stderr; a command-line run keeps even that off the terminal."""
    # As in a real process: no handler anywhere (pytest's capture handlers taken away).
    monkeypatch.setattr(logging.getLogger(), "handlers", [])

    @cli.command("warn-test", hidden=True)
    def warn_test() -> None:
        logging.getLogger("hardware.printing.spooler").warning("print job x failed: test")

    try:
        result = Cli(tmp_path / "nowhere").run("warn-test")
        quiet(result)
        assert "print job x failed" not in result.stderr  # logging's last resort: bare text
        loud = Cli(tmp_path / "nowhere").run("-v warn-test")
        assert "WARNING hardware.printing.spooler print job x failed: test" in loud.stderr
    finally:
        del cli.commands["warn-test"]
