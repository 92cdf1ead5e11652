"""Service passes held by members: count, time, package and trial cards.

Checkout calls the `*_in_tx` functions inside its own sale or refund transaction (`use_case`),
so a card sold, a use taken or given back commits with the sale or not at all. Every change
is a ledger entry; the `service_pass` and `service_pass_item` rows are projections of them:

- `pass_granted`  (entry id = the pass id) payload: pass_id, sku, kind, name, valid_until,
  items {service SKU: uses or null}, receipt_no; related_entry_id: the sale's entry.
- `pass_used`  amount_fen = the value of the service units covered; payload: pass_id,
  service_sku, qty, receipt_no, line_no; related_entry_id: the sale's entry.
- `pass_use_reversed`  related_entry_id = the `pass_used` entry it gives back (in part or
  whole); amount_fen = the matching share of that use's value; payload: pass_id, service_sku,
  qty, receipt_no, refund_entry_id (the refund's entry, if any).
- `pass_revoked`  related_entry_id = the pass (its `pass_granted` entry); payload: pass_id,
  receipt_no, refund_entry_id.

Amounts are magnitudes: the kind of entry says which way they go.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.ledger import new_id
from db.models import LedgerEntry, Member, Product, ServicePass, ServicePassItem
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import AlreadyExists, InsufficientBalance, InvalidInput, NotFound
from pos_app.domain.passes import (
    CARD_PRODUCT_KINDS,
    HeldPass,
    PassUse,
    parse_pass_spec,
    share_fen,
    uses_text,
    valid_until,
)
from pos_app.domain.permissions import Permission
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.lookup import card_by_no, member_by_no, member_of_card
from pos_app.services.use_case import UseCase

ACTIVE, REVOKED = "active", "revoked"


def _today(uc: UseCase) -> date:
    """The business day of the transaction's own time (the time its entries carry)."""
    return uc.ctx.business_day(datetime.fromisoformat(uc.now_iso))


def _payload(entry: LedgerEntry) -> dict[str, Any]:
    data = json.loads(entry.payload) if entry.payload else {}
    return data if isinstance(data, dict) else {}


# -- Selling a card ---------------------------------------------------------------------------


def grant_pass_in_tx(
    uc: UseCase,
    member: Member | None,
    product: Product,
    receipt_no: str | None,
    related_entry_id: str | None,
) -> ServicePass:
    """Give the member the pass a card product describes, valid from today for its days.

    A trial card (体验卡) is a first taste: a member gets each trial card product only once
    (a refunded one does not count).
    """
    if product.kind not in CARD_PRODUCT_KINDS:
        raise InvalidInput(
            f"商品 {product.sku} 不是次卡/时卡/套餐卡",
            f"Product {product.sku} is not a count, time or package card",
        )
    if member is None:
        raise InvalidInput("次卡/时卡必须售给会员", "Service cards can only be sold to a member")
    spec = parse_pass_spec(product.kind, product.pass_spec)
    s = uc.session
    if product.kind == "trial_card":
        had = s.scalars(
            select(ServicePass.id).where(
                ServicePass.member_id == member.id,
                ServicePass.product_sku == product.sku,
                ServicePass.state != REVOKED,
            )
        ).first()
        if had is not None:
            raise AlreadyExists(
                f"该会员已购买过体验卡：{product.name}",
                f"This member already had the trial card {product.sku}",
            )
    until = valid_until(_today(uc), spec.valid_days).isoformat()
    pass_id = new_id()
    uc.ledger.append(
        EntryKind.PASS_GRANTED,
        entry_id=pass_id,
        member_id=member.id,
        related_entry_id=related_entry_id,
        payload={
            "pass_id": pass_id,
            "sku": product.sku,
            "kind": spec.kind,
            "name": product.name,
            "valid_until": until,
            "items": spec.services,
            "receipt_no": receipt_no,
        },
    )
    granted = ServicePass(
        id=pass_id,
        member_id=member.id,
        product_sku=product.sku,
        kind=spec.kind,
        name=product.name,
        valid_until=until,
        receipt_no=receipt_no,
        state=ACTIVE,
        granted_at=uc.now_iso,
    )
    s.add(granted)
    s.flush()  # the items' foreign key needs the pass row first
    for sku, uses in spec.services.items():
        s.add(ServicePassItem(pass_id=pass_id, service_sku=sku, uses_total=uses, uses_left=uses))
    s.flush()
    return granted


