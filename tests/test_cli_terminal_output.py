"""What `pos-app` prints never carries a raw control character to the terminal, whatever is
in the database or on the command line: an ESC sequence in a name is shown as text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import Cli, build_template, copy_store, one_json, sql

# Clear the screen, set the window title, then a bidi override and a C1 CSI.
TAMPERED = "张\x1b[2J\x1b]0;pwned\x07三\u202egnp.exe\x9b31m"
RAW_CONTROLS = ("\x1b", "\x07", "\u202e", "\x9b")
# (click.echo itself drops ESC [ ... sequences when stdout is not a terminal, as under the
# test runner, but not on a real terminal; the BEL, bidi and C1 characters it leaves alone
# show that nothing raw gets through.)


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-terminal-template") / "store"
    build_template(data_dir)
    return data_dir


@pytest.fixture
def c(template_dir: Path, tmp_path: Path) -> Cli:
    cli = Cli(copy_store(template_dir, tmp_path / "store"))
    # An old or tampered record: written behind the app's back, as sqlite3 would.
    sql(cli, "UPDATE member SET name = ? WHERE member_no = ?", TAMPERED, "SH010000001")
    return cli


def assert_no_raw_controls(text: str) -> None:
    for ch in RAW_CONTROLS:
        assert ch not in text, repr(text)


def test_member_find_shows_the_escape_sequence_as_text(c: Cli) -> None:
    result = c.ok("member find 8000", as_="cashier")
    assert_no_raw_controls(result.stdout)
    assert "张\\x1b[2J\\x1b]0;pwned\\x07三\\u202egnp.exe\\x9b31m" in result.stdout


def test_json_output_escapes_every_control_and_round_trips(c: Cli) -> None:
    result = c.run("member find 8000", as_="cashier", json=True)
    assert result.exit_code == 0, result.stderr
    assert_no_raw_controls(result.stdout)
    assert json.loads(result.stdout)["members"][0]["name"] == TAMPERED


def test_the_balance_and_member_show_are_escaped_too(c: Cli) -> None:
    for command in ("balance 88880001", "member show --member-no SH010000001"):
        result = c.ok(command, as_="cashier")
        assert_no_raw_controls(result.stdout)
        assert "\\x1b[2J" in result.stdout


def test_a_refusal_repeating_typed_text_escapes_it(c: Cli) -> None:
    result = c.run("product", "show", "X\u202e\x07\x9b2J", as_="cashier", json=True)
    assert result.exit_code == 1
    assert_no_raw_controls(result.stderr + result.stdout)
    assert "X\\u202e\\x07\\x9b2J" in result.stderr
    assert one_json(result.stdout)["message"].endswith("X\u202e\x07\x9b2J")
