"""`pos-app operator card`: an admin gives an operator an employee card; the demo has some."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_app.services.context import open_store
from pos_app.services.employee_cards import sign_in_by_card
from tests.test_cli import Cli, build_template, copy_store, one_json


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli-template") / "store"
    build_template(data_dir)
    return data_dir


@pytest.fixture
def c(template_dir: Path, tmp_path: Path) -> Cli:
    return Cli(copy_store(template_dir, tmp_path / "store"))


def card_login(data_dir: Path, card_no: str) -> str:
    """Who the card signs in (through the service, as the till does)."""
    ctx = open_store(data_dir)
    try:
        return sign_in_by_card(ctx, card_no).login
    finally:
        ctx.engine.dispose()


def test_an_admin_gives_the_cashier_a_card_that_signs_in(c: Cli) -> None:
    data = c.json("operator card cashier e1000001", as_="admin")
    assert data == {"login": "cashier", "employee_card": "E1****01"}
    assert card_login(c.data_dir, "E1000001") == "cashier"
    text = c.ok("operator card cashier E1000002", as_="admin").stdout
    assert "员工卡已分配" in text and "E1****02" in text
    assert "E1000002" not in text  # shown masked


def test_only_an_admin_assigns_cards(c: Cli) -> None:
    refused = c.run("operator card manager E2000001", as_="manager", json=True)
    assert refused.exit_code == 1
    assert one_json(refused.stdout)["error"] == "permission_denied"


def test_a_taken_card_or_a_member_card_is_refused(c: Cli) -> None:
    c.ok("operator card manager E2000001", as_="admin")
    taken = c.run("operator card cashier E2000001", as_="admin", json=True)
    assert taken.exit_code == 1
    assert one_json(taken.stdout)["error"] == "already_exists"
    member_card = c.run("operator card cashier 88880001", as_="admin", json=True)
    assert member_card.exit_code != 0
    error = one_json(member_card.stdout)
    assert error["error"] == "invalid_input" and "是会员卡" in error["message"]
    unknown = c.run("operator card nobody E3000001", as_="admin", json=True)
    assert one_json(unknown.stdout)["error"] == "not_found"
    assert card_login(c.data_dir, "E2000001") == "manager"


def test_the_demo_stores_manager_and_cashier_have_employee_cards(tmp_path: Path) -> None:
    demo = Cli(tmp_path / "demo")
    data = demo.json("demo --no-gui --members 4")
    cards = {x["login"]: x["card_no"] for x in data["employee_cards"]}
    assert set(cards) == {"manager", "cashier", "cashier2"}
    for login, card_no in cards.items():
        assert card_login(demo.data_dir, card_no) == login
    text = demo.ok("demo --no-gui").stdout
    assert "员工卡 Employee card" in text
    assert all(card_no in text for card_no in cards.values())  # demo cards are meant to be seen
