"""`pos-app member find`: a cashier reads the tier by the name the rules give it (银卡), not
by its code; scripts get both."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import Cli, build_template


@pytest.fixture
def c(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "store")
    build_template(cli.data_dir)
    cli.ok("tier set silver --member-no SH010000001 --reason 老客户", as_="manager")
    return cli


def test_member_find_shows_the_tier_name(c: Cli) -> None:
    shown = c.ok("member find 张", as_="cashier").stdout
    row = next(line for line in shown.splitlines() if "SH010000001" in line)
    assert row.split()[-1] == "银卡"
    assert "silver" not in shown

    (hit,) = c.json("member find 张", as_="cashier")["members"]
    assert (hit["tier"], hit["tier_name"]) == ("silver", "银卡")