def granted_passes(session: Session, related_entry_id: str) -> list[ServicePass]:
    """The passes a sale granted (for refunding the card products it sold), oldest first."""
    ids = session.scalars(
        select(LedgerEntry.entry_id)
        .where(
            LedgerEntry.related_entry_id == related_entry_id,
            LedgerEntry.kind == EntryKind.PASS_GRANTED,
        )
        .order_by(LedgerEntry.store_seq)
    ).all()
    rows = [session.get(ServicePass, pass_id) for pass_id in ids]
    return [row for row in rows if row is not None]


# -- Using passes at checkout -----------------------------------------------------------------


def usable_passes(session: Session, member_id: str, today: date) -> list[HeldPass]:
    """The member's passes that can cover something today: active, not expired, not used up."""
    rows = session.scalars(
        select(ServicePass)
        .where(
            ServicePass.member_id == member_id,
            ServicePass.state == ACTIVE,
            ServicePass.valid_until >= today.isoformat(),
        )
        .order_by(ServicePass.valid_until, ServicePass.granted_at)
    ).all()
    held = _held_passes(session, list(rows))
    return [h for h in held if any(uses is None or uses > 0 for uses in h.items.values())]


def _held_passes(session: Session, rows: list[ServicePass]) -> list[HeldPass]:
    if not rows:
        return []
    items: dict[str, dict[str, int | None]] = defaultdict(dict)
    for item in session.scalars(
        select(ServicePassItem)
        .where(ServicePassItem.pass_id.in_([r.id for r in rows]))
        .order_by(ServicePassItem.pass_id, ServicePassItem.service_sku)
    ):
        items[item.pass_id][item.service_sku] = item.uses_left
    skus = {sku for per_pass in items.values() for sku in per_pass} | {r.product_sku for r in rows}
    names = {
        sku: (name, name_en)
        for sku, name, name_en in session.execute(
            select(Product.sku, Product.name, Product.name_en).where(Product.sku.in_(skus))
        )
    }
    return [
        HeldPass(
            pass_id=r.id,
            name=r.name,
            kind=r.kind,
            valid_until=date.fromisoformat(r.valid_until),
            items=items[r.id],
            granted_at=r.granted_at,
            state=r.state,
            name_en=names.get(r.product_sku, (r.name, None))[1],
            service_names={sku: names[sku] for sku in items[r.id] if sku in names},
        )
        for r in rows
    ]


def apply_uses_in_tx(
    uc: UseCase,
    member_id: str,
    uses: list[PassUse],
    receipt_no: str | None,
    related_entry_id: str | None,
) -> list[str]:
    """Take the planned uses off the member's passes, one `pass_used` entry per use; returns
    the entry ids in the order of `uses`.

    The plan may be stale (made before this transaction, or another till sold against the same
    card meanwhile), so the passes are read again here and every use is checked before any is
    written: a pass now short of uses, expired or refunded refuses the whole lot.
    """
    s = uc.session
    today = _today(uc)
    wanted: dict[tuple[str, str], int] = defaultdict(int)
    items: dict[tuple[str, str], ServicePassItem] = {}
    passes: dict[str, ServicePass] = {}
    for use in uses:
        if use.qty < 1 or use.amount_fen < 0:
            raise InvalidInput(
                "次卡使用的次数或金额不正确", "A card use has a bad quantity or amount"
            )
        held = passes.get(use.pass_id) or _pass_of_member(s, use.pass_id, member_id)
        passes[held.id] = held
        if held.state != ACTIVE:
            raise InvalidInput(f"{held.name} 已退卡，不能使用", f"{held.name} has been refunded")
        if held.valid_until < today.isoformat():
            raise InvalidInput(
                f"{held.name} 已过期（有效期至 {held.valid_until}）",
                f"{held.name} expired on {held.valid_until}",
            )
        key = (use.pass_id, use.service_sku)
        item = items.get(key) or s.get(ServicePassItem, key)
        if item is None:
            raise InvalidInput(
                f"{held.name} 不包含服务 {use.service_sku}",
                f"{held.name} does not cover {use.service_sku}",
            )
        items[key] = item
        wanted[key] += use.qty
    for key, qty in wanted.items():
        item = items[key]
        if item.uses_left is not None and item.uses_left < qty:
            name = passes[key[0]].name
            raise InsufficientBalance(
                f"{name} 次数不足：{key[1]} 剩余 {item.uses_left} 次，需要 {qty} 次",
                f"Not enough uses on {name}: {key[1]} has {item.uses_left} left, {qty} needed",
            )
    entry_ids = []
    for use in uses:
        item = items[(use.pass_id, use.service_sku)]
        if item.uses_left is not None:
            item.uses_left -= use.qty
        entry = uc.ledger.append(
            EntryKind.PASS_USED,
            member_id=member_id,
            amount_fen=use.amount_fen,
            related_entry_id=related_entry_id,
            payload={
                "pass_id": use.pass_id,
                "service_sku": use.service_sku,
                "qty": use.qty,
                "receipt_no": receipt_no,
                "line_no": use.line_no,
            },
        )
        entry_ids.append(entry.entry_id)
    s.flush()
    return entry_ids


