"""The member panel at checkout: who is at the till, what they hold, and what to watch for.

When a card is swiped, tapped or scanned (or a mobile is typed) the cashier needs at once
the member's name, tier, masked mobile, stored value (principal and bonus), points, the
coupons they can use today, their count/time/package cards, and alerts: a birthday today,
a card that is lost, frozen, cancelled or replaced (it cannot pay), a PIN locked by wrong
tries, a member who has not bought anything for a long time (dormant).

Everything is read with a few indexed queries (by card number, mobile or member number,
then by member id), so the panel fills just as fast in a store of a million members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select

from db.engine import read_session
from db.models import Member, Sale
from pos_app.domain.card_lifecycle import STATE_NAMES, CardState, mask_card_no
from pos_app.domain.errors import InvalidInput
from pos_app.domain.permissions import Permission
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.coupons import CouponView, member_coupons
from pos_app.services.members import (
    CardView,
    MemberView,
    lookup_by_card,
    lookup_by_mobile,
    show_member,
)
from pos_app.services.passes import PassView, member_passes
from pos_app.services.rules_store import current_rules

# PRODUCT §10: a member with no purchase in N days is dormant, 90 by default. The rules file
# has no setting for it yet, so the default applies everywhere.
DORMANT_DAYS = 90

# Alert codes, most serious first (the order the panel lists them in).
CARD_ALERTS = {
    CardState.LOST: "card_lost",
    CardState.FROZEN: "card_frozen",
    CardState.CANCELLED: "card_cancelled",
    CardState.REPLACED: "card_replaced",
    CardState.IN_STOCK: "card_not_issued",
}
DANGER = "danger"  # the card cannot pay
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Alert:
    """One thing the cashier must notice about the member or the card, in both languages."""

    code: str  # card_lost, card_frozen, card_cancelled, card_replaced, pin_locked, dormant, ...
    level: str  # danger, warning or info
    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        """The alert in the given language ("zh" or "en")."""
        return self.en if lang.startswith("en") else self.zh


@dataclass(frozen=True)
class MemberPanel:
    """What the checkout screen shows about the member at the till."""

    member: MemberView
    tier_name_en: str
    presented_card_no: str | None  # the card swiped/tapped/scanned; None: found by mobile
    card: CardView | None  # the presented card, else the member's first active card
    coupons: tuple[CouponView, ...]  # usable today
    passes: tuple[PassView, ...]  # count, time and package cards usable today
    alerts: tuple[Alert, ...]
    last_purchase_at: str | None  # ISO-8601 UTC of the latest sale, None: never bought
    business_day: str  # the day the panel was read (birthday and dormancy refer to it)

    @property
    def card_can_pay(self) -> bool:
        """Whether the card may be used at all (only an active card pays)."""
        return self.card is not None and self.card.state == CardState.ACTIVE.value

    @property
    def presented_card_ok(self) -> bool:
        """False when a card was presented that cannot be used (lost, frozen, ...)."""
        return self.presented_card_no is None or self.card_can_pay

    def tier_text(self, lang: str = "zh") -> str:
        """The tier's name in the given language, and the date a manager held it until."""
        en = lang.startswith("en")
        name = self.tier_name_en if en else self.member.tier_name
        until = self.member.tier_locked_until
        if until and until >= self.business_day:
            return f"{name} (held until {until})" if en else f"{name}（保级至 {until}）"
        return name

    def has_alert(self, code: str) -> bool:
        """Whether an alert with this code is raised (birthday, card_lost, dormant, ...)."""
        return any(a.code == code for a in self.alerts)


