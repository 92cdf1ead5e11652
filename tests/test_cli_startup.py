"""`pos-app` loads a command's module only when that command runs or shows its help, so that
`pos-app --help` starts without SQLAlchemy, Qt, python-escpos or Alembic, and each command
without what the others need (bench/cli_startup.py has the times)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click

import pos_app.cli
from pos_app.cli.command_table import COMMANDS
from pos_app.cli.main import cli
from tests.test_cli import CARD, build_template

HEAVY = ("sqlalchemy", "alembic", "PySide6", "escpos", "PIL", "openpyxl", "smartcard", "db.models")

# Runs `pos-app ARGS...` in a fresh interpreter, then prints which heavy modules it loaded.
CHILD = f"""
import sys
from pos_app.cli.main import cli
try:
    cli.main(sys.argv[1:], prog_name="pos-app")
except SystemExit:
    pass
print("LOADED", *[m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)
"""


def loaded_by(*args: str, env: dict[str, str] | None = None) -> tuple[list[str], str]:
    """The heavy modules a fresh `pos-app ARGS` loaded, and what it printed on stdout."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("LOADED")]
    return line.split()[1:], done.stdout


def test_top_level_help_lists_every_command_without_loading_any() -> None:
    loaded, shown = loaded_by("--help")
    assert loaded == []
    listed = shown.split("Commands:")[1]
    for entry in COMMANDS:
        assert f"\n  {entry.name} " in listed


def test_a_read_command_on_a_current_store_loads_neither_alembic_nor_devices_nor_qt(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "store"
    build_template(data_dir)
    env = {
        **os.environ,  # POS_KEY_DIR: the test stores' keys
        "POS_DATA_DIR": str(data_dir),
        "POS_OPERATOR": "cashier",
        "POS_PASSWORD": "cashier123",
    }
    loaded, shown = loaded_by("balance", CARD, env=env)
    assert "¥550.00" in shown
    assert sorted(loaded) == ["db.models", "sqlalchemy"]


def test_the_listing_is_what_click_would_show_with_every_command_loaded() -> None:
    """The table's one-line summaries are the commands' own: the lazy listing and the one of
    a plain group holding every loaded command are the same text."""
    loaded = click.Group("pos-app", commands=[entry.load() for entry in COMMANDS])
    lazy_out = click.HelpFormatter(width=100)
    cli.format_commands(click.Context(cli, info_name="pos-app"), lazy_out)
    eager_out = click.HelpFormatter(width=100)
    loaded.format_commands(click.Context(loaded, info_name="pos-app"), eager_out)
    assert lazy_out.getvalue() == eager_out.getvalue()
    assert "balance" in lazy_out.getvalue()


def test_every_top_level_command_of_the_cli_modules_is_in_the_table() -> None:
    """A command defined in a *_cmd module but missing from the table could never be run."""
    commands: list[click.Command] = []
    for module in pkgutil.iter_modules(pos_app.cli.__path__):
        if module.name.endswith("_cmd"):
            found = vars(importlib.import_module(f"pos_app.cli.{module.name}")).values()
            commands += [c for c in found if isinstance(c, click.Command)]
    nested = {
        id(sub)
        for group in commands
        if isinstance(group, click.Group)
        for sub in group.commands.values()
    }
    top_level = {c.name for c in commands if id(c) not in nested}
    # `reprint` is both a command of its own and `sale reprint`, so it shows as nested too.
    assert top_level | {"reprint"} == {entry.name for entry in COMMANDS}
