"""Two stores of one chain, each with its own till, on one real HQ (uvicorn in a thread, on
SQLite and on a fresh PostgreSQL database): the till of SH01 and the till of BJ01, set up as
a store is, enrolled, with the example rules and the demo catalogue, each shift open."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from hq.card_balances import verify_cards
from hq.chain_verify import verify_tills
from pos_app.services.auth import Actor
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.context import StoreContext, open_store
from pos_app.services.rules import load_rules
from pos_app.services.sign_in import sign_in
from pos_app.services.store_setup import init_store
from pos_app.services.sync_setup import setup
from pos_app.services.verify import verify_ledger
from pos_app.sync.puller import PullOutcome, pull
from pos_app.sync.pusher import PushResult, push
from tests.conftest import EXAMPLE_RULES, PASSWORD, FakeClock, hand_till_to
from tests.sync_support.hq_databases import hq_database
from tests.sync_support.hq_thread import HqThread
from tests.sync_support.tills import enroll_at_hq


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with hq_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def hq(hq_url: str) -> Iterator[HqThread]:
    with HqThread(hq_url) as server:
        yield server


@dataclass
class ChainTill:
    code: str
    ctx: StoreContext
    admin: Actor

    def push(self) -> None:
        outcome = push(self.ctx)
        assert outcome.result is PushResult.DONE, outcome

    def pull(self) -> PullOutcome:
        outcome = pull(self.ctx)
        assert outcome.ok, outcome
        return outcome

    def verified(self) -> None:
        report = verify_ledger(self.ctx)
        assert report.ok, [f"{p.where}: {p.message}" for p in report.problems]


def make_till(hq: HqThread, folder: Path, store: str, name: str) -> ChainTill:
    code = f"{store}-01"
    ctx = open_store(
        folder / code, clock=FakeClock(datetime.now(UTC)), key_dir=folder / f"{code}-keys"
    )
    init_store(ctx, store, name, "admin", PASSWORD, till_id=code)
    admin = sign_in(ctx, "admin", PASSWORD)
    load_rules(ctx, admin, EXAMPLE_RULES.read_text(encoding="utf-8"), "rules.example.toml")
    load_demo_catalogue(ctx, admin)
    assert setup(ctx, admin, hq.url, enroll_at_hq(hq.engine, store, name)).till_id == code
    hand_till_to(ctx, admin, 10_000)
    return ChainTill(code, ctx, admin)


@pytest.fixture
def two_stores(hq: HqThread, tmp_path: Path) -> Iterator[tuple[ChainTill, ChainTill]]:
    shanghai = make_till(hq, tmp_path, "SH01", "上海南京路店")
    beijing = make_till(hq, tmp_path, "BJ01", "北京王府井店")
    try:
        yield shanghai, beijing
    finally:
        shanghai.ctx.engine.dispose()
        beijing.ctx.engine.dispose()


def hq_verified(hq: HqThread) -> None:
    """`pos-hq verify`'s checks: every till's chain, every card's balances."""
    with Session(hq.engine) as session:
        chains = verify_tills(session)
        cards = verify_cards(session)
    assert all(not c.problems for c in chains), [p for c in chains for p in c.problems]
    assert not cards.problems, cards.problems
