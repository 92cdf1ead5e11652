"""Demo data: fill a store with realistic members, cards and activity for a demonstration.

Everything goes through the public services, exactly as a cashier or manager would do it, so
every balance, point and card state is in the ledger and `verify` passes afterwards. The
choices (names, mobiles, amounts, who refers whom) come from a seeded generator, so the same
seed gives the same story; ids and times are real, as for any other use of the store.

Only an admin may do this (Permission.DEMO_DATA); privileged steps (replacing a card,
refunds, participation points) are then approved by the admin themselves.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.engine import read_session
from db.models import Card, Member
from pos_app.domain.card_lifecycle import CardState
from pos_app.domain.errors import DomainError, InvalidInput
from pos_app.domain.members import normalize_mobile
from pos_app.domain.permissions import Permission
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services import cards as card_svc
from pos_app.services import checkout as checkout_svc
from pos_app.services import members as member_svc
from pos_app.services import points as points_svc
from pos_app.services import reports, shifts
from pos_app.services import stored_value as sv_svc
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.demo_sales import fill_demo_sales, prepare_demo_till
from pos_app.services.rules import load_rules
from pos_app.services.rules_store import current_rules
from pos_app.services.sale_refund import refund_sale

Progress = Callable[[int, int], None]

# At most this many cards get a PIN: hashing one (scrypt) costs ~50 ms, and so does every
# stored-value payment on such a card (the example rules ask for the PIN on every payment).
MAX_PINS = 20
TOPUP_AMOUNTS_YUAN = (100, 200, 300, 500, 500, 500, 800, 1000, 1000, 2000, 3000)
TENDERS = ("cash", "wechat", "wechat", "alipay", "alipay", "bank")
PARTICIPATION_REASONS = ("参加店庆活动", "填写满意度问卷", "参加会员日沙龙", "新品试用反馈")
REDEEM_REASONS = ("兑换礼品：保温杯", "兑换礼品：帆布袋", "兑换优惠券")
GOLD_SKU = "W001"  # 飞天茅台 ¥1499: one receipt ≥ ¥999 makes a 金卡 member


@dataclass
class DemoSummary:
    """What was created. `sample_cards` are active cards holding stored value (no PIN)."""

    members: int = 0
    cards: int = 0
    topups: int = 0
    payments: int = 0
    purchases: int = 0
    refunds: int = 0
    lost_replaced: int = 0
    stock_cards: int = 0
    pins: int = 0
    referrals: int = 0
    tier_upgrades: int = 0
    participation: int = 0
    redemptions: int = 0
    sales: int = 0
    coupons: int = 0
    tier_downgrades: int = 0  # a refund took back what a tier rested on
    sample_cards: list[str] = field(default_factory=list)


@dataclass
class _DemoCard:
    card_no: str
    pin: str | None
    principal_fen: int = 0
    bonus_fen: int = 0

    @property
    def stored_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


@dataclass
class _DemoMember:
    member_no: str
    cards: list[_DemoCard]
    points: int = 0


@dataclass
class _DemoPurchase:
    """A member's sale at the till, kept for a return later."""

    receipt_no: str
    member: _DemoMember
    card: _DemoCard
    paid_by_card: bool
    keep: bool  # the sale that made the demo's gold member: never returned


def fill_demo_store(
    ctx: StoreContext,
    actor: Actor,
    members: int = 200,
    progress: Progress | None = None,
    seed: int = 2026,
) -> DemoSummary:
    """Register `members` members with cards and a few weeks' worth of typical activity."""
    if members < 1:
        raise InvalidInput("演示会员数至少为 1", "Ask for at least one demo member")
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.DEMO_DATA)
        version, _ = current_rules(s)
    if version == 0:
        text = resources.files("pos_app").joinpath("resources/rules.example.toml")
        load_rules(ctx, actor, text.read_text(encoding="utf-8"), "rules.example.toml")
    return _Filler(ctx, actor, members, progress, seed).run()