def _pass_of_member(session: Session, pass_id: str, member_id: str) -> ServicePass:
    row = session.get(ServicePass, pass_id)
    if row is None or row.member_id != member_id:
        raise NotFound("该会员没有这张次卡", "The member holds no such card")
    return row


# -- Refunds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedUse:
    """A `pass_used` entry and how much of it has been given back so far."""

    entry_id: str
    pass_id: str
    service_sku: str
    line_no: int | None
    qty: int
    amount_fen: int
    reversed_qty: int
    reversed_fen: int

    @property
    def outstanding_qty(self) -> int:
        return self.qty - self.reversed_qty


def recorded_uses(session: Session, related_entry_id: str) -> list[RecordedUse]:
    """The uses a sale took (its `pass_used` entries, by the sale's entry), in order."""
    used = session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.related_entry_id == related_entry_id,
            LedgerEntry.kind == EntryKind.PASS_USED,
        )
        .order_by(LedgerEntry.store_seq)
    ).all()
    result = []
    for entry in used:
        data = _payload(entry)
        reversed_qty, reversed_fen = _reversed_so_far(session, entry.entry_id)
        line_no = data.get("line_no")
        result.append(
            RecordedUse(
                entry_id=entry.entry_id,
                pass_id=str(data["pass_id"]),
                service_sku=str(data["service_sku"]),
                line_no=int(line_no) if line_no is not None else None,
                qty=int(data["qty"]),
                amount_fen=entry.amount_fen,
                reversed_qty=reversed_qty,
                reversed_fen=reversed_fen,
            )
        )
    return result


def _reversed_so_far(session: Session, use_entry_id: str) -> tuple[int, int]:
    qty = fen = 0
    for entry in session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.related_entry_id == use_entry_id,
            LedgerEntry.kind == EntryKind.PASS_USE_REVERSED,
        )
    ):
        qty += int(_payload(entry)["qty"])
        fen += entry.amount_fen
    return qty, fen


def reverse_use_in_tx(
    uc: UseCase,
    use_entry_id: str,
    qty: int,
    receipt_no: str | None,
    related_entry_id: str | None,
) -> str:
    """Give back `qty` units of a recorded use (a refunded service line); returns the
    `pass_use_reversed` entry id. Works on a pass that has expired since: the member paid for
    the service being refunded, so the use goes back even if it cannot be spent again."""
    s = uc.session
    use = s.get(LedgerEntry, use_entry_id)
    if use is None or use.kind != EntryKind.PASS_USED:
        raise NotFound("没有这条次卡使用记录", "No such card use")
    data = _payload(use)
    used_qty = int(data["qty"])
    reversed_qty, _ = _reversed_so_far(s, use_entry_id)
    if not 1 <= qty <= used_qty - reversed_qty:
        raise InvalidInput(
            f"退回次数 {qty} 超过可退的 {used_qty - reversed_qty} 次",
            f"Cannot give back {qty} use(s): {used_qty - reversed_qty} can be given back",
        )
    pass_id, sku = str(data["pass_id"]), str(data["service_sku"])
    item = s.get(ServicePassItem, (pass_id, sku))
    if item is None:  # the ledger says it was used; a missing row is a broken projection
        raise NotFound(f"次卡 {pass_id} 缺少服务 {sku}", f"Card {pass_id} has no item {sku}")
    if item.uses_left is not None:
        item.uses_left += qty
    entry = uc.ledger.append(
        EntryKind.PASS_USE_REVERSED,
        member_id=use.member_id,
        amount_fen=share_fen(use.amount_fen, used_qty, reversed_qty, reversed_qty + qty),
        related_entry_id=use_entry_id,
        payload={
            "pass_id": pass_id,
            "service_sku": sku,
            "qty": qty,
            "receipt_no": receipt_no,
            "refund_entry_id": related_entry_id,
        },
    )
    s.flush()
    return entry.entry_id


