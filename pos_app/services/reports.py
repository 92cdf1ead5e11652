"""Settlement reports (PRODUCT §9): X and Z reports, day-end (日结), any period, staff.

All read-only except `day_end`, which records the day's figures once (a DAY_CLOSED entry and
the DayClose row) and afterwards shows that record again. The figures come from a few SQL
aggregates (`figures_query`); a period is the sum of its days, so a month or a year also
gives its per-day breakdown.

A day is the store's calendar day (Asia/Shanghai by default). Sales and ledger entries fall
on the day they were made; floats and cash counts belong to shifts, and a shift to the day it
was opened on (see `figures_query.with_shift_cash` for what that means for over/short).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import DayClose, LedgerEntry, Operator, Sale, Shift
from pos_app.domain.entry_kinds import EntryKind
from pos_app.domain.errors import InvalidInput, NotFound
from pos_app.domain.permissions import Permission
from pos_app.domain.report_figures import Figures, merge_figures
from pos_app.services.auth import Actor, Approval, authorize
from pos_app.services.context import StoreContext
from pos_app.services.figures_query import (
    figures_between,
    shift_figures,
    shifts_of_days,
    with_shift_cash,
)
from pos_app.services.shifts import (
    ShiftReport,
    ShiftView,
    closed_shift_head,
    find_open_shift,
    head_of,
    shift_view,
)
from pos_app.services.use_case import use_case

# A range report covers at most this many days (a year and a bit), so a typo in a date
# cannot start a scan of decades.
MAX_RANGE_DAYS = 400


@dataclass(frozen=True)
class DayReport:
    day: date
    figures: Figures
    shifts: tuple[ShiftView, ...]
    closed: bool  # the day-end is recorded (the figures are the record's)
    closed_at: str | None = None
    closed_by: str | None = None
    entry_id: str | None = None
    ledger_head: str | None = None  # the ledger's head at the day-end, as printed

    @property
    def cashiers(self) -> tuple[CashierLine, ...]:
        """长短款 per cashier: their shifts of the day added up, in order of first shift."""
        lines: dict[str, CashierLine] = {}
        for sh in self.shifts:
            old = lines.get(sh.opened_by, CashierLine(sh.opened_by, sh.cashier))
            lines[sh.opened_by] = old.plus(sh)
        return tuple(lines.values())


@dataclass(frozen=True)
class CashierLine:
    """One cashier's drawers over a day: floats, expected and counted cash, over/short."""

    login: str
    name: str
    shifts: int = 0
    open_shifts: int = 0
    float_fen: int = 0
    expected_fen: int = 0  # of the closed shifts
    counted_fen: int = 0
    over_short_fen: int = 0

    def plus(self, shift: ShiftView) -> CashierLine:
        closed = shift.over_short_fen is not None
        return replace(
            self,
            shifts=self.shifts + 1,
            open_shifts=self.open_shifts + (not closed),
            float_fen=self.float_fen + shift.float_fen,
            expected_fen=self.expected_fen + (shift.expected_cash_fen or 0),
            counted_fen=self.counted_fen + (shift.counted_fen or 0),
            over_short_fen=self.over_short_fen + (shift.over_short_fen or 0),
        )


@dataclass(frozen=True)
class DayLine:
    """One day of a period report."""

    day: date
    sales_count: int
    sales_fen: int
    refunds_count: int
    refunds_fen: int
    net_fen: int
    member_net_fen: int
    average_ticket_fen: int
    topups_fen: int
    sv_used_fen: int


@dataclass(frozen=True)
class RangeReport:
    date_from: date
    date_to: date  # inclusive
    figures: Figures
    days: tuple[DayLine, ...]


@dataclass(frozen=True)
class StaffLine:
    login: str
    name: str
    sales_count: int = 0
    sales_fen: int = 0
    refunds_count: int = 0
    refunds_fen: int = 0  # positive
    members_registered: int = 0
    topups_count: int = 0
    topups_fen: int = 0

    @property
    def net_fen(self) -> int:
        return self.sales_fen - self.refunds_fen


@dataclass(frozen=True)
class StaffReport:
    date_from: date
    date_to: date
    lines: tuple[StaffLine, ...]


# -- Shifts --------------------------------------------------------------------------------


