"""Real tills of several stores for HQ's clearing and conflict tests: each a store database
of its own (init_store, the example rules, the demo catalogue, a member with a card and the
cashier's shift open), trading through the services on a clock the test sets; what each has
written since it last "pushed" is taken as the batch the pusher would send (the outbox's
`next_batch`) and handed to HQ's `ingest_batch`, with no HTTP in between.

Tills are built once per test module and their batches replayed into each test's HQ
database (SQLite and PostgreSQL): HQ holds the same records either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.engine import read_session
from hq import admin
from hq.ingest import ingest_batch
from hq.models import Store
from pos_app.services.auth import Actor
from pos_app.services.cards import issue_card
from pos_app.services.catalogue import load_demo_catalogue
from pos_app.services.context import open_store
from pos_app.services.members import register_member
from pos_app.services.rules import load_rules
from pos_app.services.sign_in import sign_in
from pos_app.services.store_setup import add_operator, init_store
from pos_app.sync.outbox import next_batch
from tests.conftest import EXAMPLE_RULES, PASSWORD, FakeClock, StoreFixture, hand_till_to


@dataclass
class ChainTill:
    """One till (`SH01-01`) of its own store, with member `member_no` holding card
    `card_no`. `take_batch` returns what it wrote since the last call."""

    code: str
    store: StoreFixture
    member_no: str
    card_no: str
    sent_seq: int = 0
    sent_outbox_id: int = 0
    batches: list[bytes] = field(default_factory=list)

    @property
    def store_code(self) -> str:
        return self.code.rsplit("-", 1)[0]

    def at(self, moment: datetime) -> None:
        """Move the till's clock (business time) to `moment`."""
        self.store.clock.set(moment)

    def take_batch(self) -> bytes:
        """The records written since the last batch, as the pusher would send them."""
        entries: list[dict[str, object]] = []
        rows: list[dict[str, object]] = []
        with read_session(self.store.ctx.engine) as session:
            while True:
                batch = next_batch(
                    session, self.store.ctx.store.id, self.sent_seq, self.sent_outbox_id
                )
                if not len(batch):
                    break
                entries += batch.entries
                rows += batch.rows
                self.sent_seq, self.sent_outbox_id = batch.marks_after(
                    self.sent_seq, self.sent_outbox_id
                )
        body = json.dumps({"entries": entries, "rows": rows}, ensure_ascii=False)
        return body.encode("utf-8")

    def close(self) -> None:
        self.store.ctx.engine.dispose()


def open_chain_till(
    folder: Path, code: str, store_name: str, mobile: str, card_no: str, start: datetime
) -> ChainTill:
    """A new store with till `code`, set up at `start` (its clock stays there until moved)."""
    clock = FakeClock(start)
    data_dir = folder / code
    ctx = open_store(data_dir, clock=clock)
    init_store(
        ctx,
        code.rsplit("-", 1)[0],
        store_name,
        "admin",
        PASSWORD,
        admin_name="管理员",
        till_id=code,
    )
    admin_actor = sign_in(ctx, "admin", PASSWORD)
    add_operator(ctx, admin_actor, "manager", "李店长", "manager", PASSWORD)
    add_operator(ctx, admin_actor, "cashier", "王收银", "cashier", PASSWORD)
    load_rules(ctx, admin_actor, EXAMPLE_RULES.read_text(encoding="utf-8"), "rules.example.toml")
    manager: Actor = sign_in(ctx, "manager", PASSWORD)
    cashier: Actor = sign_in(ctx, "cashier", PASSWORD)
    load_demo_catalogue(ctx, manager)
    member = register_member(ctx, cashier, mobile, f"会员{code}")
    issue_card(ctx, cashier, member.member_no, card_no)
    hand_till_to(ctx, cashier)
    store = StoreFixture(ctx, clock, admin_actor, manager, cashier, data_dir)
    return ChainTill(code, store, member.member_no, card_no)


def register_at_hq(engine: Engine, till_codes: list[str], names: dict[str, str]) -> None:
    """Each till's store and the till itself at HQ (numbered -01 in its store)."""
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        for till_code in till_codes:
            code = till_code.rsplit("-", 1)[0]
            if session.scalar(select(Store.id).where(Store.code == code)) is None:
                admin.add_store(session, code, names.get(code, code), now)
            assert admin.enroll_till(session, code, now).till == till_code


def deliver(engine: Engine, till_code: str, body: bytes) -> None:
    """HQ takes a till's batch, as POST /v1/tills/{till}/batches would."""
    result = ingest_batch(engine, till_code, body, datetime.now(UTC))
    assert result.accepted or result.rows, "an empty batch"