def outstanding_uses(session: Session, pass_row: ServicePass) -> int:
    """Units used on a pass and not given back."""
    used: dict[str, int] = {}
    reversed_qty: dict[str, int] = defaultdict(int)
    for entry in session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.member_id == pass_row.member_id,
            LedgerEntry.kind.in_([EntryKind.PASS_USED, EntryKind.PASS_USE_REVERSED]),
        )
        .order_by(LedgerEntry.store_seq)
    ):
        data = _payload(entry)
        if data.get("pass_id") != pass_row.id:
            continue
        if entry.kind == EntryKind.PASS_USED:
            used[entry.entry_id] = int(data["qty"])
        else:
            reversed_qty[entry.related_entry_id or ""] += int(data["qty"])
    return sum(qty - reversed_qty[entry_id] for entry_id, qty in used.items())


def revoke_pass_in_tx(
    uc: UseCase,
    pass_id: str,
    receipt_no: str | None,
    related_entry_id: str | None,
) -> str:
    """The card product itself is refunded: the pass is revoked; returns the entry id.

    Only a card with no use outstanding may go back as is; otherwise the uses are refunded
    first (their service lines), so the member is never refunded a card they have used.
    """
    s = uc.session
    row = s.get(ServicePass, pass_id)
    if row is None:
        raise NotFound("没有这张次卡", "No such service card")
    if row.state != ACTIVE:
        raise InvalidInput(f"{row.name} 已经退过了", f"{row.name} has already been refunded")
    if outstanding_uses(s, row):
        raise InvalidInput(
            "已使用的次卡不能直接退，请先退掉使用记录",
            "A card that has been used cannot be refunded as is",
        )
    row.state = REVOKED
    entry = uc.ledger.append(
        EntryKind.PASS_REVOKED,
        member_id=row.member_id,
        related_entry_id=pass_id,
        payload={"pass_id": pass_id, "receipt_no": receipt_no, "refund_entry_id": related_entry_id},
    )
    s.flush()
    return entry.entry_id


# -- Shown on the member ----------------------------------------------------------------------

_STATUS_NOTES = {
    "expired": ("（已过期）", " (expired)"),
    "used_up": ("（已用完）", " (used up)"),
    "revoked": ("（已退卡）", " (refunded)"),
}


@dataclass(frozen=True)
class PassItemView:
    service_sku: str
    service_name: str
    uses_total: int | None  # None: unlimited
    uses_left: int | None


@dataclass(frozen=True)
class PassView:
    """A pass as shown on the member. `status` is active, expired, used_up or revoked."""

    pass_id: str
    product_sku: str
    name: str
    kind: str
    valid_until: str
    status: str
    receipt_no: str | None
    granted_at: str
    items: tuple[PassItemView, ...]
    text_zh: str
    text_en: str

    def text(self, lang: str = "zh") -> str:
        return self.text_en if lang.startswith("en") else self.text_zh


def member_passes(
    ctx: StoreContext,
    actor: Actor,
    member_no: str | None = None,
    card_no: str | None = None,
    include_expired: bool = False,
) -> list[PassView]:
    """The member's service cards, soonest expiry first. By default only those usable today;
    `include_expired` adds the expired, used-up and refunded ones."""
    if bool(member_no) == bool(card_no):
        raise InvalidInput("请只给出会员号或卡号中的一个", "Give a member number or a card number")
    today = ctx.business_day()
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.MEMBER_VIEW)
        if card_no:
            member = member_of_card(s, card_by_no(s, card_no))
        else:
            member = member_by_no(s, member_no or "")
        rows = s.scalars(
            select(ServicePass)
            .where(ServicePass.member_id == member.id)
            .order_by(ServicePass.valid_until, ServicePass.granted_at)
        ).all()
        totals = {
            (i.pass_id, i.service_sku): i.uses_total
            for i in s.scalars(
                select(ServicePassItem).where(ServicePassItem.pass_id.in_([r.id for r in rows]))
            )
        }
        views = []
        for row, held in zip(rows, _held_passes(s, list(rows)), strict=True):
            status = _status(held, today)
            if status != "active" and not include_expired:
                continue
            views.append(_view(row, held, status, totals))
        return views


