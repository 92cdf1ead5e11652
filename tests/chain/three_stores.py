"""Three stores of one chain on one real HQ (served over HTTP in a thread), for the issue's
end-to-end proof: SH01, BJ01 and GZ01, one till each, every till a real store database made
by the services, enrolled at HQ, trading through the services.

The tills and HQ share one fake clock: an outage of a simulated day passes in an instant
for all of them (requests are signed with the till's clock and checked against HQ's). Tills
are copies of templates built once (scrypt and the rules take seconds): each store needs a
template of its own, since two copies of one store would share ledger entries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card, Product
from hq import clearing
from hq.card_balances import verify_cards
from hq.chain_verify import verify_tills
from hq.models import CardPosition, ChainCard
from pos_app.services.auth import Actor
from pos_app.services.catalogue import import_products
from pos_app.services.checkout import SaleResult, sell
from pos_app.services.context import StoreContext, open_store
from pos_app.services.rules import load_rules
from pos_app.services.sign_in import sign_in
from pos_app.services.store_setup import add_operator, init_store
from pos_app.services.sync_setup import setup
from pos_app.services.verify import verify_ledger
from pos_app.sync.puller import PullOutcome, pull
from pos_app.sync.pusher import PushOutcome, PushResult, push
from tests.conftest import EXAMPLE_RULES, PASSWORD, FakeClock, StoreFixture, hand_till_to
from tests.services.support import TEST_GOODS, req
from tests.sync_support.hq_thread import HqThread
from tests.sync_support.tills import Template, copy_template, enroll_at_hq

# 10:00 in Shanghai on a Tuesday: a simulated day later is still the same month.
START = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
MONTH = "2026-03"
STORES = {"SH01": "上海南京路店", "BJ01": "北京王府井店", "GZ01": "广州天河店"}
CARD = "88880001"


def build_store_template(folder: Path, store: str) -> Template:
    """Till `<store>-01` of its store, set up as a store is (admin, manager, cashier, the
    example rules, goods of exact prices), at the scenario's start."""
    ctx = open_store(folder, clock=FakeClock(START))
    init_store(ctx, store, STORES[store], "admin", PASSWORD, till_id=f"{store}-01")
    admin_actor = sign_in(ctx, "admin", PASSWORD)
    add_operator(ctx, admin_actor, "manager", "李店长", "manager", PASSWORD)
    add_operator(ctx, admin_actor, "cashier", "王收银", "cashier", PASSWORD)
    load_rules(ctx, admin_actor, EXAMPLE_RULES.read_text(encoding="utf-8"), "rules.example.toml")
    manager = sign_in(ctx, "manager", PASSWORD)
    cashier = sign_in(ctx, "cashier", PASSWORD)
    goods = folder / "test-goods.csv"
    goods.write_text(TEST_GOODS, encoding="utf-8")
    import_products(ctx, manager, goods)
    ctx.engine.dispose()
    return folder, admin_actor, manager, cashier