def member_panel(
    ctx: StoreContext,
    actor: Actor,
    *,
    card_no: str | None = None,
    mobile: str | None = None,
    member_no: str | None = None,
) -> MemberPanel:
    """The panel for the member holding `card_no`, or with this full `mobile`, or this
    `member_no` (exactly one). Refused like `members.show_member` when nobody matches."""
    given = [x for x in (card_no, mobile, member_no) if x]
    if len(given) != 1:
        raise InvalidInput(
            "请只给出卡号、手机号或会员号中的一个",
            "Give exactly one of card, mobile or member number",
        )
    if card_no:
        view = lookup_by_card(ctx, actor, card_no)
    elif mobile:
        view = lookup_by_mobile(ctx, actor, mobile)
    else:
        view = show_member(ctx, actor, member_no=member_no)
    presented = _presented(view, card_no) if card_no else None
    card = presented or _primary_card(view)
    coupons = tuple(c for c in member_coupons(ctx, actor, view.member_no) if c.usable_today)
    passes = tuple(member_passes(ctx, actor, member_no=view.member_no))
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.MEMBER_VIEW)
        last_purchase = s.scalar(latest_purchase_query(view.member_no))
        _, rules = current_rules(s)
    today = ctx.business_day()
    alerts = _card_alerts(card, presented is not None)
    alerts += _member_alerts(ctx, view, last_purchase, today)
    return MemberPanel(
        member=view,
        tier_name_en=rules.tiers.level(view.tier).name_en,
        presented_card_no=presented.card_no if presented else None,
        card=card,
        coupons=coupons,
        passes=passes,
        alerts=tuple(alerts),
        last_purchase_at=last_purchase,
        business_day=today.isoformat(),
    )


def latest_purchase_query(member_no: str) -> Select[tuple[str]]:
    """When the member last bought something: the latest `business_time` of their sales.

    The member number goes through its unique index and the sales through the sale table's
    member index: a regular's hundred receipts are read, never the store's millions (a test
    checks SQLite's plan for it).
    """
    member_id = select(Member.id).where(Member.member_no == member_no).scalar_subquery()
    return select(func.max(Sale.business_time)).where(
        Sale.member_id == member_id, Sale.kind == "sale"
    )


def _presented(view: MemberView, card_no: str) -> CardView | None:
    wanted = card_no.strip().upper()
    return next((c for c in view.cards if c.card_no.upper() == wanted), None)


def _primary_card(view: MemberView) -> CardView | None:
    """The card a member found by mobile would pay with: the first active one."""
    active = [c for c in view.cards if c.state == CardState.ACTIVE.value]
    if active:
        return active[0]
    return view.cards[-1] if view.cards else None


def _card_alerts(card: CardView | None, presented: bool) -> list[Alert]:
    if card is None:
        return []
    alerts = []
    masked = mask_card_no(card.card_no)
    state = CardState(card.state)
    if state != CardState.ACTIVE:
        zh_state, en_state = STATE_NAMES[state]
        code = CARD_ALERTS[state]
        if state == CardState.REPLACED:
            zh = f"卡 {masked} 已换卡，不能使用：请用新卡"
            en = f"Card {masked} was replaced and cannot be used: use the new card"
        else:
            zh = f"卡 {masked} {zh_state}，不能使用"
            en = f"Card {masked} is {en_state} and cannot be used"
        if presented and state == CardState.LOST:
            zh += "；请核实持卡人身份"
            en += "; check who is holding it"
        alerts.append(Alert(code, DANGER, zh, en))
    if card.pin_locked:
        alerts.append(
            Alert(
                "pin_locked",
                DANGER,
                f"卡 {masked} 密码连续输错已锁定：储值、积分、次卡和会员券都不能用，需店长重置密码",
                f"Card {masked}: PIN locked after wrong tries; stored value, points, service "
                "cards and member coupons wait until a manager resets it",
            )
        )
    return alerts


def _member_alerts(
    ctx: StoreContext, view: MemberView, last_purchase: str | None, today: date
) -> list[Alert]:
    alerts = []
    if view.birthday and _is_birthday(view.birthday, today):
        alerts.append(Alert("birthday", INFO, "今天是会员生日", "Birthday today"))
    since = last_purchase or view.registered_at
    if since:
        days = (today - ctx.business_day(datetime.fromisoformat(since))).days
        if days > DORMANT_DAYS:
            if last_purchase:
                zh = f"沉睡会员：已 {days} 天未消费"
                en = f"Dormant member: no purchase for {days} days"
            else:
                zh = f"沉睡会员：注册 {days} 天以来从未消费"
                en = f"Dormant member: no purchase in the {days} days since joining"
            alerts.append(Alert("dormant", WARNING, zh, en))
    return alerts


def _is_birthday(birthday: str, today: date) -> bool:
    """Month and day match today; a 29 February birthday is kept on 28 February in other
    years, so it is never missed."""
    try:
        born = date.fromisoformat(birthday)
    except ValueError:
        return False
    if (born.month, born.day) == (today.month, today.day):
        return True
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    return (born.month, born.day) == (2, 29) and not leap and (today.month, today.day) == (2, 28)
