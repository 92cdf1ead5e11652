"""Shifts (班次): open with a float, pay cash in or out, close with a count (PRODUCT §9).

A shift is one cashier's at one till: the cashier who opens it is accountable for the drawer
until it is handed over (交班) with a count. The till (this database) has one drawer, so at
most one shift is open at a time, and every movement of cash — sales, refunds, top-ups and
their refunds, card cancellations, paid in/out — is made by the shift's own cashier inside
it. Another cashier signing in cannot sell into it: they hand it over (count and close it)
and open their own. The Shift row's id is its shift_opened ledger entry, so the ledger alone
says when each shift began.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import DayClose, LedgerEntry, Operator, Shift
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import (
    AlreadyExists,
    InsufficientBalance,
    InvalidInput,
    ShiftHeldByOther,
    ShiftRequired,
)
from pos_app.domain.money import format_fen
from pos_app.domain.permissions import Permission
from pos_app.domain.reasons import check_reason
from pos_app.domain.report_figures import Figures
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.figures_query import shift_figures
from pos_app.services.use_case import use_case

MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class ShiftView:
    id: str
    shift_no: int
    business_day: str
    opened_by: str  # operator login
    opened_at: str
    float_fen: int
    state: str  # open, closed
    closed_by: str | None
    closed_at: str | None
    counted_fen: int | None
    expected_cash_fen: int | None
    cashier: str = ""  # the accountable cashier's name (opened_by is their login)

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def over_short_fen(self) -> int | None:
        """长短款 of a closed shift: counted − expected (+ over, − short)."""
        if self.counted_fen is None or self.expected_cash_fen is None:
            return None
        return self.counted_fen - self.expected_cash_fen

    @property
    def handed_over(self) -> bool:
        """Closed by someone else than its cashier (a hand-over to the next cashier)."""
        return self.closed_by is not None and self.closed_by != self.opened_by


def _login(s: Session, operator_id: str | None) -> str | None:
    if operator_id is None:
        return None
    op = s.get(Operator, operator_id)
    return op.login if op else operator_id


def shift_view(s: Session, shift: Shift) -> ShiftView:
    cashier = s.get(Operator, shift.opened_by_id)
    return ShiftView(
        id=shift.id,
        shift_no=shift.shift_no,
        business_day=shift.business_day,
        opened_by=_login(s, shift.opened_by_id) or "",
        opened_at=shift.opened_at,
        float_fen=shift.float_fen,
        state=shift.state,
        closed_by=_login(s, shift.closed_by_id),
        closed_at=shift.closed_at,
        counted_fen=shift.counted_fen,
        expected_cash_fen=shift.expected_cash_fen,
        cashier=cashier.name if cashier else "",
    )


def find_open_shift(s: Session) -> Shift | None:
    return s.scalars(select(Shift).where(Shift.state == "open")).first()


def _holder_name(s: Session, shift: Shift) -> str:
    op = s.get(Operator, shift.opened_by_id)
    return f"{op.name}（{op.login}）" if op else shift.opened_by_id


def held_by_other(s: Session, shift: Shift) -> ShiftHeldByOther:
    holder = _holder_name(s, shift)
    return ShiftHeldByOther(
        f"第 {shift.shift_no} 班是 {holder} 的班次：请先交班（清点钱箱）再开自己的班",
        f"Shift {shift.shift_no} is {holder}'s: hand it over (count the drawer) and open "
        "your own shift first",
        shift_no=shift.shift_no,
        holder=holder,
    )


def open_shift_row(session: Session, actor: Actor) -> Shift:
    """The actor's own open shift, for a service that moves money at the till (a sale, a
    refund, a top-up, a cash move): refused when no shift is open or when the open shift is
    another cashier's, whose drawer this operator is not accountable for."""
    shift = find_open_shift(session)
    if shift is None:
        raise ShiftRequired(
            "请先开班（pos-app shift open --float 金额）",
            "Open a shift first (pos-app shift open --float AMOUNT)",
        )
    if shift.opened_by_id != actor.operator_id:
        raise held_by_other(session, shift)
    return shift


def _check_amount(amount_fen: int, *, allow_zero: bool) -> None:
    if amount_fen < 0 or (amount_fen == 0 and not allow_zero):
        raise InvalidInput(
            "金额必须大于零" if not allow_zero else "金额不能为负数",
            "The amount must be above zero" if not allow_zero else "The amount cannot be negative",
        )


def open_shift(ctx: StoreContext, actor: Actor, float_fen: int) -> ShiftView:
    """开班: start a shift with the cash float in the drawer."""
    _check_amount(float_fen, allow_zero=True)
    with use_case(ctx, actor, Permission.SHIFT, target="shift") as uc:
        s = uc.session
        current = find_open_shift(s)
        if current is not None and current.opened_by_id != actor.operator_id:
            raise held_by_other(s, current)
        if current is not None:
            raise AlreadyExists(
                f"第 {current.shift_no} 班尚未交班，请先交班",
                f"Shift {current.shift_no} is still open: close it first",
            )
        day = ctx.business_day().isoformat()
        if s.get(DayClose, day) is not None:
            # The day's figures are recorded; a shift now would sell into a closed day.
            raise InvalidInput(
                f"{day} 已日结，不能再开班", f"{day} is closed (day-end done): no new shift"
            )
        shift_no = (s.scalar(select(func.max(Shift.shift_no))) or 0) + 1
        entry = uc.ledger.append(
            EntryKind.SHIFT_OPENED,
            amount_fen=float_fen,
            payload={"shift_no": shift_no, "business_day": day},
        )
        shift = Shift(
            id=entry.entry_id,
            shift_no=shift_no,
            business_day=day,
            opened_by_id=actor.operator_id,
            opened_at=uc.now_iso,
            float_fen=float_fen,
            state="open",
        )
        s.add(shift)
        return shift_view(s, shift)


