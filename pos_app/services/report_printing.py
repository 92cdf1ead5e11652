"""Reports for the screen and the till's printer: X, Z, day-end (日结) and period figures as
text (`pos_app.domain.report_text`), with the day's shifts or the period's days after them,
and that text laid out as a print document, as `receipt_printing` does for receipts.

A report prints only after its figures are read or recorded and never changes them: a
printer that is off keeps the job queued, and the Z report or day-end stands.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hardware.printing.document import Block, PrintDocument, PrinterProfile, Rule, TextLine
from pos_app.domain.money import format_fen
from pos_app.domain.report_text import TITLES, ReportHeading, render_report
from pos_app.domain.text_width import display_width, fit, pad_left, wrap
from pos_app.services.context import StoreContext
from pos_app.services.receipt_printing import PRINTER_CURRENCY
from pos_app.services.report_export import ExportCell, Sheet
from pos_app.services.reports import DayLine, DayReport, RangeReport
from pos_app.services.shifts import ShiftReport, ShiftView

AnyReport = ShiftReport | DayReport | RangeReport
INDENT = "  "

_LABELS: dict[str, tuple[str, str]] = {
    "shifts": ("班次", "Shifts"),
    "shift": ("第 {no} 班 {login}", "Shift {no} {login}"),
    "open": ("未交班", "open"),
    "closed": ("已交班", "closed"),
    "expected": ("应有现金", "Expected cash"),
    "counted": ("实点现金", "Counted cash"),
    "over_short": ("长款(+)/短款(-)", "Over (+) / short (-)"),
    "cashiers": ("收银员长短款", "Over/short by cashier"),
    "cashier": ("{name} {login} {shifts} 班", "{name} {login} ({shifts} shifts)"),
    "days": ("每日净销售额", "Net sales by day"),
    "day": ("{day} {count} 笔", "{day} ({count})"),
}


def _label(key: str, lang: str, **values: object) -> str:
    zh, en = _LABELS[key]
    return (en if lang.startswith("en") else zh).format(**values)


def _local(ctx: StoreContext, iso_utc: str) -> str:
    return datetime.fromisoformat(iso_utc).astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")


def report_heading(ctx: StoreContext, report: AnyReport) -> ReportHeading:
    """What the report is of, with times in the store's local time. Reads the store row (its
    name and time zone), so call it where services run, not on the GUI thread."""
    printed_at = ctx.now().astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")
    name = ctx.store.name
    if isinstance(report, ShiftReport):
        return ReportHeading(
            kind="z" if report.final else "x",
            store_name=name,
            till_id=ctx.till_id,
            period_from=_local(ctx, report.figures.start),
            period_to=_local(ctx, report.figures.end),
            shift_no=report.shift.shift_no,
            day=report.shift.business_day,
            operator=report.shift.opened_by,
            printed_at=printed_at,
            ledger_head=report.ledger_head,
        )
    if isinstance(report, DayReport):
        return ReportHeading(
            kind="day" if report.closed else "day_open",
            store_name=name,
            till_id=ctx.till_id,
            period_from=_local(ctx, report.figures.start),
            period_to=_local(ctx, report.figures.end),
            day=report.day.isoformat(),
            closed_by=report.closed_by,
            printed_at=printed_at,
            ledger_head=report.ledger_head,
        )
    return ReportHeading(
        kind="range",
        store_name=name,
        till_id=ctx.till_id,
        period_from=report.date_from.isoformat(),
        period_to=report.date_to.isoformat(),
        printed_at=printed_at,
    )


def _amount(label: str, value: str, width: int, indent: str = INDENT) -> list[str]:
    """A label on the left and a value ending on the last column (as report_text lays out)."""
    room = width - display_width(indent) - display_width(value) - 1
    if room < 6:
        return [indent + line for line in wrap(label, width - len(indent))] + [
            pad_left(value, width)
        ]
    label = fit(label, room)
    return [indent + label + pad_left(value, width - display_width(indent + label))]


def shift_lines(shifts: tuple[ShiftView, ...], width: int, lang: str = "zh") -> list[str]:
    """A day's shifts: who ran each, and what its drawer should have held and held."""
    lines = [_label("shifts", lang)]
    for shift in shifts:
        who = _label("shift", lang, no=shift.shift_no, login=shift.opened_by)
        state = _label("open" if shift.is_open else "closed", lang)
        lines += _amount(who, state, width)
        if shift.expected_cash_fen is not None:
            lines += _amount(
                _label("expected", lang), format_fen(shift.expected_cash_fen), width, INDENT * 2
            )
        if shift.counted_fen is not None and shift.expected_cash_fen is not None:
            lines += _amount(
                _label("counted", lang), format_fen(shift.counted_fen), width, INDENT * 2
            )
            diff = shift.counted_fen - shift.expected_cash_fen
            signed = f"+{format_fen(diff)}" if diff > 0 else format_fen(diff)
            lines += _amount(_label("over_short", lang), signed, width, INDENT * 2)
    return lines


