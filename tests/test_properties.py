"""Random sequences of member-card operations on a real store, checked after every step.

A hypothesis state machine drives the services the till uses (register, issue, top up, pay,
refund, purchase, redeem, lose, replace, freeze, cancel, move the clock, expire points,
review tiers) against a fresh copy of the test store per example, and keeps its own model
of every card: state, principal, bonus, PIN tries, and each business day's stored-value
spending. After every step:

- verify_ledger passes (hash chain, sequence, every projection replayed);
- no card's principal or bonus is below zero, and every card matches the model exactly;
- each member's points balance is the sum of their lots less their debt;
- a refused operation (a DomainError) left the ledger as it was — except a wrong PIN, which
  leaves exactly one pin_failed entry; redemption is refused whenever points are negative;
- a replaced or cancelled card never pays or takes a top-up again.

Examples and steps per run: POS_PROPERTY_EXAMPLES / POS_PROPERTY_STEPS, or the "ci"
profile (more of both) with HYPOTHESIS_PROFILE=ci. The profile is applied to this test only.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from db.engine import read_session
from db.models import Card, LedgerEntry, Member, PointLot
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import (
    AlreadyExists,
    ApprovalRequired,
    CardStateError,
    DomainError,
    InsufficientBalance,
    InvalidInput,
    LimitExceeded,
    PinLocked,
    PinRequired,
    WrongPin,
)
from pos_app.domain.permissions import Permission
from pos_app.services import cards as card_svc
from pos_app.services import members as member_svc
from pos_app.services import points as points_svc
from pos_app.services import shifts
from pos_app.services import stored_value as sv
from pos_app.services import tiers as tier_svc
from pos_app.services.auth import Actor, Approval
from pos_app.services.context import DB_FILENAME, StoreContext, open_store
from pos_app.services.sign_in import approve
from pos_app.services.verify import verify_ledger
from tests.conftest import PASSWORD, FakeClock

# The example rules (pos_app/resources/rules.example.toml), restated independently here.
MIN_TOPUP = 5_000
BONUS_TIERS = ((50_000, 5_000), (100_000, 15_000))  # 充500送50, 充1000送150
DAILY_LIMIT = 500_000
MANUAL_PURCHASE_MAX = 50_000  # points.manual_purchase_max
MAX_TRIES = 5
SHANGHAI = ZoneInfo("Asia/Shanghai")
RIGHT_PIN, WRONG_PIN = "123456", "654321"

ACTIVE, LOST, FROZEN = "active", "lost", "frozen"
REPLACED, CANCELLED = "replaced", "cancelled"
LIVE = (ACTIVE, LOST, FROZEN)  # the states a card may be replaced or cancelled from

PROFILES = {
    "default": {"max_examples": 30, "stateful_step_count": 60},
    "ci": {"max_examples": 60, "stateful_step_count": 80},
}


def _settings() -> settings:
    profile = dict(PROFILES.get(os.environ.get("HYPOTHESIS_PROFILE", ""), PROFILES["default"]))
    if "POS_PROPERTY_EXAMPLES" in os.environ:
        profile["max_examples"] = int(os.environ["POS_PROPERTY_EXAMPLES"])
    if "POS_PROPERTY_STEPS" in os.environ:
        profile["stateful_step_count"] = int(os.environ["POS_PROPERTY_STEPS"])
    return settings(
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        **profile,
    )


def expected_bonus(amount: int) -> int:
    bonus = 0
    for threshold, gift in BONUS_TIERS:
        if amount >= threshold:
            bonus = gift
    return bonus


@dataclass
class CardModel:
    member_no: str
    state: str = ACTIVE
    principal: int = 0
    bonus: int = 0
    pin: str | None = None
    pin_failures: int = 0
    replaced_by: str | None = None


@dataclass
class Payment:
    entry_id: str
    card_no: str
    principal: int
    bonus: int
    refunded: bool = False


@dataclass
class Topup:
    entry_id: str
    card_no: str
    principal: int
    bonus: int
    refunded: bool = False


@dataclass
class Purchase:
    entry_id: str
    refunded: bool = False


@dataclass
class Stats:
    examples: int = 0
    steps: int = 0
    refused: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


STATS = Stats()
TOPUP_AMOUNTS = st.sampled_from(
    [1_000, 4_999, 5_000, 12_345, 50_000, 99_999, 100_000, 250_000, 300_000, 1_000_000]
)
PIN_CHOICES = st.sampled_from(["right", "right", "right", "right", "wrong", "none"])
PAY_AMOUNTS = st.one_of(
    st.sampled_from([0, 1, 5_000, 50_000, 123_456, 499_999, 500_000, 500_001]),
    st.integers(min_value=1, max_value=700_000),
)


class LedgerMachine(RuleBasedStateMachine):
    """One example = one fresh store; see the module docstring for what is checked."""

    template: Path
    workdir: Path
    manager: Actor
    cashier: Actor
    _dirs = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.data_dir = self.workdir / f"example-{next(self._dirs)}"
        self.data_dir.mkdir()
        for name in (DB_FILENAME, DB_FILENAME + "-wal"):
            if (self.template / name).exists():
                shutil.copy(self.template / name, self.data_dir / name)
        self.clock = FakeClock()
        self.ctx: StoreContext = open_store(self.data_dir, clock=self.clock)
        self.members: list[str] = []
        self.mobiles: list[str] = []
        self.cards: dict[str, CardModel] = {}
        self.payments: list[Payment] = []
        self.topups: list[Topup] = []
        self.purchases: list[Purchase] = []
        self.spent: dict[tuple[str, date], int] = {}
        self.numbers = itertools.count(1)
        self.before = 0  # ledger length before the last attempt
        STATS.examples += 1

    def teardown(self) -> None:
        self.ctx.engine.dispose()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- helpers ---------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock.moment.astimezone(SHANGHAI).date()

    def ledger_len(self) -> int:
        with read_session(self.ctx.engine) as s:
            return s.scalar(select(func.count()).select_from(LedgerEntry)) or 0

    def kinds_after(self, seq: int) -> list[str]:
        with read_session(self.ctx.engine) as s:
            return list(
                s.scalars(
                    select(LedgerEntry.kind)
                    .where(LedgerEntry.store_seq > seq)
                    .order_by(LedgerEntry.store_seq)
                )
            )

    def attempt(
        self, expected: type[DomainError] | None, call: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Run a service call; it must raise exactly `expected` (or succeed when None).

        A refusal must leave the ledger unchanged, except a wrong PIN: one pin_failed entry.
        Returns the result, or the error when one was expected.
        """
        STATS.steps += 1
        before = self.before = self.ledger_len()
        try:
            result = call(*args, **kwargs)
        except DomainError as exc:
            STATS.refused += 1
            STATS.outcomes[f"{call.__name__}:{type(exc).__name__}"] += 1
            new = self.kinds_after(before)
            if isinstance(exc, WrongPin) or (isinstance(exc, PinLocked) and new):
                assert new == [EntryKind.PIN_FAILED], new  # the failed try is kept
            else:
                assert new == [], f"{type(exc).__name__} left entries behind: {new}"
            assert expected is not None and isinstance(exc, expected), (
                f"{call.__name__} refused with {type(exc).__name__}: {exc.en}; "
                f"expected {expected.__name__ if expected else 'success'}"
            )
            return exc
        STATS.outcomes[f"{call.__name__}:ok"] += 1
        assert expected is None, f"{call.__name__} succeeded; expected {expected.__name__}"
        assert self.ledger_len() > before, f"{call.__name__} succeeded without an entry"
        return result

    def new_card_no(self) -> str:
        return f"7700{next(self.numbers):05d}"

    def holder(self, card_no: str) -> str:
        while self.cards[card_no].state == REPLACED and self.cards[card_no].replaced_by:
            card_no = self.cards[card_no].replaced_by or card_no
        return card_no

    def pick_card(self, data: st.DataObject, *states: str, funded: bool = False) -> str:
        """A card in one of `states` (any state if none given). Any card is mostly an active
        one — with money on it when `funded` — so that fewer steps are spent on refusals."""
        pool = sorted(n for n, c in self.cards.items() if not states or c.state in states)
        active = [n for n in pool if self.cards[n].state == ACTIVE]
        rich = [n for n in active if self.cards[n].principal + self.cards[n].bonus > 0]
        if not states and data.draw(st.integers(0, 9), label="prefer") < 8:
            pool = (rich if funded and rich else None) or active or pool
        return data.draw(st.sampled_from(pool), label="card")

    def approval(self, permission: Permission) -> Approval:
        """The manager approves one action of the cashier's, as at the till."""
        return approve(self.ctx, "manager", PASSWORD, permission)

    # ---- members and cards -----------------------------------------------------------------

    @initialize()
    def first_members_with_cards(self) -> None:
        # The cashier's shift: money moves only inside it (refunds with a manager's approval).
        shifts.open_shift(self.ctx, self.cashier, 0)
        self.register(duplicate=False, referrer=None)
        self.issue(data=None, with_pin=False)
        self.register(duplicate=False, referrer=0)
        self.issue(data=None, with_pin=True)

    @rule(duplicate=st.booleans(), referrer=st.none() | st.integers(min_value=0))
    def register(self, duplicate: bool, referrer: int | None) -> None:
        if duplicate and self.mobiles:
            self.attempt(
                AlreadyExists,
                member_svc.register_member,
                self.ctx,
                self.cashier,
                self.mobiles[0],
                "重复",
            )
            return
        mobile = f"1390000{len(self.mobiles):04d}"
        referrer_no = (
            self.members[referrer % len(self.members)]
            if (referrer is not None and self.members)
            else None
        )
        view = self.attempt(
            None,
            member_svc.register_member,
            self.ctx,
            self.cashier,
            mobile,
            f"会员{len(self.mobiles)}",
            referrer_no=referrer_no,
        )
        self.mobiles.append(mobile)
        self.members.append(view.member_no)

    @precondition(lambda self: self.members)
    @rule(data=st.data(), with_pin=st.sampled_from([False, False, False, True]))
    def issue(self, data: st.DataObject | None, with_pin: bool) -> None:
        member_no = (
            data.draw(st.sampled_from(self.members), label="member") if data else self.members[-1]
        )
        card_no = self.new_card_no()
        pin = RIGHT_PIN if with_pin else None
        self.attempt(None, card_svc.issue_card, self.ctx, self.cashier, member_no, card_no, pin=pin)
        self.cards[card_no] = CardModel(member_no, pin=pin)

    @precondition(lambda self: self.cards)
    @rule(data=st.data())
    def issue_a_card_that_is_taken(self, data: st.DataObject) -> None:
        card_no = self.pick_card(data)
        self.attempt(
            AlreadyExists, card_svc.issue_card, self.ctx, self.cashier, self.members[-1], card_no
        )

    # ---- stored value ----------------------------------------------------------------------

    @precondition(lambda self: self.cards)
    @rule(data=st.data(), amount=TOPUP_AMOUNTS, tender=st.sampled_from(sv.TOPUP_TENDERS))
    def top_up(self, data: st.DataObject, amount: int, tender: str) -> None:
        self.do_top_up(data, amount, tender)

    @precondition(lambda self: self.cards)
    @rule(data=st.data(), amount=TOPUP_AMOUNTS, tender=st.sampled_from(sv.TOPUP_TENDERS))
    def top_up_again(self, data: st.DataObject, amount: int, tender: str) -> None:
        self.do_top_up(data, amount, tender)

    def do_top_up(self, data: st.DataObject, amount: int, tender: str) -> None:
        card_no = self.pick_card(data)
        card = self.cards[card_no]
        expected = (
            CardStateError if card.state != ACTIVE else InvalidInput if amount < MIN_TOPUP else None
        )
        result = self.attempt(expected, sv.top_up, self.ctx, self.cashier, card_no, amount, tender)
        if expected is None:
            bonus = expected_bonus(amount)
            assert (result.amount_fen, result.bonus_fen) == (amount, bonus)
            card.principal += amount
            card.bonus += bonus
            self.topups.append(Topup(result.entry_id, card_no, amount, bonus))

    def expected_payment(
        self, card: CardModel, card_no: str, amount: int, pin: str | None
    ) -> tuple[type[DomainError] | None, int]:
        """The refusal the service must give (or None), and the PIN failures afterwards."""
        if card.state != ACTIVE:
            return CardStateError, card.pin_failures
        if amount <= 0:
            return InvalidInput, card.pin_failures
        failures = card.pin_failures
        if card.pin is not None:
            if failures >= MAX_TRIES:
                return PinLocked, failures
            if not pin:
                return PinRequired, failures
            if pin != card.pin:
                return (PinLocked if failures + 1 >= MAX_TRIES else WrongPin), failures + 1
        if self.spent.get((card.member_no, self.today()), 0) + amount > DAILY_LIMIT:
            return LimitExceeded, failures  # the PIN reset, if any, rolls back with it
        if amount > card.principal + card.bonus:
            return InsufficientBalance, failures
        return None, 0 if pin and card.pin is not None else failures

    @precondition(lambda self: self.cards)
    @rule(data=st.data(), pin_choice=PIN_CHOICES)
    def pay(self, data: st.DataObject, pin_choice: str) -> None:
        self.do_pay(data, pin_choice)

    @precondition(lambda self: self.cards)
    @rule(data=st.data(), pin_choice=PIN_CHOICES)
    def pay_again(self, data: st.DataObject, pin_choice: str) -> None:
        self.do_pay(data, pin_choice)

    def do_pay(self, data: st.DataObject, pin_choice: str) -> None:
        card_no = self.pick_card(data, funded=True)
        card = self.cards[card_no]
        balance = card.principal + card.bonus
        how = data.draw(st.sampled_from(["within"] * 3 + ["all", "over", "any"]), label="how")
        if how == "within" and balance > 0:
            amount = data.draw(st.integers(1, balance), label="amount")
        elif how == "all" and balance > 0:
            amount = balance
        elif how == "over":
            amount = balance + data.draw(st.integers(1, 10_000), label="over by")
        else:
            amount = data.draw(PAY_AMOUNTS, label="amount")
        pin = None
        if card.pin is not None and card.state == ACTIVE and amount > 0:
            pin = {"right": card.pin, "wrong": WRONG_PIN, "none": None}[pin_choice]
        expected, failures = self.expected_payment(card, card_no, amount, pin)
        result = self.attempt(
            expected, sv.pay_with_stored_value, self.ctx, self.cashier, card_no, amount, pin=pin
        )
        card.pin_failures = failures
        if expected is None:
            from_principal = min(card.principal, amount)  # principal_first
            from_bonus = amount - from_principal
            assert (result.from_principal_fen, result.from_bonus_fen) == (
                from_principal,
                from_bonus,
            )
            card.principal -= from_principal
            card.bonus -= from_bonus
            key = (card.member_no, self.today())  # the daily limit is per member
            self.spent[key] = self.spent.get(key, 0) + amount
            self.payments.append(Payment(result.entry_id, card_no, from_principal, from_bonus))

    @precondition(lambda self: any(c.state in (REPLACED, CANCELLED) for c in self.cards.values()))
    @rule(data=st.data(), amount=st.integers(min_value=1, max_value=10_000))
    def dead_card_never_pays(self, data: st.DataObject, amount: int) -> None:
        card_no = self.pick_card(data, REPLACED, CANCELLED)
        pin = self.cards[card_no].pin
        self.attempt(
            CardStateError,
            sv.pay_with_stored_value,
            self.ctx,
            self.cashier,
            card_no,
            amount,
            pin=pin,
        )
        self.attempt(CardStateError, sv.top_up, self.ctx, self.cashier, card_no, 10_000)

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def refund_payment(self, data: st.DataObject) -> None:
        payment = data.draw(st.sampled_from(self.payments), label="payment")
        holder_no = self.holder(payment.card_no)
        holder = self.cards[holder_no]
        expected = (
            InvalidInput if payment.refunded else CardStateError if holder.state != ACTIVE else None
        )
        result = self.attempt(
            expected, sv.refund_stored_value_payment, self.ctx, self.manager, payment.entry_id
        )
        if expected is None:
            assert result.balance.card_no == holder_no
            payment.refunded = True
            holder.principal += payment.principal
            holder.bonus += payment.bonus
            key = (holder.member_no, self.today())
            self.spent[key] = self.spent.get(key, 0) - payment.principal - payment.bonus

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def cashier_refund_needs_approval(self, data: st.DataObject) -> None:
        payment = data.draw(st.sampled_from(self.payments), label="payment")
        self.attempt(
            ApprovalRequired,
            sv.refund_stored_value_payment,
            self.ctx,
            self.cashier,
            payment.entry_id,
        )

    @precondition(lambda self: self.topups)
    @rule(data=st.data())
    def refund_top_up(self, data: st.DataObject) -> None:
        topup = data.draw(st.sampled_from(self.topups), label="topup")
        holder_no = self.holder(topup.card_no)
        holder = self.cards[holder_no]
        expected = (
            CardStateError
            if holder.state != ACTIVE
            else InvalidInput
            if topup.refunded
            else InsufficientBalance
            if holder.principal < topup.principal
            else None
        )
        result = self.attempt(
            expected,
            sv.refund_top_up,
            self.ctx,
            self.cashier,
            topup.entry_id,
            self.approval(Permission.TOPUP_REFUND),
        )
        if expected is None:
            bonus_back = min(topup.bonus, holder.bonus)
            assert (result.returned.principal, result.returned.bonus) == (
                topup.principal,
                bonus_back,
            )
            assert result.cash_out_fen == max(0, topup.principal - (topup.bonus - bonus_back))
            topup.refunded = True
            holder.principal -= topup.principal
            holder.bonus -= bonus_back

    # ---- points ----------------------------------------------------------------------------

    @precondition(lambda self: self.members)
    @rule(
        data=st.data(), amount=st.sampled_from([1, 100, 9_999, 50_000, 99_900, 250_000, 2_000_000])
    )
    def purchase(self, data: st.DataObject, amount: int) -> None:
        member_no = data.draw(st.sampled_from(self.members), label="member")
        # Without a till receipt only a manager credits a purchase, up to the rules' cap.
        expected = LimitExceeded if amount > MANUAL_PURCHASE_MAX else None
        result = self.attempt(
            expected,
            points_svc.record_manual_purchase,
            self.ctx,
            self.manager,
            amount_fen=amount,
            member_no=member_no,
            reason="补录",
        )
        if expected is None:
            self.purchases.append(Purchase(result.purchase_entry_id))

    @precondition(lambda self: self.purchases)
    @rule(data=st.data())
    def refund_purchase(self, data: st.DataObject) -> None:
        purchase = data.draw(st.sampled_from(self.purchases), label="purchase")
        expected = InvalidInput if purchase.refunded else None
        self.attempt(
            expected, points_svc.refund_purchase, self.ctx, self.manager, purchase.entry_id
        )
        purchase.refunded = True

    @precondition(lambda self: self.members)
    @rule(data=st.data())
    def redeem(self, data: st.DataObject) -> None:
        today = self.today().isoformat()
        with read_session(self.ctx.engine) as s:
            books = {
                no: (balance, debt)
                for no, balance, debt in s.execute(
                    select(Member.member_no, Member.points_balance, Member.points_debt)
                )
            }
            due = dict(
                s.execute(
                    select(Member.member_no, func.sum(PointLot.remaining))
                    .join(Member, Member.id == PointLot.member_id)
                    .where(PointLot.expires_on <= today)
                    .group_by(Member.member_no)
                )
                .tuples()
                .all()
            )
        holders = sorted(no for no, (balance, _) in books.items() if balance > 0)
        owing = sorted(no for no, (_, debt) in books.items() if debt > 0)
        pool = data.draw(
            st.sampled_from([p for p in (holders, holders, holders, owing, self.members) if p]),
            label="whom",
        )
        member_no = data.draw(st.sampled_from(pool), label="member")
        balance, debt = books[member_no]
        usable = balance - (due.get(member_no) or 0)  # expired lots are cleared first
        if usable > 0 and data.draw(st.booleans(), label="within"):
            points = data.draw(st.integers(1, usable), label="points")
        else:
            points = data.draw(st.sampled_from([1, 10, 100, 1_000, 5_000]), label="points")
        # A card locked by wrong PINs locks the member's points too (found by number here:
        # any of their active cards).
        locked = any(
            c.member_no == member_no and c.state == ACTIVE and c.pin_failures >= MAX_TRIES
            for c in self.cards.values()
        )
        expected = (
            PinLocked if locked else InsufficientBalance if debt > 0 or points > usable else None
        )
        result = self.attempt(
            expected,
            points_svc.redeem_points,
            self.ctx,
            self.cashier,
            points,
            "兑换",
            member_no=member_no,
        )
        if debt > 0 and not locked:
            STATS.outcomes["redeem_points: refused while negative"] += 1
        if expected is None:
            assert result.points_balance == usable - points
            kinds = self.kinds_after(self.before)
            assert kinds[-1] == EntryKind.POINTS_REDEEMED
            assert set(kinds[:-1]) <= {EntryKind.POINTS_EXPIRED}

    # ---- card lifecycle --------------------------------------------------------------------

    @precondition(lambda self: self.cards)
    @rule(data=st.data(), action=st.sampled_from(["lost", "found", "freeze", "unfreeze", "cancel"]))
    def change_card_state(self, data: st.DataObject, action: str) -> None:
        """挂失 / 解挂 / 冻结 / 解冻 / 注销: one rule, so they do not crowd out the money rules."""
        if action == "cancel":
            self.cancel(self.pick_card(data))
            return
        call, actor, allowed, after = {
            "lost": (card_svc.report_card_lost, self.cashier, (ACTIVE, FROZEN), LOST),
            "found": (card_svc.mark_card_found, self.manager, (LOST,), ACTIVE),
            "freeze": (card_svc.freeze_card, self.manager, (ACTIVE,), FROZEN),
            "unfreeze": (card_svc.unfreeze_card, self.manager, (FROZEN,), ACTIVE),
        }[action]
        card_no = self.pick_card(data)
        card = self.cards[card_no]
        expected = None if card.state in allowed else CardStateError
        self.attempt(expected, call, self.ctx, actor, card_no)
        if expected is None:
            card.state = after

    @precondition(lambda self: self.cards)
    @rule(data=st.data(), onto_existing=st.sampled_from([False, False, False, True]))
    def replace(self, data: st.DataObject, onto_existing: bool) -> None:
        old_no = self.pick_card(data)
        old = self.cards[old_no]
        if onto_existing:
            target = self.pick_card(data)
            expected = (
                InvalidInput
                if target == old_no
                else CardStateError
                if old.state not in LIVE
                else AlreadyExists
            )
            self.attempt(expected, card_svc.replace_card, self.ctx, self.manager, old_no, target)
            return
        new_no = self.new_card_no()
        expected = None if old.state in LIVE else CardStateError
        result = self.attempt(
            expected, card_svc.replace_card, self.ctx, self.manager, old_no, new_no
        )
        if expected is None:
            assert (result.moved_principal_fen, result.moved_bonus_fen) == (
                old.principal,
                old.bonus,
            )
            self.cards[new_no] = CardModel(
                old.member_no, ACTIVE, old.principal, old.bonus, old.pin, old.pin_failures
            )
            old.state, old.replaced_by = REPLACED, new_no
            old.principal = old.bonus = 0

    def cancel(self, card_no: str) -> None:
        card = self.cards[card_no]
        expected = None if card.state in LIVE else CardStateError
        result = self.attempt(
            expected,
            card_svc.cancel_card,
            self.ctx,
            self.cashier,
            card_no,
            self.approval(Permission.CARD_CANCEL),
        )
        if expected is None:
            assert result.refund_fen + result.fee_fen == card.principal
            assert result.forfeited_bonus_fen == card.bonus
            card.state = CANCELLED
            card.principal = card.bonus = 0

    @precondition(
        lambda self: any(c.pin is not None and c.state == ACTIVE for c in self.cards.values())
    )
    @rule(data=st.data(), tries=st.integers(1, MAX_TRIES + 1))
    def guess_pins(self, data: st.DataObject, tries: int) -> None:
        """Someone tries wrong PINs: each try is refused and recorded; the fifth locks."""
        pool = sorted(n for n, c in self.cards.items() if c.pin is not None and c.state == ACTIVE)
        card_no = data.draw(st.sampled_from(pool), label="card")
        card = self.cards[card_no]
        for _ in range(tries):
            expected, card.pin_failures = self.expected_payment(card, card_no, 100, WRONG_PIN)
            self.attempt(
                expected,
                sv.pay_with_stored_value,
                self.ctx,
                self.cashier,
                card_no,
                100,
                pin=WRONG_PIN,
            )

    @precondition(
        lambda self: any(c.pin is not None and c.pin_failures for c in self.cards.values())
    )
    @rule(data=st.data())
    def reset_pin(self, data: st.DataObject) -> None:
        pool = sorted(n for n, c in self.cards.items() if c.pin is not None and c.pin_failures)
        card_no = data.draw(st.sampled_from(pool), label="card")
        card = self.cards[card_no]
        expected = CardStateError if card.state in (REPLACED, CANCELLED) else None
        self.attempt(expected, card_svc.reset_pin, self.ctx, self.manager, card_no, RIGHT_PIN)
        if expected is None:
            card.pin, card.pin_failures = RIGHT_PIN, 0

    # ---- time ------------------------------------------------------------------------------

    @rule(days=st.sampled_from([1, 1, 3, 7, 31, 95, 200, 370]))
    def advance_clock(self, days: int) -> None:
        self.clock.advance(days=days)

    @rule(job=st.sampled_from(["expire", "review"]))
    def nightly_job(self, job: str) -> None:
        before = self.ledger_len()
        if job == "expire":
            self.attempt_or_nothing(points_svc.expire_points)
            assert set(self.kinds_after(before)) <= {EntryKind.POINTS_EXPIRED}
        else:
            changes = self.attempt_or_nothing(tier_svc.review_tiers)
            assert self.kinds_after(before) == [EntryKind.TIER_CHANGED] * len(changes)

    def attempt_or_nothing(self, call: Any) -> Any:
        """A nightly job: may find nothing to do (no entry), never refuses."""
        STATS.steps += 1
        result = call(self.ctx, self.manager)
        STATS.outcomes[f"{call.__name__}:{'ok' if result else 'nothing to do'}"] += 1
        return result

    # ---- invariants ------------------------------------------------------------------------

    @invariant()
    def ledger_verifies(self) -> None:
        report = verify_ledger(self.ctx)
        assert report.ok, [f"{p.where}: {p.message}" for p in report.problems[:5]]

    @invariant()
    def cards_match_the_model(self) -> None:
        with read_session(self.ctx.engine) as s:
            rows = {
                c.card_no: (
                    c.state,
                    c.principal_fen,
                    c.bonus_fen,
                    c.pin_failures,
                    c.pin_hash is not None,
                )
                for c in s.scalars(select(Card))
            }
        assert set(rows) == set(self.cards)
        for card_no, (state, principal, bonus, failures, has_pin) in rows.items():
            assert principal >= 0 and bonus >= 0, card_no
            m = self.cards[card_no]
            assert (state, principal, bonus, failures, has_pin) == (
                m.state,
                m.principal,
                m.bonus,
                m.pin_failures,
                m.pin is not None,
            ), card_no

    @invariant()
    def points_balance_is_lots_less_debt(self) -> None:
        with read_session(self.ctx.engine) as s:
            lots = dict(
                s.execute(
                    select(PointLot.member_id, func.sum(PointLot.remaining)).group_by(
                        PointLot.member_id
                    )
                )
                .tuples()
                .all()
            )
            for member in s.scalars(select(Member)):
                assert member.points_debt >= 0
                assert member.points_balance == lots.get(member.id, 0) - member.points_debt, (
                    member.member_no
                )


def test_random_operation_sequences_keep_the_ledger_and_balances_right(_template, tmp_path):
    template_dir, _admin, manager, cashier = _template

    class Machine(LedgerMachine):
        pass

    Machine.template, Machine.workdir = template_dir, tmp_path
    Machine.manager, Machine.cashier = manager, cashier
    before = Stats(STATS.examples, STATS.steps, STATS.refused, Counter(STATS.outcomes))
    run_state_machine_as_test(Machine, settings=_settings())
    outcomes = STATS.outcomes - before.outcomes
    print(
        f"\nproperty run: {STATS.examples - before.examples} examples, "
        f"{STATS.steps - before.steps} service calls "
        f"({STATS.refused - before.refused} refused as expected): "
        + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    )
    assert STATS.examples > before.examples