class _Filler:
    def __init__(
        self,
        ctx: StoreContext,
        actor: Actor,
        count: int,
        progress: Progress | None,
        seed: int,
    ) -> None:
        self.ctx, self.actor, self.count, self.progress = ctx, actor, count, progress
        self.rng = random.Random(seed)
        # Separate streams, so that mobiles redrawn because they are taken (a second run on
        # the same store) do not change the names or the activity that follow.
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.phones = Faker("zh_CN")
        self.phones.seed_instance(seed + 1_000_003)
        self.numbers = random.Random(seed + 2_000_003)  # card numbers, redrawn when taken
        self.summary = DemoSummary()
        self.members: list[_DemoMember] = []
        self.stock: list[str] = []
        self.taken_cards: set[str] = set()
        self.purchases: list[_DemoPurchase] = []
        self.goods: dict[str, int] = {}  # everyday goods and their prices, for baskets
        # (top-up entry id, card, member, whether to keep it: the demo's first silver member)
        self.topups: list[tuple[str, _DemoCard, _DemoMember, bool]] = []
        self.pins_left = min(MAX_PINS, max(1, count // 10))
        self.total_steps = count + 2

    # -- the story ---------------------------------------------------------------------------

    def run(self) -> DemoSummary:
        mobiles = self._unique_mobiles(self.count)
        self._import_stock(max(10, self.count // 10))
        # Members buy at the till, like everyone else: points and tiers come from receipts,
        # and the history's cash goes through a shift of its own.
        history_shift = shifts.current_shift(self.ctx, self.actor) is None
        self.goods = prepare_demo_till(self.ctx, self.actor)
        self._step(1)
        for i, mobile in enumerate(mobiles):
            self._one_member(i, mobile)
            self._step(2 + i)
        self._refunds()
        self._lost_and_replaced()
        self.summary.sample_cards = self._sample_cards()
        self._till()
        if history_shift:
            self._hand_over()
        self._step(self.total_steps)
        return self.summary

    def _hand_over(self) -> None:
        """The history's shift is counted and closed with its drawer exactly as expected, so
        the demo's day settles to ¥0.00 and the first cashier opens a shift of their own."""
        expected = reports.x_report(self.ctx, self.actor).figures.cash.expected_fen
        shifts.close_shift(self.ctx, self.actor, expected)

    def _one_member(self, i: int, mobile: str) -> None:
        rng, s = self.rng, self.summary
        female = rng.random() < 0.55
        name = self.fake.name_female() if female else self.fake.name_male()
        referrer = None
        if self.members and rng.random() < 0.15:
            referrer = rng.choice(self.members).member_no
        view = member_svc.register_member(
            self.ctx,
            self.actor,
            mobile,
            name,
            birthday=self._birthday().isoformat() if rng.random() < 0.8 else None,
            gender="female" if female else "male",
            referrer_no=referrer,
        )
        s.members += 1
        s.referrals += referrer is not None
        member = _DemoMember(view.member_no, [])
        self.members.append(member)
        member.cards.append(self._issue(member, self._media(), mobile))
        if rng.random() < 0.1:  # a second card: the member's phone as a virtual card
            member.cards.append(self._issue(member, "virtual", mobile, pin_allowed=False))
        card = member.cards[0]

        # Stored value: the first member reaches 银卡 by topping up ¥1000 (充1000送150).
        topups = 1 if i == 0 else rng.choice((0, 0, 1, 1, 1, 2))
        for n in range(topups):
            first = i == 0 and n == 0
            yuan = 1000 if first else rng.choice(TOPUP_AMOUNTS_YUAN)
            self._top_up(member, card, yuan * 100, keep=first)

        # Purchases at the till, paid with the card when it holds enough; the second member
        # buys a bottle of 茅台 (¥1499) on one receipt, which lifts them to 金卡.
        buys = 1 if i == 1 else rng.choice((0, 1, 1, 2, 2, 3, 4))
        for n in range(buys):
            if i == 1 and n == 0:
                self._purchase(member, card, (LineRequest(GOLD_SKU),), keep=True)
            else:
                self._purchase(member, card, self._basket(self._purchase_amount()))

        if rng.random() < 0.05:
            self._participation(member)
        if member.points >= 300 and rng.random() < 0.3:
            self._redeem(member)

    # -- steps -------------------------------------------------------------------------------

    def _import_stock(self, n: int) -> None:
        numbers = self._unique_card_numbers(n, lambda: f"{self.numbers.getrandbits(32):08X}")
        card_svc.import_card_stock(
            self.ctx, self.actor, numbers, media="ic", label="演示卡库存 / demo stock"
        )
        self.stock = list(numbers)
        self.summary.stock_cards = n

    def _issue(
        self, member: _DemoMember, media: str, mobile: str, pin_allowed: bool = True
    ) -> _DemoCard:
        rng = self.rng
        if media == "ic" and len(self.stock) > 5:  # keep a few blanks for replacements
            card_no = self.stock.pop(0)
        elif media == "virtual" and mobile not in self.taken_cards and self._free([mobile]):
            card_no = mobile
            self.taken_cards.add(mobile)
        else:
            media = "magstripe" if media in ("ic", "virtual") else media
            card_no = self._unique_card_numbers(1, self._number_maker(media))[0]
        pin = None
        if pin_allowed and self.pins_left and rng.random() < 0.12:
            pin = self._pin()
            self.pins_left -= 1
            self.summary.pins += 1
        card_svc.issue_card(self.ctx, self.actor, member.member_no, card_no, media=media, pin=pin)
        self.summary.cards += 1
        return _DemoCard(card_no, pin)

    def _top_up(
        self, member: _DemoMember, card: _DemoCard, amount_fen: int, keep: bool = False
    ) -> None:
        result = sv_svc.top_up(
            self.ctx, self.actor, card.card_no, amount_fen, tender=self.rng.choice(TENDERS)
        )
        card.principal_fen += result.amount_fen
        card.bonus_fen += result.bonus_fen
        self.summary.topups += 1
        self.summary.tier_upgrades += result.new_tier is not None
        self.topups.append((result.entry_id, card, member, keep))

    def _basket(self, amount_fen: int) -> tuple[LineRequest, ...]:
        """A few everyday goods adding up to about `amount_fen` at list prices."""
        rng = self.rng
        picks: dict[str, int] = {}
        left = amount_fen
        while left > 0 and len(picks) < 8:
            sku = rng.choice(sorted(self.goods))
            price = self.goods[sku]
            qty = max(1, min(left // price, rng.randint(1, 6)))
            picks[sku] = picks.get(sku, 0) + qty
            left -= qty * price
        if left > 0:  # a big basket: the dearest item makes up the rest
            sku = max(self.goods, key=lambda code: self.goods[code])
            picks[sku] = picks.get(sku, 0) - (-left // self.goods[sku])
        return tuple(LineRequest(sku, qty) for sku, qty in picks.items())

    def _purchase(
        self,
        member: _DemoMember,
        card: _DemoCard,
        lines: tuple[LineRequest, ...],
        keep: bool = False,
    ) -> None:
        """A member's sale at the till: stored value first when the card holds some (PIN
        cards only now and then: each PIN check is slow), the rest in cash or by phone."""
        by_card = card.stored_fen > 0 and (card.pin is None or self.rng.random() < 0.3)
        other = TenderRequest(self.rng.choice(TENDERS))
        tenders = (TenderRequest("stored_value"), other) if by_card else (other,)
        request = SaleRequest(lines, tenders, card_no=card.card_no, pin=card.pin)
        try:
            result = checkout_svc.sell(self.ctx, self.actor, request)
        except DomainError:  # e.g. the member's daily stored-value limit: pay otherwise
            by_card = False
            request = SaleRequest(lines, (other,), card_no=card.card_no)
            result = checkout_svc.sell(self.ctx, self.actor, request)
        shown = result.receipt.member
        assert shown is not None
        by_card = by_card and any(t.tender == "stored_value" for t in result.receipt.tenders)
        if by_card:
            self._card_balance(card, shown.principal_fen, shown.bonus_fen)
            self.summary.payments += 1
        member.points = shown.points_balance
        self.summary.purchases += 1
        self.summary.tier_upgrades += shown.tier_upgraded_to is not None
        self.purchases.append(_DemoPurchase(result.receipt_no, member, card, by_card, keep))

    @staticmethod
    def _card_balance(card: _DemoCard, principal: int | None, bonus: int | None) -> None:
        card.principal_fen = principal or 0
        card.bonus_fen = bonus or 0

    def _tier(self, member: _DemoMember) -> str:
        with read_session(self.ctx.engine) as s:
            return str(
                s.scalar(select(Member.tier_code).where(Member.member_no == member.member_no))
            )

    def _participation(self, member: _DemoMember) -> None:
        result = points_svc.give_participation_points(
            self.ctx,
            self.actor,
            member.member_no,
            self.rng.choice((50, 100, 200)),
            self.rng.choice(PARTICIPATION_REASONS),
        )
        member.points = result.points_balance
        self.summary.participation += 1

    def _redeem(self, member: _DemoMember) -> None:
        result = points_svc.redeem_points(
            self.ctx,
            self.actor,
            100 * self.rng.randint(1, member.points // 100 // 2 or 1),
            self.rng.choice(REDEEM_REASONS),
            member_no=member.member_no,
        )
        member.points = result.points_balance
        self.summary.redemptions += 1

    def _refunds(self) -> None:
        """A returned member sale and a refunded top-up, when possible. Either may take back
        the tier it earned."""
        returnable = [p for p in self.purchases if not p.keep]
        if returnable:
            sale = self.rng.choice(returnable)
            before = self._tier(sale.member)
            back = refund_sale(self.ctx, self.actor, sale.receipt_no)
            shown = back.receipt.member
            if sale.paid_by_card and shown is not None:
                self._card_balance(sale.card, shown.principal_fen, shown.bonus_fen)
            if shown is not None:
                sale.member.points = shown.points_balance
            # The return, and the stored value it gave back (its own entry).
            self.summary.refunds += 1 + sale.paid_by_card
            self.summary.tier_downgrades += self._tier(sale.member) != before
        for entry_id, card, member, keep in reversed(self.topups):
            if keep:
                continue
            before = self._tier(member)
            try:
                result = sv_svc.refund_top_up(self.ctx, self.actor, entry_id)
            except DomainError:  # its principal was spent already: try an earlier one
                continue
            card.principal_fen -= result.returned.principal
            card.bonus_fen -= result.returned.bonus
            self.summary.refunds += 1
            self.summary.tier_downgrades += result.balance.tier != before
            break

    def _lost_and_replaced(self) -> None:
        """挂失 then 补卡: a member with stored value loses a card; the balance moves."""
        wanted = max(1, self.count // 100)
        for member in self.members:
            if wanted == 0 or not self.stock:
                break
            card = member.cards[0]
            if card.stored_fen <= 0:
                continue
            card_svc.report_card_lost(self.ctx, self.actor, card.card_no)
            new_no = self.stock.pop()
            result = card_svc.replace_card(self.ctx, self.actor, card.card_no, new_no)
            assert result.moved_principal_fen + result.moved_bonus_fen == card.stored_fen
            member.cards[0] = _DemoCard(new_no, card.pin, card.principal_fen, card.bonus_fen)
            self.summary.lost_replaced += 1
            wanted -= 1

    # -- generators --------------------------------------------------------------------------

    def _unique_mobiles(self, n: int) -> list[str]:
        chosen: list[str] = []
        seen: set[str] = set()
        while len(chosen) < n:
            batch: list[str] = []
            while len(batch) < n - len(chosen):
                mobile = normalize_mobile(self.phones.phone_number())
                if mobile not in seen:
                    seen.add(mobile)
                    batch.append(mobile)
            with read_session(self.ctx.engine) as s:
                taken = _existing(s, Member.mobile, batch)
            chosen.extend(m for m in batch if m not in taken)
        return chosen

    def _unique_card_numbers(self, n: int, make: Callable[[], str]) -> list[str]:
        chosen: list[str] = []
        while len(chosen) < n:
            batch: list[str] = []
            while len(batch) < n - len(chosen):
                number = make()
                if number not in self.taken_cards:
                    self.taken_cards.add(number)
                    batch.append(number)
            with read_session(self.ctx.engine) as s:
                taken = _existing(s, Card.card_no, batch)
            chosen.extend(c for c in batch if c not in taken)
        return chosen

    def _free(self, numbers: list[str]) -> bool:
        with read_session(self.ctx.engine) as s:
            return not _existing(s, Card.card_no, numbers)

    def _number_maker(self, media: str) -> Callable[[], str]:
        rng = self.numbers
        if media == "barcode":
            return lambda: f"2026{rng.randrange(10**8):08d}"
        return lambda: f"6688{rng.randrange(10**12):012d}"  # magnetic stripe

    def _media(self) -> str:
        return self.rng.choices(("ic", "magstripe", "barcode", "virtual"), (45, 25, 15, 15))[0]

    def _pin(self) -> str:
        while True:
            pin = f"{self.rng.randrange(10**6):06d}"
            if len(set(pin)) > 2:  # no 000000 or 121212 in a demo either
                return pin

    def _birthday(self) -> date:
        start = date(1955, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(2008, 12, 31) - start).days))

    def _purchase_amount(self) -> int:
        """A receipt total in fen: mostly small baskets, now and then a big one."""
        roll = self.rng.random()
        if roll < 0.7:
            return self.rng.randrange(1_500, 30_000, 10)
        if roll < 0.95:
            return self.rng.randrange(30_000, 90_000, 100)
        return self.rng.randrange(100_000, 250_000, 100)

    def _till(self) -> None:
        """A morning at the till on top of the members' history (catalogue, coupons, sales
        and a return), so the demo has a day to report on at once."""
        # Not the sample cards: the walkthrough shows their balances as they were.
        shown = set(self.summary.sample_cards)
        pairs = [
            (m.member_no, c.card_no)
            for m in self.members
            for c in m.cards
            if c.pin is None and c.stored_fen > 0 and c.card_no not in shown
        ][:30]
        till = fill_demo_sales(self.ctx, self.actor, pairs, self.rng)
        self.summary.sales = till.sales
        self.summary.refunds += till.refunds
        self.summary.coupons = till.coupons_issued

    def _sample_cards(self) -> list[str]:
        """A few active cards with stored value and no PIN, for trying the till."""
        numbers = [
            c.card_no for m in self.members for c in m.cards if c.pin is None and c.stored_fen > 0
        ]
        with read_session(self.ctx.engine) as s:
            active = set(
                s.scalars(
                    select(Card.card_no).where(
                        Card.card_no.in_(numbers[:200]),
                        Card.state == CardState.ACTIVE.value,
                        Card.principal_fen + Card.bonus_fen > 0,
                    )
                )
            )
        return [n for n in numbers[:200] if n in active][:5]

    def _step(self, done: int) -> None:
        if self.progress:
            self.progress(min(done, self.total_steps), self.total_steps)


def _existing(
    session: Session, column: InstrumentedAttribute[str], values: Iterable[str]
) -> set[str]:
    """Which of `values` are already in `column` (checked in chunks under SQLite's limit)."""
    values = list(values)
    found: set[str] = set()
    for i in range(0, len(values), 500):
        found.update(session.scalars(select(column).where(column.in_(values[i : i + 500]))))
    return found