def x_report(ctx: StoreContext, actor: Actor) -> ShiftReport:
    """X 报表: the open shift's figures so far; changes nothing."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.REPORT_SHIFT)
        shift = find_open_shift(s)
        if shift is None:
            raise InvalidInput("没有未交班的班次", "No shift is open")
        return ShiftReport(shift_view(s, shift), shift_figures(s, shift, ctx.now_iso()), False)


def z_report(
    ctx: StoreContext, actor: Actor, shift_no: int | None = None, day: date | None = None
) -> ShiftReport | DayReport:
    """Z 报表 again: a closed shift (by number; the last one closed if none is given), or a
    day — as recorded at its day-end, or as it stands if it is not closed yet."""
    if shift_no is not None and day is not None:
        raise InvalidInput("只能指定班次或日期之一", "Give a shift or a day, not both")
    if day is not None:
        return day_report(ctx, actor, day)
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.REPORT_SHIFT)
        if shift_no is None:
            shift = s.scalars(
                select(Shift).where(Shift.state == "closed").order_by(Shift.shift_no.desc())
            ).first()
            if shift is None:
                raise NotFound("还没有交过班", "No shift has been closed yet")
        else:
            shift = s.scalars(select(Shift).where(Shift.shift_no == shift_no)).first()
            if shift is None:
                raise NotFound(f"没有第 {shift_no} 班", f"No shift number {shift_no}")
            if shift.closed_at is None:
                raise InvalidInput(
                    f"第 {shift_no} 班尚未交班（当前班次请看 X 报表）",
                    f"Shift {shift_no} is still open (see the X report for it)",
                )
        assert shift.closed_at is not None
        return ShiftReport(
            shift_view(s, shift),
            shift_figures(s, shift, shift.closed_at),
            True,
            ledger_head=closed_shift_head(s, shift.id),
        )


# -- Days ----------------------------------------------------------------------------------


def _day_bounds(ctx: StoreContext, first: date, last: date) -> tuple[str, str]:
    return ctx.day_start_iso(first), ctx.day_start_iso(last + timedelta(days=1))


def _live_day(ctx: StoreContext, s: Session, day: date, shifts: list[Shift]) -> Figures:
    start, end = _day_bounds(ctx, day, day)
    return with_shift_cash(s, figures_between(s, start, end), shifts, ctx.now_iso())


def _day_report(ctx: StoreContext, s: Session, day: date) -> DayReport:
    shifts = shifts_of_days(s, day.isoformat(), day.isoformat())
    views = tuple(shift_view(s, sh) for sh in shifts)
    record = s.get(DayClose, day.isoformat())
    if record is not None:
        closer = s.get(Operator, record.closed_by_id)
        entry = s.get(LedgerEntry, record.entry_id)
        return DayReport(
            day,
            Figures.from_dict(json.loads(record.figures)),
            views,
            closed=True,
            closed_at=record.closed_at,
            closed_by=closer.login if closer else record.closed_by_id,
            entry_id=record.entry_id,
            ledger_head=head_of(entry.payload) if entry else None,
        )
    return DayReport(day, _live_day(ctx, s, day, shifts), views, closed=False)


def day_report(
    ctx: StoreContext, actor: Actor, day: date, approval: Approval | None = None
) -> DayReport:
    """A day's report: as recorded at its day-end, or as it stands if not closed yet."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.REPORT_STORE, approval)
        return _day_report(ctx, s, day)


def day_end(
    ctx: StoreContext, actor: Actor, day: date | None = None, approval: Approval | None = None
) -> DayReport:
    """日结: record the day's figures. Refused while a shift that sells into the day is open;
    a day closes once, and asking again shows what was recorded. A cashier closes the day
    with a manager's approval (recorded as the entry's approver)."""
    day = day or ctx.business_day()
    if day > ctx.business_day():
        raise InvalidInput(
            f"不能日结未来的日期：{day.isoformat()}",
            f"Cannot close a future day: {day.isoformat()}",
        )
    with use_case(ctx, actor, Permission.DAY_CLOSE, approval, target=day.isoformat()) as uc:
        s = uc.session
        if s.get(DayClose, day.isoformat()) is not None:
            return _day_report(ctx, s, day)
        still_open = find_open_shift(s)
        if still_open is not None and still_open.business_day <= day.isoformat():
            raise InvalidInput(
                f"第 {still_open.shift_no} 班尚未交班，请先交班再日结",
                f"Shift {still_open.shift_no} is still open: close it before the day-end",
            )
        shifts = shifts_of_days(s, day.isoformat(), day.isoformat())
        figures = _live_day(ctx, s, day, shifts)
        head_seq, head_hash = uc.ledger.head()
        entry = uc.ledger.append(
            EntryKind.DAY_CLOSED,
            amount_fen=figures.net_fen,
            payload={
                "business_day": day.isoformat(),
                "sales_count": figures.sales_count,
                "sales_fen": figures.sales_fen,
                "refunds_fen": figures.refunds_fen,
                "net_fen": figures.net_fen,
                "expected_cash_fen": figures.cash.expected_fen,
                "counted_fen": figures.cash.counted_fen,
                "over_short_fen": figures.cash.over_short_fen,
                "cashiers": [
                    {"login": c.login, "shifts": c.shifts, "over_short_fen": c.over_short_fen}
                    for c in DayReport(
                        day, figures, tuple(shift_view(s, sh) for sh in shifts), False
                    ).cashiers
                ],
                "chain_head": {"seq": head_seq, "hash": head_hash},
            },
        )
        s.add(
            DayClose(
                business_day=day.isoformat(),
                closed_at=entry.business_time,
                closed_by_id=actor.operator_id,
                figures=json.dumps(figures.to_dict(), ensure_ascii=False, sort_keys=True),
                entry_id=entry.entry_id,
            )
        )
        return DayReport(
            day,
            figures,
            tuple(shift_view(s, sh) for sh in shifts),
            closed=True,
            closed_at=entry.business_time,
            closed_by=actor.login,
            entry_id=entry.entry_id,
            ledger_head=head_of(entry.payload),
        )


