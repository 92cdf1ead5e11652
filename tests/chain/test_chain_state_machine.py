"""A hypothesis state machine over three stores' tills (SH01, BJ01, GZ01) on one real HQ
(PostgreSQL), sharing one card: top up at a till, spend at a till (online while HQ is up,
standing in while it is down), push, pull, HQ down and up, time passing, the card reported
lost or found at a till. A model tracks what should be true.

After every step: `pos-hq verify`'s checks pass, the month's clearing balances (Σ net +
Δ liability = 0), every till's verify passes, and the model's facts hold — HQ's chain
balance is the sum of what the tills pushed; an online spend never takes more than HQ could
know was there (a decline says exactly how much was); a till refuses the card once it has
heard of its loss, and HQ refuses it online once the loss reached HQ; once every till has
pushed, an overspend (only ever from stand-ins) and a use of the lost card are conflicts.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.orm import Session

from hq import clearing, conflicts
from hq.errors import HqError
from pos_app.domain.errors import CardStateError, InsufficientBalance
from pos_app.domain.offline_limits import OfflineRefused
from pos_app.services import stored_value
from pos_app.services.cards import issue_card, mark_card_found, report_card_lost
from pos_app.services.members import register_member
from pos_app.sync.card_authorizer import HqDeclined
from pos_app.sync.pusher import PushResult
from tests.chain.three_stores import (
    CARD,
    STORES,
    StoreTill,
    build_store_template,
    chain_balance,
    clearing_statement,
    hq_verify_problems,
    open_store_till,
)
from tests.conftest import FakeClock
from tests.sync_support.hq_databases import hq_database
from tests.sync_support.hq_thread import HqThread
from tests.sync_support.tills import Template

CODES = list(STORES)
HOLD_SECONDS = 120  # an unconfirmed hold stops counting at HQ after this
CARD_DAILY_FEN = 50_000  # the example rules' offline_card_daily
STALE_AFTER = timedelta(hours=24)  # offline_staleness_hours
# Two days before the month ends in Shanghai: a run crosses into April, March is closed
# and the records of March that arrive later count in April.
MACHINE_START = datetime(2026, 3, 30, 2, 0, tzinfo=UTC)
MONTHS = ("2026-03", "2026-04")


@dataclass
class PendingState:
    """A card state change made at a till and not pushed yet."""

    till: str
    state: str


class ChainMachine(RuleBasedStateMachine):
    templates: dict[str, Template] = {}  # one per store, set by the test
    database_kind = "postgresql"

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="chain-machine-"))
        self.clock = FakeClock(MACHINE_START)
        self._database = hq_database(self.database_kind, self.folder)
        self.hq = HqThread(self._database.__enter__(), clock=self.clock).start()
        self.tills = {
            s: open_store_till(self.templates[s], self.folder, s, self.clock, self.hq)
            for s in CODES
        }
        self.hq_up = True
        # The model.
        self.own: dict[str, int] = dict.fromkeys(CODES, 0)  # Σ principal+bonus of own entries
        self.pushed_own: dict[str, int] = dict.fromkeys(CODES, 0)  # … as HQ holds them
        self.holds: list[tuple[str, int, datetime]] = []  # online spends not pushed yet
        self.standin_today: dict[tuple[str, date], int] = defaultdict(int)
        self.heard: dict[str, datetime] = {}
        self.standins = 0
        self.used_while_lost = 0
        self.local_state = dict.fromkeys(CODES, "active")
        self.hq_state = "active"
        self.pending: PendingState | None = None
        self.march_closed = False
        # SH01 issues the card; every till hears of it.
        sh = self.tills["SH01"]
        member = register_member(sh.ctx, sh.cashier, "13800138000", "张三")
        issue_card(sh.ctx, sh.cashier, member.member_no, CARD)
        sh.pushed()
        for code in CODES:
            self.pull(code)

    # -- helpers ---------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return sum(self.own.values())

    def chain_state_now(self) -> str:
        """The card's state by business time, wherever it was changed (pushed or not)."""
        return self.pending.state if self.pending else self.hq_state

    def live_holds(self, besides: str) -> int:
        now = self.clock.moment
        return sum(
            amount
            for till, amount, at in self.holds
            if till != besides and now - at < timedelta(seconds=HOLD_SECONDS)
        )

    def hq_available(self, code: str) -> int:
        """What HQ can offer `code`: what the others pushed, less their live holds, plus
        `code`'s own position (it tells HQ from its ledger)."""
        others = sum(v for c, v in self.pushed_own.items() if c != code)
        return others + self.own[code] - self.live_holds(code)

    # -- rules -----------------------------------------------------------------------------

    @rule(code=st.sampled_from(CODES), yuan=st.sampled_from([100, 500, 1000]))
    def top_up(self, code: str, yuan: int) -> None:
        till = self.tills[code]
        if self.local_state[code] != "active":
            with pytest.raises(CardStateError):
                stored_value.top_up(till.ctx, till.cashier, CARD, yuan * 100)
            return
        result = stored_value.top_up(till.ctx, till.cashier, CARD, yuan * 100)
        self.own[code] += result.amount_fen + result.bonus_fen
        if self.chain_state_now() != "active":
            self.used_while_lost += 1  # any entry moving the value of a lost card

    @rule(code=st.sampled_from(CODES), yuan=st.integers(1, 300))
    def spend(self, code: str, yuan: int) -> None:
        till = self.tills[code]
        fen = yuan * 100
        if self.local_state[code] != "active":
            # A till refuses a card whose loss (or freeze) it has heard about.
            with pytest.raises(CardStateError):
                till.spend(yuan)
            return
        if self.hq_up:
            self._spend_online(till, fen)
        else:
            self._spend_offline(till, fen)

    @rule(code=st.sampled_from(CODES), yuan=st.integers(1, 300))
    def spend_what_it_can(self, code: str, yuan: int) -> None:
        """Stored value pays what the chain (online) or the till (offline) has, cash the
        rest; online, HQ's decline names what is left and the till asks once more."""
        till = self.tills[code]
        fen = yuan * 100
        if self.local_state[code] != "active":
            with pytest.raises(CardStateError):
                till.spend_what_it_can(yuan)
            return
        if self.hq_up and self.hq_state != "active":
            with pytest.raises(HqDeclined) as declined:
                till.spend_what_it_can(yuan)
            assert declined.value.code == "card_blocked"
            return
        if self.hq_up:
            available = self.hq_available(code)
            if available <= 0:
                with pytest.raises(HqDeclined) as declined:
                    till.spend_what_it_can(yuan)
                assert declined.value.code == "insufficient_balance"
                return
            taken = till.spend_what_it_can(yuan)
            assert taken == min(fen, available)
            self.own[code] -= taken
            self.holds.append((code, taken, self.clock.moment))
        else:
            card = till.card()
            assert card is not None
            want = min(fen, max(card.principal_fen + card.bonus_fen, 0))
            day = till.ctx.business_day()
            expected = self._offline_refusals(code, day, want) if want else set()
            if expected:
                with pytest.raises(OfflineRefused) as refused:
                    till.spend_what_it_can(yuan)
                assert refused.value.code in expected, (refused.value.code, expected)
                return
            taken = till.spend_what_it_can(yuan)
            assert taken == want
            if not taken:
                return
            self.own[code] -= taken
            self.standin_today[(code, day)] += taken
            self.standins += 1
        if self.chain_state_now() != "active":
            self.used_while_lost += 1

    def _offline_refusals(self, code: str, day: date, fen: int) -> set[str]:
        """The reasons a stand-in of `fen` would be refused at till `code` now."""
        refusals = set()
        heard = self.heard.get(code)
        if heard is None or self.clock.moment - heard > STALE_AFTER:
            refusals.add("offline_stale")
        elif self.standin_today[(code, day)] + fen > CARD_DAILY_FEN:
            refusals.add("offline_limit_card")
        return refusals

    def _spend_online(self, till: StoreTill, fen: int) -> None:
        code = till.code.rsplit("-", 1)[0]
        if self.hq_state != "active":
            with pytest.raises(HqDeclined) as declined:
                till.spend(fen // 100)
            assert declined.value.code == "card_blocked"
            assert declined.value.details == {"state": self.hq_state}
            return
        available = self.hq_available(code)
        if fen > available:
            with pytest.raises(HqDeclined) as declined:
                till.spend(fen // 100)
            assert declined.value.code == "insufficient_balance"
            assert declined.value.details["available_fen"] == max(available, 0)
            return
        sale = till.spend(fen // 100)
        assert sale.receipt.notes == ()  # HQ authorized it
        self.own[code] -= fen
        self.holds.append((code, fen, self.clock.moment))
        if self.chain_state_now() != "active":
            self.used_while_lost += 1

    def _spend_offline(self, till: StoreTill, fen: int) -> None:
        code = till.code.rsplit("-", 1)[0]
        day = till.ctx.business_day()
        card = till.card()
        assert card is not None
        expected = self._offline_refusals(code, day, fen)
        if self.standin_today[(code, day)] + fen > CARD_DAILY_FEN:
            expected.add("offline_limit_card")  # the balance and the limits: either says no
        if card.principal_fen + card.bonus_fen < fen:
            expected.add(InsufficientBalance.code)
        if expected:
            with pytest.raises((OfflineRefused, InsufficientBalance)) as refused:
                till.spend(fen // 100)
            assert refused.value.code in expected, (refused.value.code, expected)
            return
        sale = till.spend(fen // 100)
        assert sale.receipt.notes == ("离线授权 / offline authorization",)
        self.own[code] -= fen
        self.standin_today[(code, day)] += fen
        self.standins += 1
        if self.chain_state_now() != "active":
            self.used_while_lost += 1

    @rule(code=st.sampled_from(CODES))
    def push(self, code: str) -> None:
        outcome = self.tills[code].push()
        if not self.hq_up:
            assert outcome.result is PushResult.UNREACHABLE, outcome
            return
        assert outcome.result is PushResult.DONE and outcome.pending == 0, outcome
        self.pushed_own[code] = self.own[code]
        self.holds = [h for h in self.holds if h[0] != code]  # confirmed by the sales
        if self.pending is not None and self.pending.till == code:
            self.hq_state = self.pending.state
            self.pending = None

    @rule(code=st.sampled_from(CODES))
    def pull(self, code: str) -> None:
        outcome = self.tills[code].pull()
        if not self.hq_up:
            assert not outcome.ok
            return
        assert outcome.ok, outcome
        self.heard[code] = self.clock.moment
        if self.pending is None or self.pending.till != code:
            self.local_state[code] = self.hq_state  # a till's own unpushed change is newer

    @precondition(lambda self: self.hq_up)
    @rule()
    def hq_down(self) -> None:
        self.hq.stop()
        self.hq_up = False

    @precondition(lambda self: not self.hq_up)
    @rule()
    def hq_back(self) -> None:
        self.hq.start()
        self.hq_up = True

    @rule(minutes=st.sampled_from([3, 60, 7 * 60, 25 * 60]))
    def time_passes(self, minutes: int) -> None:
        """Minutes let unconfirmed holds expire at HQ; a day makes what a till heard stale."""
        self.clock.advance(minutes=minutes)

    @precondition(
        lambda self: (
            self.pending is None
            and self.hq_state == "active"
            and "active" in self.local_state.values()
        )
    )
    @rule(code=st.sampled_from(CODES))
    def report_lost(self, code: str) -> None:
        if self.local_state[code] != "active":
            return
        till = self.tills[code]
        report_card_lost(till.ctx, till.store.admin, CARD)
        self.local_state[code] = "lost"
        self.pending = PendingState(code, "lost")

    @precondition(lambda self: self.pending is None and self.hq_state == "lost")
    @rule(code=st.sampled_from(CODES))
    def found(self, code: str) -> None:
        if self.local_state[code] != "lost":
            return
        till = self.tills[code]
        mark_card_found(till.ctx, till.store.admin, CARD)
        self.local_state[code] = "active"
        self.pending = PendingState(code, "active")

    @precondition(lambda self: not self.march_closed)
    @rule()
    def close_march(self) -> None:
        with Session(self.hq.engine) as session, session.begin():
            if self.clock.moment < clearing.month_start(MONTHS[1]):
                with pytest.raises(HqError) as refused:
                    clearing.close_month(session, MONTHS[0], "test", self.clock.moment)
                assert refused.value.code == "month_not_over"
                return
            closed = clearing.close_month(session, MONTHS[0], "test", self.clock.moment)
        assert closed.closed and closed.invariant_ok
        self.march_closed = True

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def hq_and_every_till_verify(self) -> None:
        assert hq_verify_problems(self.hq) == []
        for month in MONTHS:
            assert clearing_statement(self.hq, month).invariant_ok, month
        # Every entry HQ holds counts in March or April: April's end is the chain's liability.
        assert clearing_statement(self.hq, MONTHS[1]).liability_end_fen == sum(
            self.pushed_own.values()
        )
        for till in self.tills.values():
            till.verified()

    @invariant()
    def the_models_facts_hold(self) -> None:
        balance = chain_balance(self.hq)
        assert balance is not None
        assert sum(balance) == sum(self.pushed_own.values())
        for code, till in self.tills.items():
            card = till.card()
            assert card is not None and card.state == self.local_state[code], code
        if not self.standins:
            # Online, two tills never spend the same yuan.
            assert self.total >= 0
        if self.own != self.pushed_own or self.pending is not None:
            return
        assert sum(balance) == self.total
        with Session(self.hq.engine) as session, session.begin():
            conflicts.detect(session, self.clock.moment)
            found = [c for c in conflicts.list_conflicts(session) if c.card_no_masked]
        kinds = {c.kind: c for c in found}
        overspend = kinds.get(conflicts.OFFLINE_OVERSPEND)
        # The member's debt is what the card was overspent, only ever by stand-ins.
        if self.total < 0:
            assert overspend is not None and overspend.amount_fen == -self.total, found
            assert self.standins
        else:
            assert overspend is None or overspend.amount_fen == 0, found
        assert (conflicts.CARD_USED_WHILE_BLOCKED in kinds) == bool(self.used_while_lost), found

    def teardown(self) -> None:
        self.hq.close()
        for till in self.tills.values():
            till.close()
        self._database.__exit__(None, None, None)
        shutil.rmtree(self.folder, ignore_errors=True)


# No shrinking: a failing run prints its steps as found, and never spends minutes shrinking
# a sequence of real requests.
MACHINE_SETTINGS = settings(
    max_examples=10,
    stateful_step_count=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    return {
        store: build_store_template(tmp_path_factory.mktemp(f"machine-{store}"), store)
        for store in STORES
    }


class ChainMachineOnSqlite(ChainMachine):
    database_kind = "sqlite"


@pytest.mark.parametrize(
    ("machine", "examples"),
    [(ChainMachine, 10), (ChainMachineOnSqlite, 4)],
    ids=["postgresql", "sqlite"],
)
def test_one_card_across_three_stores(
    templates: dict[str, Template], machine: type[ChainMachine], examples: int
) -> None:
    machine.templates = templates
    try:
        run_state_machine_as_test(
            machine, settings=settings(MACHINE_SETTINGS, max_examples=examples)
        )
    finally:
        machine.templates = {}