def _status(held: HeldPass, today: date) -> str:
    if held.state != ACTIVE:
        return "revoked"
    if held.valid_until < today:
        return "expired"
    if all(uses is not None and uses <= 0 for uses in held.items.values()):
        return "used_up"
    return "active"


def _view(
    row: ServicePass,
    held: HeldPass,
    status: str,
    totals: dict[tuple[str, str], int | None],
) -> PassView:
    zh_note, en_note = _STATUS_NOTES.get(status, ("", ""))
    return PassView(
        pass_id=row.id,
        product_sku=row.product_sku,
        name=row.name,
        kind=row.kind,
        valid_until=row.valid_until,
        status=status,
        receipt_no=row.receipt_no,
        granted_at=row.granted_at,
        items=tuple(
            PassItemView(
                service_sku=sku,
                service_name=held.service_names.get(sku, (sku, None))[0],
                uses_total=totals.get((row.id, sku)),
                uses_left=left,
            )
            for sku, left in held.items.items()
        ),
        text_zh=uses_text(held, "zh") + zh_note,
        text_en=uses_text(held, "en") + en_note,
    )


# -- Verify -----------------------------------------------------------------------------------


@dataclass
class _Replayed:
    member_id: str | None
    sku: str
    kind: str
    valid_until: str
    totals: dict[str, int | None]
    left: dict[str, int | None]
    state: str = ACTIVE
    external: dict[str, int] = field(default_factory=dict)  # uses at other tills (mirrors)


@dataclass
class _UseRecord:
    pass_id: str
    qty: int
    amount_fen: int
    reversed_qty: int = 0


_PASS_KINDS = (
    EntryKind.PASS_GRANTED,
    EntryKind.PASS_USED,
    EntryKind.PASS_USE_REVERSED,
    EntryKind.PASS_REVOKED,
    EntryKind.PASS_SYNCED,
)


def verify_passes(session: Session) -> list[tuple[str, str]]:
    """Replay every pass entry and compare with the pass rows: uses left, states, expiry.

    Also checks that no use took more than was left, that a reversal gives back no more than
    was used and exactly its share of the use's value, and that no used card was revoked.
    Returns (where, message) pairs; empty when all agree. Read-only.
    """
    problems: list[tuple[str, str]] = []
    passes: dict[str, _Replayed] = {}
    uses: dict[str, _UseRecord] = {}
    for e in session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.kind.in_(_PASS_KINDS))
        .order_by(LedgerEntry.store_id, LedgerEntry.store_seq)
        .execution_options(yield_per=5000)
    ):
        where = f"#{e.store_seq} {e.entry_id}"
        try:
            message = _replay(e, _payload(e), passes, uses)
        except (KeyError, TypeError, ValueError):
            message = f"{e.kind}: payload is incomplete or malformed"
        if message:
            problems.append((where, message))
    problems.extend(_compare(session, passes))
    return problems


