"""Hold and recall (挂单): put a cart aside to serve the next customer, take it back later.

A held cart is not money — nothing is priced, paid or reserved until it is recalled and
checked out — so it writes no ledger entry; holding, recalling and discarding are audited.
The cart is kept as the till's SaleRequest without its PIN, which is asked again at checkout.
Recalling deletes the row in the same write transaction that reads it, so of two tills
recalling the same cart one gets it and the other is told it is gone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.counters import next_value
from db.engine import read_session
from db.ledger import new_id
from db.models import HeldSale, Operator
from pos_app.domain.control_chars import refuse_control_chars
from pos_app.domain.errors import DomainError, InvalidInput, LimitExceeded, NotFound
from pos_app.domain.permissions import Permission
from pos_app.domain.sale_request import SaleRequest
from pos_app.services.audit import record
from pos_app.services.auth import Actor, authorize
from pos_app.services.checkout import quote
from pos_app.services.context import StoreContext
from pos_app.services.use_case import use_case

# More than this many carts aside means they are being forgotten, not served.
MAX_HELD = 20
MAX_LABEL = 40  # the column's width


@dataclass(frozen=True)
class HeldView:
    id: str
    label: str
    held_at: str  # ISO-8601 UTC
    operator_login: str
    operator_name: str
    line_count: int
    item_count: int  # the quantities added up
    has_member: bool  # a card or member number is on the cart
    # What the cart comes to at today's prices (what recalling it will ask), for the cashier
    # to tell the carts apart ("the ¥47 one"); None when it cannot be priced now.
    total_fen: int | None = None


def _view(row: HeldSale, login: str, name: str) -> HeldView:
    request = SaleRequest.from_dict(json.loads(row.cart))
    return HeldView(
        id=row.id,
        label=row.label,
        held_at=row.held_at,
        operator_login=login,
        operator_name=name,
        line_count=len(request.lines),
        item_count=sum(line.qty for line in request.lines),
        has_member=bool(request.card_no or request.member_no),
    )


def _next_label(session: Session, day: str) -> str:
    """ "挂单 N": N runs through the business day and is never reused within it, even after
    earlier carts were recalled, so a cashier never sees two different carts called 挂单 2."""
    return f"挂单 {next_value(session, f'held:{day}')}"


def _check_label(label: str | None) -> str | None:
    if label is None or not label.strip():
        return None
    label = refuse_control_chars(label.strip(), "挂单备注", "hold label")
    if len(label) > MAX_LABEL:
        raise InvalidInput(
            f"挂单备注最多 {MAX_LABEL} 个字", f"A hold label is at most {MAX_LABEL} characters"
        )
    return label


def hold_sale(
    ctx: StoreContext, actor: Actor, request: SaleRequest, label: str | None = None
) -> HeldView:
    """Put the cart aside; `label` defaults to "挂单 N", the day's next number."""
    if not request.lines:
        raise InvalidInput("购物车是空的，没有可挂的单", "The cart is empty: nothing to hold")
    text = _check_label(label)
    with use_case(ctx, actor, Permission.SALE, target="held_sale") as uc:
        s = uc.session
        held = s.scalar(select(func.count()).select_from(HeldSale)) or 0
        if held >= MAX_HELD:
            raise LimitExceeded(
                f"最多只能挂 {MAX_HELD} 单，请先取单或删除旧的挂单",
                f"At most {MAX_HELD} carts can be held: recall or discard one first",
            )
        row = HeldSale(
            id=new_id(),
            label=text or _next_label(s, uc.ctx.business_day().isoformat()),
            operator_id=actor.operator_id,
            held_at=uc.now_iso,
            cart=json.dumps(request.to_dict(), ensure_ascii=False, sort_keys=True),
        )
        s.add(row)
        # The cart's card number stays out of the audit trail; the label and size identify it.
        record(
            s,
            uc.now_iso,
            actor.operator_id,
            "sale.hold",
            target=row.id,
            detail={"label": row.label, "lines": len(request.lines)},
        )
        return _view(row, actor.login, actor.name)


def held_sales(ctx: StoreContext, actor: Actor) -> list[HeldView]:
    """The carts on hold, oldest first."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE)
        rows = s.execute(
            select(HeldSale, Operator)
            .join(Operator, Operator.id == HeldSale.operator_id)
            .order_by(HeldSale.held_at, HeldSale.id)
        )
        found = [(_view(held, op.login, op.name), held.cart) for held, op in rows.tuples()]
    return [replace(view, total_fen=_total_now(ctx, actor, cart)) for view, cart in found]


def _total_now(ctx: StoreContext, actor: Actor, cart: str) -> int | None:
    try:
        return quote(ctx, actor, SaleRequest.from_dict(json.loads(cart))).total_fen
    except DomainError:  # a product taken off sale, a card since lost: recalling says why
        return None


def _take(session: Session, held_id: str) -> HeldSale:
    row = session.get(HeldSale, held_id)
    if row is None:
        raise NotFound(
            "找不到这张挂单：可能已被取回或删除",
            "No such held sale: it may have been recalled or discarded already",
        )
    session.delete(row)
    return row


def recall_sale(ctx: StoreContext, actor: Actor, held_id: str) -> SaleRequest:
    """Take a held cart back to the till; it is no longer held (the PIN is asked again)."""
    with use_case(ctx, actor, Permission.SALE, target=held_id) as uc:
        row = _take(uc.session, held_id)
        record(
            uc.session,
            uc.now_iso,
            actor.operator_id,
            "sale.recall",
            target=row.id,
            detail={"label": row.label, "held_by": row.operator_id},
        )
        return SaleRequest.from_dict(json.loads(row.cart))


def discard_held(ctx: StoreContext, actor: Actor, held_id: str) -> None:
    """Throw a held cart away (the customer left)."""
    with use_case(ctx, actor, Permission.SALE, target=held_id) as uc:
        row = _take(uc.session, held_id)
        record(
            uc.session,
            uc.now_iso,
            actor.operator_id,
            "sale.hold_discard",
            target=row.id,
            detail={"label": row.label, "held_by": row.operator_id},
        )