def current_shift(ctx: StoreContext, actor: Actor) -> ShiftView | None:
    """The open shift, or None when the till is closed."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.REPORT_SHIFT)
        shift = find_open_shift(s)
        return shift_view(s, shift) if shift else None


@dataclass(frozen=True)
class ShiftReport:
    """An X report (the open shift so far, `final` False) or a Z report (a closed shift)."""

    shift: ShiftView
    figures: Figures
    final: bool
    # The ledger's head when the shift closed (Z only), printed on the report: "#seq hash…".
    ledger_head: str | None = None


def head_of(payload_text: str | None) -> str | None:
    """The ledger head a Z report or day close recorded in its entry, as printed."""
    try:
        head = json.loads(payload_text or "{}").get("chain_head")
        return f"#{int(head['seq'])} {str(head['hash'])[:12]}"
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def closed_shift_head(s: Session, shift_id: str) -> str | None:
    payload = s.scalar(
        select(LedgerEntry.payload).where(
            LedgerEntry.related_entry_id == shift_id, LedgerEntry.kind == EntryKind.SHIFT_CLOSED
        )
    )
    return head_of(payload)


@dataclass(frozen=True)
class CashMove:
    entry_id: str
    kind: str  # cash_paid_in, cash_paid_out
    amount_fen: int
    reason: str
    shift_no: int
    expected_cash_fen: int  # in the drawer after the move


def _cash_move(
    ctx: StoreContext, actor: Actor, kind: EntryKind, amount_fen: int, reason: str
) -> CashMove:
    _check_amount(amount_fen, allow_zero=False)
    reason = check_reason(reason, MAX_REASON_CHARS)
    with use_case(ctx, actor, Permission.CASH_MOVE, target=kind.value) as uc:
        s = uc.session
        shift = open_shift_row(s, actor)
        expected = shift_figures(s, shift, uc.now_iso).cash.expected_fen
        if kind == EntryKind.CASH_PAID_OUT and amount_fen > expected:
            raise InsufficientBalance(
                f"钱箱现金不足：应有 {format_fen(expected)}，要取出 {format_fen(amount_fen)}",
                f"Not enough cash in the drawer: {format_fen(expected)} expected, "
                f"{format_fen(amount_fen)} asked for",
            )
        entry = uc.ledger.append(
            kind,
            amount_fen=amount_fen,
            payload={"reason": reason, "shift_no": shift.shift_no},
        )
        after = expected + (amount_fen if kind == EntryKind.CASH_PAID_IN else -amount_fen)
        return CashMove(entry.entry_id, kind.value, amount_fen, reason, shift.shift_no, after)


def paid_in(ctx: StoreContext, actor: Actor, amount_fen: int, reason: str) -> CashMove:
    """收入 Cash put into the drawer that is not a sale (change from the bank, ...)."""
    return _cash_move(ctx, actor, EntryKind.CASH_PAID_IN, amount_fen, reason)


def paid_out(ctx: StoreContext, actor: Actor, amount_fen: int, reason: str) -> CashMove:
    """支出 Cash taken out of the drawer that is not a refund (a delivery paid, a bank drop)."""
    return _cash_move(ctx, actor, EntryKind.CASH_PAID_OUT, amount_fen, reason)


def close_shift(ctx: StoreContext, actor: Actor, counted_fen: int) -> ShiftReport:
    """交班: record the cash counted in the drawer; the Z report says what was expected and
    how much the drawer is over or short. A shift closes once; the till then needs a new one."""
    _check_amount(counted_fen, allow_zero=True)
    with use_case(ctx, actor, Permission.SHIFT, target="shift") as uc:
        s = uc.session
        shift = find_open_shift(s)
        if shift is None:
            raise InvalidInput("没有未交班的班次", "No shift is open")
        # Everything recorded before this transaction is in; nothing can be added meanwhile
        # (the write lock is held), so the figures are exactly the shift's.
        figures = shift_figures(s, shift, uc.now_iso)
        cash = figures.cash.counted(counted_fen)
        # The head as the shift ends goes on the Z report (printed, on paper) and into its
        # entry; verify checks that the ledger still holds that entry, unchanged.
        head_seq, head_hash = uc.ledger.head()
        entry = uc.ledger.append(
            EntryKind.SHIFT_CLOSED,
            amount_fen=counted_fen,
            related_entry_id=shift.id,
            payload={
                "shift_no": shift.shift_no,
                "expected_cash_fen": cash.expected_fen,
                "counted_fen": counted_fen,
                "over_short_fen": cash.over_short_fen,
                "sales_fen": figures.sales_fen,
                "refunds_fen": figures.refunds_fen,
                "chain_head": {"seq": head_seq, "hash": head_hash},
            },
        )
        shift.state = "closed"
        shift.closed_by_id = actor.operator_id
        shift.closed_at = entry.business_time
        shift.counted_fen = counted_fen
        shift.expected_cash_fen = cash.expected_fen
        s.flush()
        return ShiftReport(
            shift_view(s, shift),
            replace(figures, cash=cash),
            final=True,
            ledger_head=head_of(entry.payload),
        )
