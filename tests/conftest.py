"""Shared fixtures: a real SQLite store in a temporary folder, with operators and rules.

Hashing passwords is deliberately slow (scrypt), so one template store is built per session
and copied for each test; the copy is a real database file, migrated like any other.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pos_app.domain.permissions import Permission
from pos_app.services.auth import Actor, Approval
from pos_app.services.context import DB_FILENAME, StoreContext, open_store
from pos_app.services.rules import load_rules
from pos_app.services.sign_in import approve, sign_in
from pos_app.services.store_setup import add_operator, init_store

# Widgets are tested without a screen (as Picard does): set before Qt is first imported.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Stores' key files go to a folder of this run, not the user's config folder (a test store
# copied from the template shares the template's key, as a restored copy would).
os.environ["POS_KEY_DIR"] = tempfile.mkdtemp(prefix="pos-keys-")

EXAMPLE_RULES = (
    Path(__file__).resolve().parent.parent / "pos_app" / "resources" / "rules.example.toml"
)
PASSWORD = "secret123"


class FakeClock:
    """A clock tests move by hand. Starts at 2026-03-02 10:00 Asia/Shanghai (02:00 UTC)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(microseconds=1)  # every call is a distinct instant
        return self.moment

    def advance(self, **kwargs: float) -> None:
        self.moment += timedelta(**kwargs)

    def set(self, moment: datetime) -> None:
        self.moment = moment


@dataclass
class StoreFixture:
    """A store with an admin, a manager and a cashier signed in, and the example rules loaded."""

    ctx: StoreContext
    clock: FakeClock
    admin: Actor
    manager: Actor
    cashier: Actor
    data_dir: Path

    def approval(self, permission: Permission) -> Approval:
        """The manager approves one privileged action (as at the till)."""
        return approve(self.ctx, "manager", PASSWORD, permission)

    def at_till(self, actor: Actor, float_fen: int = 0) -> None:
        """Make `actor` the till's cashier: see `hand_till_to`."""
        hand_till_to(self.ctx, actor, float_fen)


def hand_till_to(ctx: StoreContext, actor: Actor, float_fen: int = 0) -> None:
    """Make `actor` the till's cashier: money moves only in the actor's own shift. A shift of
    someone else's is handed over first, its drawer counted exactly."""
    # Imported here: the services' module graph is heavy and most fixtures never need it.
    from pos_app.services import reports, shifts

    current = shifts.current_shift(ctx, actor)
    if current is not None and current.opened_by == actor.login:
        return
    if current is not None:
        expected = reports.x_report(ctx, actor).figures.cash.expected_fen
        shifts.close_shift(ctx, actor, max(0, expected))
    shifts.open_shift(ctx, actor, float_fen)


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Actor, Actor, Actor]:
    data_dir = tmp_path_factory.mktemp("template-store")
    ctx = open_store(data_dir, clock=FakeClock())
    init_store(ctx, "SH01", "上海南京路店", "admin", PASSWORD, admin_name="管理员")
    admin = sign_in(ctx, "admin", PASSWORD)
    add_operator(ctx, admin, "manager", "李店长", "manager", PASSWORD)
    add_operator(ctx, admin, "cashier", "王收银", "cashier", PASSWORD)
    load_rules(ctx, admin, EXAMPLE_RULES.read_text(encoding="utf-8"), "rules.example.toml")
    manager = sign_in(ctx, "manager", PASSWORD)
    cashier = sign_in(ctx, "cashier", PASSWORD)
    ctx.engine.dispose()  # checkpoint-free copy below needs no open connections
    return data_dir, admin, manager, cashier


@pytest.fixture
def store(_template: tuple[Path, Actor, Actor, Actor], tmp_path: Path) -> StoreFixture:
    template_dir, admin, manager, cashier = _template
    data_dir = tmp_path / "store"
    data_dir.mkdir()
    for name in (DB_FILENAME, DB_FILENAME + "-wal"):
        if (template_dir / name).exists():
            shutil.copy(template_dir / name, data_dir / name)
    clock = FakeClock()
    ctx = open_store(data_dir, clock=clock)
    yield StoreFixture(ctx, clock, admin, manager, cashier, data_dir)
    ctx.engine.dispose()


def load_rules_text(store: StoreFixture, text: str) -> None:
    """Replace the rules in force (as the admin would with `pos-app rules load`)."""
    load_rules(store.ctx, store.admin, text, "test")