@dataclass
class StoreTill:
    """One store's till, enrolled at HQ, its cashier's shift open."""

    code: str
    store: StoreFixture

    @property
    def ctx(self) -> StoreContext:
        return self.store.ctx

    @property
    def store_code(self) -> str:
        return self.code.rsplit("-", 1)[0]

    @property
    def cashier(self) -> Actor:
        return self.store.cashier

    def push(self) -> PushOutcome:
        return push(self.ctx)

    def pushed(self) -> None:
        outcome = push(self.ctx)
        assert outcome.result is PushResult.DONE and outcome.pending == 0, outcome

    def pull(self) -> PullOutcome:
        return pull(self.ctx)

    def pulled(self) -> PullOutcome:
        outcome = pull(self.ctx)
        assert outcome.ok, outcome
        return outcome

    def spend(self, yuan: int, card_no: str = CARD) -> SaleResult:
        """A sale of exactly `yuan` yuan paid from the card's stored value."""
        lines = [("X100", yuan // 100), ("X001", yuan % 100)]
        return sell(
            self.ctx,
            self.cashier,
            req(
                *[line for line in lines if line[1]],
                card=card_no,
                pay=[("stored_value", yuan * 100)],
            ),
        )

    def spend_what_it_can(self, yuan: int, card_no: str = CARD) -> int:
        """A sale of `yuan` yuan, the card's stored value paying what it can and cash the
        rest: the stored value it took, in fen."""
        lines = [("X100", yuan // 100), ("X001", yuan % 100)]
        sale = sell(
            self.ctx,
            self.cashier,
            req(
                *[line for line in lines if line[1]],
                card=card_no,
                pay=[("stored_value", None), ("cash", None)],
            ),
        )
        return sum(t.amount_fen for t in sale.receipt.tenders if t.tender == "stored_value")

    def card(self, card_no: str = CARD) -> Card | None:
        with read_session(self.ctx.engine) as s:
            card = s.scalars(select(Card).where(Card.card_no == card_no)).one_or_none()
            if card is not None:
                s.expunge(card)
            return card

    def verified(self) -> None:
        report = verify_ledger(self.ctx)
        assert report.ok, (self.code, [f"{p.where}: {p.message}" for p in report.problems])

    def close(self) -> None:
        self.ctx.engine.dispose()


def open_store_till(
    template: Template, folder: Path, store: str, clock: FakeClock, hq: HqThread
) -> StoreTill:
    """A copy of the store's template on the shared clock, enrolled at `hq`."""
    template_dir, admin_actor, manager, cashier = template
    data_dir = folder / store
    copy_template(template_dir, data_dir)
    ctx = open_store(data_dir, clock=clock)
    code = f"{store}-01"
    assert ctx.till_id == code, "each store has a template of its own"
    with read_session(ctx.engine) as s:
        assert s.scalar(select(func.count()).select_from(Product)), "no goods in the template"
    assert setup(ctx, admin_actor, hq.url, enroll_at_hq(hq.engine, store, STORES[store])).till_id
    hand_till_to(ctx, cashier)
    return StoreTill(code, StoreFixture(ctx, clock, admin_actor, manager, cashier, data_dir))


def hq_verify_problems(hq: HqThread) -> list[object]:
    """What `pos-hq verify` checks: every till's chain, every card's balances."""
    with Session(hq.engine) as session:
        chains = verify_tills(session)
        cards = verify_cards(session)
    return [*(p for c in chains for p in c.problems), *cards.problems]


def clearing_statement(hq: HqThread, month: str = MONTH) -> clearing.Statement:
    with Session(hq.engine) as session, session.begin():
        return clearing.statement(session, month)


def chain_balance(hq: HqThread, card_no: str = CARD) -> tuple[int, int] | None:
    """(principal, bonus) of the card across the chain, as HQ holds it: Σ positions."""
    with Session(hq.engine) as session:
        card_id = session.scalar(select(ChainCard.id).where(ChainCard.card_no == card_no))
        if card_id is None:
            return None
        principal, bonus = session.execute(
            select(
                func.coalesce(func.sum(CardPosition.principal_fen), 0),
                func.coalesce(func.sum(CardPosition.bonus_fen), 0),
            ).where(CardPosition.card_id == card_id)
        ).one()
        return int(principal), int(bonus)


def console_script(name: str) -> str:
    beside_python = Path(sys.executable).with_name(name)
    assert beside_python.exists(), f"the {name} console script is not installed (pip install -e .)"
    return str(beside_python)


def pos_hq(db_url: str, *args: str) -> tuple[int, dict[str, Any]]:
    """The installed `pos-hq --db URL --json …`, run as a process: (exit code, its object)."""
    done = subprocess.run(
        [console_script("pos-hq"), "--db", db_url, "--json", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    data = json.loads(done.stdout)
    assert isinstance(data, dict), done.stdout
    return done.returncode, data


def pos_app_verify(data_dir: Path) -> tuple[int, dict[str, Any]]:
    """The installed `pos-app --data-dir DIR --json verify`, run as a process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POS_") or k == "POS_KEY_DIR"}
    done = subprocess.run(
        [console_script("pos-app"), "--data-dir", str(data_dir), "--json", "verify"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    data = json.loads(done.stdout)
    assert isinstance(data, dict), done.stdout
    return done.returncode, data
