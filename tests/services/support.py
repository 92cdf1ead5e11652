"""Small helpers the service tests share: counting rows, reading projections, rules variants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from db.engine import read_session
from db.models import AuditEvent, Card, LedgerEntry, Member, PointLot, Product, Sale
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services import members, stored_value
from pos_app.services.auth import Actor
from pos_app.services.cards import issue_card
from pos_app.services.catalogue import import_products
from pos_app.services.checkout import sell
from tests.conftest import EXAMPLE_RULES, StoreFixture, load_rules_text

EXAMPLE_TEXT = EXAMPLE_RULES.read_text(encoding="utf-8")


def rules_variant(store: StoreFixture, *replacements: tuple[str, str]) -> None:
    """Load the example rules with some lines replaced (each old text must be present)."""
    text = EXAMPLE_TEXT
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    load_rules_text(store, text)


def count(store: StoreFixture, model: Any) -> int:
    with read_session(store.ctx.engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def ledger_count(store: StoreFixture) -> int:
    return count(store, LedgerEntry)


def audit_count(store: StoreFixture) -> int:
    return count(store, AuditEvent)


def snapshot(store: StoreFixture) -> tuple[int, ...]:
    """Row counts of every table a use-case writes, to show that nothing was written."""
    return tuple(count(store, m) for m in (LedgerEntry, Member, Card, PointLot, AuditEvent))


def entries(store: StoreFixture, kind: str | None = None) -> list[LedgerEntry]:
    with read_session(store.ctx.engine) as s:
        q = select(LedgerEntry).order_by(LedgerEntry.store_seq)
        if kind is not None:
            q = q.where(LedgerEntry.kind == kind)
        rows = list(s.scalars(q))
        s.expunge_all()
        return rows


def last_entry(store: StoreFixture) -> LedgerEntry:
    return entries(store)[-1]


def card_row(store: StoreFixture, card_no: str) -> Card:
    with read_session(store.ctx.engine) as s:
        card = s.scalars(select(Card).where(Card.card_no == card_no)).one()
        s.expunge(card)
        return card


def member_row(store: StoreFixture, member_no: str) -> Member:
    with read_session(store.ctx.engine) as s:
        member = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        s.expunge(member)
        return member


def lots(store: StoreFixture, member_no: str) -> list[PointLot]:
    with read_session(store.ctx.engine) as s:
        member = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        rows = list(
            s.scalars(
                select(PointLot).where(PointLot.member_id == member.id).order_by(PointLot.seq)
            )
        )
        s.expunge_all()
        return rows


def buckets(store: StoreFixture, card_no: str) -> tuple[int, int]:
    card = card_row(store, card_no)
    return card.principal_fen, card.bonus_fen


def new_member(
    store: StoreFixture, mobile: str = "13800138000", name: str = "张三", **kwargs: Any
) -> members.MemberView:
    return members.register_member(store.ctx, store.cashier, mobile, name, **kwargs)


def member_with_card(
    store: StoreFixture,
    card_no: str = "88880001",
    mobile: str = "13800138000",
    name: str = "张三",
    *,
    pin: str | None = None,
    topup_fen: int = 0,
) -> members.MemberView:
    """A member with one card, optionally a PIN and an opening top-up (by the cashier)."""
    member = new_member(store, mobile, name)
    issue_card(store.ctx, store.cashier, member.member_no, card_no, pin=pin)
    if topup_fen:
        store.at_till(store.cashier)
        stored_value.top_up(store.ctx, store.cashier, card_no, topup_fen)
    return member


CARD = "88880001"


def req(
    *lines: tuple[str, int],
    pay: Any = (("cash", None),),
    card: str | None = None,
    pin: str | None = None,
    coupons: Any = (),
    member_no: str | None = None,
) -> SaleRequest:
    """A sale request: req(("D001", 2), pay=[("stored_value", None), ("cash", 5000)])."""
    return SaleRequest(
        lines=tuple(LineRequest(code, qty) for code, qty in lines),
        tenders=tuple(TenderRequest(t, a) for t, a in pay),
        card_no=card,
        member_no=member_no,
        pin=pin,
        coupon_codes=tuple(coupons),
    )


# Plain goods for buying exact amounts at the till: no member price, no discounts, so a
# member pays the list price at every tier. X000 earns no points; X003 is for campaigns.
TEST_GOODS = """\
sku,barcodes,name,name_en,category,unit,kind,price,member_price,earns_points,takes_discounts,pass_services,pass_valid_days
X100,,测试商品百元,Test item 100,测试,件,goods,100.00,,yes,no,,
X001,,测试商品一元,Test item 1,测试,件,goods,1.00,,yes,no,,
X000,,测试不积分,Test item without points,测试,件,goods,1.00,,no,no,,
X003,,测试活动商品,Test campaign item,测试,件,goods,1.00,,yes,no,,
"""


@dataclass(frozen=True)
class Bought:
    """A sale made by `buy`, with what it did for the member."""

    receipt_no: str
    purchase_entry_id: str
    total_fen: int
    points_earned: int
    points_balance: int | None
    tier: str | None
    tier_changed: bool


def ensure_till(store: StoreFixture, actor: Actor | None = None) -> None:
    """The test goods in the catalogue and the seller's shift open (the cashier's by
    default), as at a real till."""
    with read_session(store.ctx.engine) as s:
        has_goods = s.scalar(select(Product.id).where(Product.sku == "X001")) is not None
    if not has_goods:
        path = store.data_dir / "test-goods.csv"
        path.write_text(TEST_GOODS, encoding="utf-8")
        import_products(store.ctx, store.manager, path)
    store.at_till(actor or store.cashier)


def buy(
    store: StoreFixture,
    yuan: int,
    *,
    member_no: str | None = None,
    card_no: str | None = None,
    sku: str = "X001",
    actor: Actor | None = None,
) -> Bought:
    """A real sale of exactly `yuan` yuan at the till, paid in cash (X100s and X001s, or
    `yuan` of another test item), for a member or a walk-in customer."""
    ensure_till(store, actor)
    lines = [("X100", yuan // 100), ("X001", yuan % 100)] if sku == "X001" else [(sku, yuan)]
    sale = sell(
        store.ctx,
        actor or store.cashier,
        req(*[(code, qty) for code, qty in lines if qty], card=card_no, member_no=member_no),
    )
    with read_session(store.ctx.engine) as s:
        row = s.get(Sale, sale.sale_id)
        assert row is not None
        member = s.get(Member, row.member_id) if row.member_id else None
        entry_id = row.entry_id
        balance = member.points_balance if member else None
        tier = member.tier_code if member else None
    upgraded = sale.receipt.member is not None and bool(sale.receipt.member.tier_upgraded_to)
    return Bought(
        sale.receipt_no, entry_id, sale.total_fen, sale.points_earned, balance, tier, upgraded
    )


def audit_rows(store: StoreFixture) -> list[AuditEvent]:
    """The audit trail, oldest first."""
    with read_session(store.ctx.engine) as s:
        rows = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        s.expunge_all()
        return rows