# -- Periods -------------------------------------------------------------------------------


def check_range(date_from: date, date_to: date) -> None:
    """Refuse a range that runs backwards or is longer than MAX_RANGE_DAYS."""
    if date_to < date_from:
        raise InvalidInput(
            f"结束日期早于开始日期：{date_from} – {date_to}",
            f"The end date is before the start date: {date_from} – {date_to}",
        )
    days = (date_to - date_from).days + 1
    if days > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"报表最多 {MAX_RANGE_DAYS} 天（现为 {days} 天）",
            f"A report covers at most {MAX_RANGE_DAYS} days ({days} asked for)",
        )


def _day_line(day: date, f: Figures) -> DayLine:
    return DayLine(
        day=day,
        sales_count=f.sales_count,
        sales_fen=f.sales_fen,
        refunds_count=f.refunds_count,
        refunds_fen=f.refunds_fen,
        net_fen=f.net_fen,
        member_net_fen=f.member_net_fen,
        average_ticket_fen=f.average_ticket_fen,
        topups_fen=f.topups_fen,
        sv_used_fen=f.sv_used_fen,
    )


def range_report(
    ctx: StoreContext,
    actor: Actor,
    date_from: date,
    date_to: date,
    approval: Approval | None = None,
) -> RangeReport:
    """Figures for the days date_from..date_to (inclusive): a day, a month, a year, any range,
    with one line per day. Closed days and open ones are both counted as they stand. A
    cashier sees them with a manager's approval."""
    check_range(date_from, date_to)
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.REPORT_STORE, approval)
        now = ctx.now_iso()
        shifts = shifts_of_days(s, date_from.isoformat(), date_to.isoformat())
        by_day: dict[str, list[Shift]] = {}
        for sh in shifts:
            by_day.setdefault(sh.business_day, []).append(sh)
        parts: list[Figures] = []
        lines: list[DayLine] = []
        day = date_from
        while day <= date_to:
            start, end = _day_bounds(ctx, day, day)
            figures = with_shift_cash(
                s, figures_between(s, start, end), by_day.get(day.isoformat(), []), now
            )
            parts.append(figures)
            lines.append(_day_line(day, figures))
            day += timedelta(days=1)
        start, end = _day_bounds(ctx, date_from, date_to)
        total = merge_figures(parts, start, end)
        if not shifts or any(sh.counted_fen is None for sh in shifts):
            total = replace(total, cash=replace(total.cash, counted_fen=None, over_short_fen=None))
    return RangeReport(date_from, date_to, total, tuple(lines))


def staff_report(
    ctx: StoreContext,
    actor: Actor,
    date_from: date,
    date_to: date,
    approval: Approval | None = None,
) -> StaffReport:
    """Per operator over the days: sales and refunds rung up, members registered, top-ups
    sold. Operators with nothing in the period are left out. A cashier sees it with a
    manager's approval."""
    check_range(date_from, date_to)
    start, end = _day_bounds(ctx, date_from, date_to)
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.REPORT_STORE, approval)
        figures: dict[str, dict[str, int]] = {}
        for operator_id, kind, count, total in s.execute(
            select(Sale.operator_id, Sale.kind, func.count(), func.sum(Sale.total_fen))
            .where(Sale.business_time >= start, Sale.business_time < end)
            .group_by(Sale.operator_id, Sale.kind)
        ):
            row = figures.setdefault(operator_id, {})
            if kind == "refund":
                row["refunds_count"] = count
                row["refunds_fen"] = -(total or 0)
            else:
                row["sales_count"] = count
                row["sales_fen"] = total or 0
        e = LedgerEntry
        for operator_id, kind, count, amount in s.execute(
            select(e.operator_id, e.kind, func.count(), func.sum(e.amount_fen))
            .where(
                e.kind.in_([EntryKind.MEMBER_REGISTERED.value, EntryKind.TOPUP.value]),
                e.business_time >= start,
                e.business_time < end,
            )
            .group_by(e.operator_id, e.kind)
        ):
            row = figures.setdefault(operator_id, {})
            if kind == EntryKind.TOPUP:
                row["topups_count"] = count
                row["topups_fen"] = amount or 0
            else:
                row["members_registered"] = count
        names = {
            op_id: (login, name)
            for op_id, login, name in s.execute(
                select(Operator.id, Operator.login, Operator.name).where(
                    Operator.id.in_(list(figures))
                )
            )
        }
    lines = []
    for op_id, row in figures.items():
        login, name = names.get(op_id, (op_id, ""))
        lines.append(
            StaffLine(
                login,
                name,
                sales_count=row.get("sales_count", 0),
                sales_fen=row.get("sales_fen", 0),
                refunds_count=row.get("refunds_count", 0),
                refunds_fen=row.get("refunds_fen", 0),
                members_registered=row.get("members_registered", 0),
                topups_count=row.get("topups_count", 0),
                topups_fen=row.get("topups_fen", 0),
            )
        )
    lines.sort(key=lambda line: (-line.net_fen, line.login))
    return StaffReport(date_from, date_to, tuple(lines))
