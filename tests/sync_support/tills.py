"""Tills and HQ side by side for the sync tests: real till stores (copies of the session's
template store, each with its own till id), enrolled at HQ, trading and pushing; and what HQ
holds, read straight from HQ's database, to compare with each till's ledger."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.engine import read_session, write_session
from db.models import LedgerEntry, SyncState
from hq import admin
from hq.models import Fork, HqLedgerEntry, Store
from hq.models import Till as HqTill
from pos_app.services import stored_value
from pos_app.services.auth import Actor
from pos_app.services.cards import issue_card
from pos_app.services.context import DB_FILENAME, StoreContext, open_store
from pos_app.services.members import register_member
from pos_app.services.rules import load_rules
from pos_app.services.sign_in import sign_in
from pos_app.services.store_setup import add_operator, init_store
from pos_app.services.sync_setup import setup
from pos_app.sync.pusher import PushOutcome, push
from pos_app.sync.status import SyncStatus, sync_status
from tests.conftest import EXAMPLE_RULES, PASSWORD, FakeClock, StoreFixture, hand_till_to
from tests.services.support import buy

Chain = list[tuple[int, str]]  # (seq, hash) in seq order


Template = tuple[Path, Actor, Actor, Actor]  # (folder, admin, manager, cashier)


def build_template(data_dir: Path, till_id: str = "SH01-01") -> Template:
    """Till `till_id` of its store, set up as tests/conftest.py's template is made. Two tills
    must not be copies of one store: their chains would share entries (entry ids are unique
    chain-wide at HQ), which real tills never do."""
    ctx = open_store(data_dir, clock=FakeClock(datetime.now(UTC)))
    store_code = till_id.rsplit("-", 1)[0]
    init_store(
        ctx, store_code, "上海南京路店", "admin", PASSWORD, admin_name="管理员", till_id=till_id
    )
    admin_actor = sign_in(ctx, "admin", PASSWORD)
    add_operator(ctx, admin_actor, "manager", "李店长", "manager", PASSWORD)
    add_operator(ctx, admin_actor, "cashier", "王收银", "cashier", PASSWORD)
    load_rules(ctx, admin_actor, EXAMPLE_RULES.read_text(encoding="utf-8"), "rules.example.toml")
    manager = sign_in(ctx, "manager", PASSWORD)
    cashier = sign_in(ctx, "cashier", PASSWORD)
    ctx.engine.dispose()
    return data_dir, admin_actor, manager, cashier


def copy_template(template_dir: Path, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    for name in (DB_FILENAME, DB_FILENAME + "-wal"):
        if (template_dir / name).exists():
            shutil.copy(template_dir / name, data_dir / name)


@dataclass
class SyncedTill:
    """A till store with a member card to top up, enrolled (or not yet) at HQ."""

    code: str
    store: StoreFixture
    card_no: str
    topups: int = 0
    sales: int = 0
    pushes: list[PushOutcome] = field(default_factory=list)

    @property
    def ctx(self) -> StoreContext:
        return self.store.ctx

    def top_up(self, fen: int = 10_000) -> None:
        stored_value.top_up(self.ctx, self.store.cashier, self.card_no, fen)
        self.topups += 1

    def sell(self, yuan: int = 12) -> None:
        buy(self.store, yuan)
        self.sales += 1

    def trade(self, count: int) -> None:
        """`count` top-ups, every third a sale instead (both write entries and rows)."""
        for i in range(count):
            if i % 3 == 2:
                self.sell(10 + i % 50)
            else:
                self.top_up(5000 + 100 * (i % 7))

    def enroll(self, hq_url: str, token: str) -> None:
        setup(self.ctx, self.store.admin, hq_url, token)

    def point_at(self, hq_url: str) -> None:
        """Talk to HQ at another address (a proxy in front of it, or HQ moved)."""
        with write_session(self.ctx.engine) as session:
            state = session.get(SyncState, 1)
            assert state is not None, "the till is not set up"
            state.hq_url = hq_url

    def push(self) -> PushOutcome:
        outcome = push(self.ctx)
        self.pushes.append(outcome)
        return outcome

    def status(self) -> SyncStatus:
        return sync_status(self.ctx)

    def chain(self) -> Chain:
        with read_session(self.ctx.engine) as session:
            rows = session.execute(
                select(LedgerEntry.store_seq, LedgerEntry.hash)
                .where(LedgerEntry.store_id == self.ctx.store.id)
                .order_by(LedgerEntry.store_seq)
            )
            return [(int(seq), str(h)) for seq, h in rows]

    def acked_seq(self) -> int:
        with read_session(self.ctx.engine) as session:
            state = session.get(SyncState, 1)
            return state.acked_seq if state else 0

    def close(self) -> None:
        self.ctx.engine.dispose()


def make_till(
    template: Template,
    folder: Path,
    code: str,
    card_no: str,
    clock: FakeClock | None = None,
) -> SyncedTill:
    """A copy of a template store as till `code` (of store SH01), with a member card and
    the cashier's shift open. Its clock runs near real time: requests are signed with it.
    Each till of one HQ needs a template of its own (see `build_template`)."""
    template_dir, admin_actor, manager, cashier = template
    data_dir = folder / code
    copy_template(template_dir, data_dir)
    clock = clock or FakeClock(datetime.now(UTC))
    ctx = open_store(data_dir, clock=clock)
    assert ctx.till_id == code, "a till is made from its own template (build_template)"
    store = StoreFixture(ctx, clock, admin_actor, manager, cashier, data_dir)
    mobile = "139" + code.replace("SH", "").replace("-", "").rjust(8, "0")
    member = register_member(ctx, cashier, mobile, f"会员{code}")
    issue_card(ctx, cashier, member.member_no, card_no)
    hand_till_to(ctx, cashier)
    return SyncedTill(code, store, card_no)


def enroll_at_hq(engine: Engine, store_code: str = "SH01", name: str = "南京路店") -> str:
    """A new till of `store_code` at HQ (the store added first if new); its one-time token."""
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        if session.scalar(select(Store).where(Store.code == store_code)) is None:
            admin.add_store(session, store_code, name, now)
        return admin.enroll_till(session, store_code, now).token


def hq_chain(engine: Engine, till: str) -> Chain:
    """(seq, hash) of every entry HQ holds of `till`, in seq order."""
    with Session(engine) as session:
        rows = session.execute(
            select(HqLedgerEntry.seq, HqLedgerEntry.hash)
            .join(HqTill, HqTill.id == HqLedgerEntry.till_id)
            .where(HqTill.code == till)
            .order_by(HqLedgerEntry.seq)
        )
        return [(int(seq), str(h)) for seq, h in rows]


def hq_entry_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(HqLedgerEntry)) or 0)


def hq_fork_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Fork)) or 0)


def hq_head(engine: Engine, till: str) -> tuple[int, str | None]:
    with Session(engine) as session:
        row = session.execute(
            select(HqTill.acked_seq, HqTill.head_hash).where(HqTill.code == till)
        ).one()
        return int(row[0]), row[1]