def _replay(
    e: LedgerEntry,
    data: dict[str, Any],
    passes: dict[str, _Replayed],
    uses: dict[str, _UseRecord],
) -> str | None:
    kind = e.kind
    if kind == EntryKind.PASS_GRANTED:
        if data.get("pass_id", e.entry_id) != e.entry_id:
            return "pass_granted: pass_id differs from the entry id"
        items: dict[str, int | None] = {
            str(sku): None if n is None else int(n) for sku, n in data["items"].items()
        }
        passes[e.entry_id] = _Replayed(
            e.member_id,
            str(data["sku"]),
            str(data["kind"]),
            str(data["valid_until"]),
            items,
            dict(items),
        )
        return None
    pass_id = str(data["pass_id"])
    held = passes.get(pass_id)
    if kind == EntryKind.PASS_SYNCED:
        return _replay_synced(e, data, passes, held)
    if held is None:
        return f"{kind}: no pass_granted entry for pass {pass_id}"
    if held.member_id != e.member_id:
        return f"{kind}: the entry's member is not the pass holder"
    if kind == EntryKind.PASS_REVOKED:
        if held.state != ACTIVE:
            return "pass_revoked: the pass was already revoked"
        held.state = REVOKED
        if any(u.pass_id == pass_id and u.qty > u.reversed_qty for u in uses.values()):
            return "pass_revoked: the pass still had uses not given back"
        return None
    sku, qty = str(data["service_sku"]), int(data["qty"])
    if sku not in held.left:
        return f"{kind}: pass {pass_id} does not cover {sku}"
    if qty < 1:
        return f"{kind}: quantity below one"
    left = held.left[sku]
    if kind == EntryKind.PASS_USED:
        uses[e.entry_id] = _UseRecord(pass_id, qty, e.amount_fen)
        if held.state != ACTIVE:
            return "pass_used: the pass had been revoked"
        if left is not None:
            held.left[sku] = left - qty
            if left < qty:
                return f"pass_used: took {qty} use(s) of {sku} with {left} left"
        return None
    # pass_use_reversed
    use = uses.get(e.related_entry_id or "")
    if use is None or use.pass_id != pass_id:
        return "pass_use_reversed: does not follow a pass_used entry of this pass"
    if use.reversed_qty + qty > use.qty:
        return "pass_use_reversed: gives back more uses than were taken"
    expected = share_fen(use.amount_fen, use.qty, use.reversed_qty, use.reversed_qty + qty)
    use.reversed_qty += qty
    if left is not None:
        held.left[sku] = left + qty
    if e.amount_fen != expected:
        return f"pass_use_reversed: amount {e.amount_fen} but the use's share is {expected}"
    return None


def _replay_synced(
    e: LedgerEntry, data: dict[str, Any], passes: dict[str, _Replayed], held: _Replayed | None
) -> str | None:
    """A `pass_synced` mirror: the first of a pass granted at another till stands for its
    grant; each brings the uses made at the other tills (a running total per service) and
    the chain state (revoked there)."""
    if held is None:
        items: dict[str, int | None] = {
            str(sku): None if n is None else int(n) for sku, n in data["items"].items()
        }
        held = passes[str(data["pass_id"])] = _Replayed(
            e.member_id,
            str(data["sku"]),
            str(data["kind"]),
            str(data["valid_until"]),
            items,
            dict(items),
        )
    elif held.member_id != e.member_id:
        return "pass_synced: the entry's member is not the pass holder"
    used = {str(sku): int(n) for sku, n in (data.get("external_used") or {}).items()}
    for sku in set(used) | set(held.external):
        left = held.left.get(sku)
        if left is not None:
            held.left[sku] = left - (used.get(sku, 0) - held.external.get(sku, 0))
    held.external = used
    if data.get("state") == REVOKED:
        held.state = REVOKED
    return None


def _compare(session: Session, passes: dict[str, _Replayed]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    items: dict[str, dict[str, tuple[int | None, int | None]]] = defaultdict(dict)
    for item in session.scalars(select(ServicePassItem)):
        items[item.pass_id][item.service_sku] = (item.uses_total, item.uses_left)
    for row in session.scalars(select(ServicePass).execution_options(yield_per=5000)):
        where = f"pass {row.id}"
        r = passes.pop(row.id, None)
        if r is None:
            problems.append((where, "no pass_granted entry created this pass"))
            continue
        checks = (
            ("member_id", row.member_id, r.member_id),
            ("product_sku", row.product_sku, r.sku),
            ("kind", row.kind, r.kind),
            ("valid_until", row.valid_until, r.valid_until),
            ("state", row.state, r.state),
        )
        for name, stored, recomputed in checks:
            if stored != recomputed:
                problems.append((where, f"{name} is {stored} but the ledger says {recomputed}"))
        stored_items = items.pop(row.id, {})
        for sku in sorted(set(stored_items) | set(r.totals)):
            stored_pair = stored_items.get(sku)
            expected = (r.totals[sku], r.left[sku]) if sku in r.totals else None
            if stored_pair != expected:
                problems.append(
                    (
                        where,
                        f"{sku}: uses (total, left) are {stored_pair} "
                        f"but the ledger says {expected}",
                    )
                )
    for pass_id in passes:
        problems.append((f"pass {pass_id}", "granted in the ledger but has no pass row"))
    for pass_id in items:
        problems.append((f"pass {pass_id}", "items without a pass row"))
    return problems