def cashier_lines(report: DayReport, width: int, lang: str = "zh") -> list[str]:
    """A day's over/short per cashier: their shifts' counts against the expected, added up
    (a shift still open counts nothing yet, and says so)."""
    lines = [_label("cashiers", lang)]
    for c in report.cashiers:
        who = _label("cashier", lang, name=c.name, login=c.login, shifts=c.shifts)
        if c.open_shifts:
            lines += _amount(who, _label("open", lang), width)
            continue
        diff = c.over_short_fen
        lines += _amount(who, f"+{format_fen(diff)}" if diff > 0 else format_fen(diff), width)
    return lines


def day_lines(days: tuple[DayLine, ...], width: int, lang: str = "zh") -> list[str]:
    """A period's days: the number of sales and the net sales of each."""
    lines = [_label("days", lang)]
    for d in days:
        label = _label("day", lang, day=d.day.isoformat(), count=d.sales_count)
        lines += _amount(label, format_fen(d.net_fen), width)
    return lines


def report_as_text(
    report: AnyReport, heading: ReportHeading, width: int = 48, lang: str = "zh"
) -> str:
    """The report as `width` (32 or 48) columns of text: the figures, then a day's shifts or
    a period's days, then a closing rule."""
    text = render_report(heading, report.figures, width, lang)
    extra: list[str] = []
    if isinstance(report, DayReport) and report.shifts:
        extra = shift_lines(report.shifts, width, lang) + cashier_lines(report, width, lang)
    elif isinstance(report, RangeReport) and report.days:
        extra = day_lines(report.days, width, lang)
    if extra:
        text += "\n".join(line.rstrip() for line in extra) + "\n" + "=" * width + "\n"
    return text


def _printer_lines(line: str, columns: int) -> list[str]:
    """`line` with "¥" made the full-width "￥" GB printers print (one column wider), the
    column taken from the spaces before the amount; a line with no spare space breaks
    before its amount instead, so nothing is cut or wrapped by the printer."""
    if "¥" not in line:
        return [line]
    out = line.replace("¥", PRINTER_CURRENCY)
    indent = len(out) - len(out.lstrip(" "))  # a label's indent stays
    while display_width(out) > columns:
        first = out.index(PRINTER_CURRENCY)
        gap = out.rfind("  ", indent, first)
        if gap < 0:
            break
        out = out[:gap] + out[gap + 1 :]
    if display_width(out) <= columns:
        return [out]
    cut = out.rfind(" ", indent, out.index(PRINTER_CURRENCY))
    if cut < 0:
        return [out]
    return [out[:cut].rstrip(), pad_left(out[cut:].strip(), columns)]


def _job_title(report: AnyReport) -> str:
    if isinstance(report, ShiftReport):
        return f"{'Z' if report.final else 'X'}-{report.shift.shift_no}"
    if isinstance(report, DayReport):
        return f"day-{report.day.isoformat()}"
    return f"range-{report.date_from.isoformat()}-{report.date_to.isoformat()}"


def report_print_document(
    report: AnyReport, heading: ReportHeading, profile: PrinterProfile, lang: str = "zh"
) -> PrintDocument:
    """The report as print blocks for `profile`'s paper: the store name large when it fits,
    the title in bold, the figures at the paper's columns with the full-width ￥."""
    columns = profile.columns
    lines = report_as_text(report, heading, columns, lang).rstrip("\n").split("\n")
    zh, en = TITLES.get(heading.kind, (heading.kind, heading.kind))
    title = en if lang.startswith("en") else zh
    name_count = len(wrap(heading.store_name.strip() or " ", columns))
    title_count = len(wrap(title, columns))
    body = lines[name_count + title_count :]
    big = display_width(heading.store_name) * 2 <= columns
    blocks: list[Block] = [
        TextLine(heading.store_name.strip(), align="center", bold=True, double=big),
        TextLine(title, align="center", bold=True),
    ]
    for line in body:
        stripped = line.strip()
        if stripped and len(set(stripped)) == 1 and stripped[0] in "-=" and len(line) == columns:
            blocks.append(Rule(stripped[0]))
        else:
            blocks += [TextLine(part) for part in _printer_lines(line, columns)]
    return PrintDocument(blocks=tuple(blocks), title=_job_title(report))


def _cell(value: ExportCell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_fen(int(value.scaleb(2)))
    return str(value)


def sheet_print_document(
    store_name: str, printed_at: str, sheet: Sheet, profile: PrinterProfile
) -> PrintDocument:
    """A two-column figures table (liabilities, a sales summary) as a slip for the till's
    printer: the store, the table's title, then each label with its value on the last
    column (a long label wraps; nothing is cut)."""
    columns = profile.columns
    blocks: list[Block] = [
        TextLine(store_name.strip(), align="center", bold=True),
        TextLine(sheet.title, align="center", bold=True),
        TextLine(printed_at),
        Rule("-"),
    ]
    for row in sheet.rows:
        label, value = _cell(row[0]), _cell(row[1] if len(row) > 1 else None)
        room = max(6, columns - display_width(value) - 1)
        parts = wrap(label, room) or [""]
        lines = parts[:-1] + [parts[-1] + pad_left(value, columns - display_width(parts[-1]))]
        for line in lines:
            blocks += [TextLine(part) for part in _printer_lines(line, columns)]
    blocks.append(Rule("="))
    return PrintDocument(blocks=tuple(blocks), title=sheet.title)
