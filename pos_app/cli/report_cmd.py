"""Settlement reports: `report x`, `report z`, `report range`, `report staff`, `report day-close`,
`report sales` (by category and product), `report liabilities` (负债).

People get the report as it prints (48 columns unless --width 32); `--json` gives every
figure in fen; `--xlsx FILE` / `--csv FILE` also write its tables to a file.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from pos_app.cli.export_options import export_if_asked, export_options
from pos_app.cli.invocation import Invocation
from pos_app.cli.number_params import WholeNumber
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.output import local_time, yuan
from pos_app.cli.progress_display import StderrProgress
from pos_app.domain.errors import DomainError, InvalidInput
from pos_app.domain.report_text import ReportHeading, render_report
from pos_app.services.auth import Actor
from pos_app.services.backups import back_up
from pos_app.services.context import StoreContext
from pos_app.services.liabilities import liabilities
from pos_app.services.report_sheets import (
    analysis_sheets,
    figures_sheet,
    liabilities_sheet,
    range_sheets,
    staff_sheet,
)
from pos_app.services.reports import (
    DayReport,
    RangeReport,
    StaffReport,
    day_end,
    day_report,
    range_report,
    staff_report,
    x_report,
    z_report,
)
from pos_app.services.sales_analysis import DISCOUNT_KINDS, MAX_TOP, sales_analysis
from pos_app.services.shifts import ShiftReport, ShiftView


def width_option(f: Any) -> Any:
    return click.option(
        "--width",
        type=click.Choice(["32", "48"]),
        default="48",
        show_default=True,
        help="打印宽度（列） Paper width in columns (58 mm = 32, 80 mm = 48)",
    )(f)


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{option} 日期格式不正确：{text}（例如 2026-03-31）",
            f"{option}: not a date: {text} (for example 2026-03-31)",
        ) from None


def shift_fields(v: ShiftView) -> dict[str, Any]:
    return asdict(v)


def _printed_at(ctx: StoreContext) -> str:
    return ctx.now().astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")


def shift_report_data(r: ShiftReport) -> dict[str, Any]:
    return {
        "kind": "z" if r.final else "x",
        "shift": shift_fields(r.shift),
        "figures": r.figures.to_dict(),
        "ledger_head": r.ledger_head,
    }


def print_shift_report(inv: Invocation, r: ShiftReport, width: int) -> None:
    if inv.as_json:
        inv.out.result(shift_report_data(r))
        return
    ctx = inv.store()
    heading = ReportHeading(
        kind="z" if r.final else "x",
        store_name=ctx.store.name,
        till_id=ctx.till_id,
        period_from=local_time(r.figures.start, ctx.tz),
        period_to=local_time(r.figures.end, ctx.tz),
        shift_no=r.shift.shift_no,
        day=r.shift.business_day,
        operator=r.shift.opened_by,
        printed_at=_printed_at(ctx),
        ledger_head=r.ledger_head,
    )
    inv.out.text(render_report(heading, r.figures, width, inv.lang), nl=False)


def day_report_data(r: DayReport) -> dict[str, Any]:
    return {
        "kind": "day",
        "day": r.day.isoformat(),
        "closed": r.closed,
        "closed_at": r.closed_at,
        "closed_by": r.closed_by,
        "entry_id": r.entry_id,
        "ledger_head": r.ledger_head,
        "shifts": [shift_fields(s) for s in r.shifts],
        "cashiers": [asdict(c) for c in r.cashiers],
        "figures": r.figures.to_dict(),
    }


def _cashier_table(r: DayReport) -> tuple[str, list[str], list[list[object]]]:
    body: list[list[object]] = [
        [
            f"{c.name} {c.login}",
            c.shifts,
            None if c.open_shifts else yuan(c.expected_fen),
            None if c.open_shifts else yuan(c.counted_fen),
            "未交班 open" if c.open_shifts else yuan(c.over_short_fen),
        ]
        for c in r.cashiers
    ]
    return (
        "收银员长短款 Over/short by cashier",
        ["收银员 Cashier", "班次 Shifts", "应有 Expected", "实点 Counted", "长短 +/-"],
        body,
    )


def _shift_table(shifts: tuple[ShiftView, ...]) -> tuple[str, list[str], list[list[object]]]:
    body: list[list[object]] = []
    for s in shifts:
        over_short = (
            None
            if s.counted_fen is None or s.expected_cash_fen is None
            else yuan(s.counted_fen - s.expected_cash_fen)
        )
        body.append(
            [
                s.shift_no,
                s.opened_by,
                "已交班 closed" if not s.is_open else "未交班 open",
                yuan(s.expected_cash_fen) if s.expected_cash_fen is not None else None,
                yuan(s.counted_fen) if s.counted_fen is not None else None,
                over_short,
            ]
        )
    return (
        "班次 Shifts",
        ["班次 No", "收银员 Cashier", "状态 State", "应有 Expected", "实点 Counted", "长短 +/-"],
        body,
    )


def print_day_report(inv: Invocation, r: DayReport, width: int) -> None:
    if inv.as_json:
        inv.out.result(day_report_data(r))
        return
    ctx = inv.store()
    heading = ReportHeading(
        kind="day" if r.closed else "day_open",
        store_name=ctx.store.name,
        till_id=ctx.till_id,
        period_from=local_time(r.figures.start, ctx.tz),
        period_to=local_time(r.figures.end, ctx.tz),
        day=r.day.isoformat(),
        closed_by=r.closed_by,
        printed_at=_printed_at(ctx),
        ledger_head=r.ledger_head,
    )
    inv.out.text(render_report(heading, r.figures, width, inv.lang), nl=False)
    inv.out.result({}, tables=[_shift_table(r.shifts), _cashier_table(r)])


@click.group()
def report() -> None:
    """报表 Reports: X (mid-shift), Z (shift close, day), period, staff, day-end (日结)."""


@report.command("x")
@width_option
@export_options
@operator_options()
@click.pass_obj
def x_cmd(
    inv: Invocation, width: str, xlsx: Path | None, csv_path: Path | None, creds: Credentials
) -> None:
    """X 报表 The open shift's figures so far (changes nothing)."""
    actor = signed_in(inv, creds)
    r = x_report(inv.store(), actor)
    print_shift_report(inv, r, int(width))
    export_if_asked(inv, [figures_sheet(r.figures, "X 报表 X report")], xlsx, csv_path)


@report.command("z")
@click.option("--day", "day_text", metavar="YYYY-MM-DD", help="某一天 A day (managers)")
@click.option(
    "--shift",
    "shift_no",
    type=WholeNumber(1, 10**9, "班次号", "shift number"),
    metavar="N",
    help="班次号 A closed shift",
)
@width_option
@export_options
@operator_options()
@click.pass_obj
def z_cmd(
    inv: Invocation,
    day_text: str | None,
    shift_no: int | None,
    width: str,
    xlsx: Path | None,
    csv_path: Path | None,
    creds: Credentials,
) -> None:
    """Z 报表 A closed shift (the last one by default) or a day, shown again."""
    actor = signed_in(inv, creds)
    day = parse_day(day_text, "--day") if day_text else None
    r = z_report(inv.store(), actor, shift_no=shift_no, day=day)
    if isinstance(r, DayReport):
        print_day_report(inv, r, int(width))
    else:
        print_shift_report(inv, r, int(width))
    export_if_asked(inv, [figures_sheet(r.figures, "Z 报表 Z report")], xlsx, csv_path)


@report.command("day-close")
@click.option(
    "--day", "day_text", metavar="YYYY-MM-DD", help="营业日（默认今天） Day (default today)"
)
@width_option
@export_options
@operator_options()
@click.pass_obj
def day_close_cmd(
    inv: Invocation,
    day_text: str | None,
    width: str,
    xlsx: Path | None,
    csv_path: Path | None,
    creds: Credentials,
) -> None:
    """日结 Close the day: record its figures (once; again shows the record)."""
    actor = signed_in(inv, creds)
    day = parse_day(day_text, "--day") if day_text else None
    ctx = inv.store()
    already_closed = day_report(ctx, actor, day or ctx.business_day()).closed
    report = day_end(ctx, actor, day)
    print_day_report(inv, report, int(width))
    export_if_asked(inv, [figures_sheet(report.figures, "日结 Day-end")], xlsx, csv_path)
    if not already_closed:
        _back_up_after_day_close(inv, ctx, actor)


def _back_up_after_day_close(inv: Invocation, ctx: StoreContext, actor: Actor) -> None:
    """Every day close is followed by a backup. The day stays closed if the backup fails:
    the failure is said on stderr (the next backup tries again), and stdout keeps the report
    alone (with --json, one object)."""
    try:
        with StderrProgress("备份 Backing up:") as bar:
            info = back_up(ctx, actor, "day_close", lambda stage, n: bar(f"{stage} {n}"))
        click.echo(f"备份 Backup: {info.name}", err=True)
    except DomainError as exc:
        click.echo(f"备份失败 Backup failed: {exc.message(inv.lang)}", err=True)


def _range_days(date_from: str, date_to: str) -> tuple[date, date]:
    return parse_day(date_from, "--from"), parse_day(date_to, "--to")


def range_report_data(r: RangeReport) -> dict[str, Any]:
    return {
        "kind": "range",
        "from": r.date_from.isoformat(),
        "to": r.date_to.isoformat(),
        "figures": r.figures.to_dict(),
        "days": [{**asdict(d), "day": d.day.isoformat()} for d in r.days],
    }


@report.command("range")
@click.option("--from", "date_from", required=True, metavar="YYYY-MM-DD", help="开始日期 First day")
@click.option("--to", "date_to", required=True, metavar="YYYY-MM-DD", help="结束日期 Last day")
@width_option
@export_options
@operator_options()
@click.pass_obj
def range_cmd(
    inv: Invocation,
    date_from: str,
    date_to: str,
    width: str,
    xlsx: Path | None,
    csv_path: Path | None,
    creds: Credentials,
) -> None:
    """营业报表 Figures for a day, a month, a year or any range, with a line per day."""
    actor = signed_in(inv, creds)
    first, last = _range_days(date_from, date_to)
    r = range_report(inv.store(), actor, first, last)
    export_if_asked(inv, range_sheets(r), xlsx, csv_path)
    if inv.as_json:
        inv.out.result(range_report_data(r))
        return
    ctx = inv.store()
    heading = ReportHeading(
        kind="range",
        store_name=ctx.store.name,
        till_id=ctx.till_id,
        period_from=first.isoformat(),
        period_to=last.isoformat(),
        printed_at=_printed_at(ctx),
    )
    inv.out.text(render_report(heading, r.figures, int(width), inv.lang), nl=False)
    body = [
        [
            d.day.isoformat(),
            d.sales_count,
            yuan(d.sales_fen),
            yuan(-d.refunds_fen),
            yuan(d.net_fen),
            yuan(d.member_net_fen),
            yuan(d.average_ticket_fen),
            yuan(d.topups_fen),
        ]
        for d in r.days
    ]
    header = [
        "日期 Day",
        "笔数 Sales",
        "销售额 Sales",
        "退货 Refunds",
        "净额 Net",
        "会员 Members",
        "客单价 Avg",
        "充值 Top-ups",
    ]
    inv.out.result({}, tables=[("每日 By day", header, body)])


def staff_report_data(r: StaffReport) -> dict[str, Any]:
    return {
        "kind": "staff",
        "from": r.date_from.isoformat(),
        "to": r.date_to.isoformat(),
        "staff": [{**asdict(line), "net_fen": line.net_fen} for line in r.lines],
    }


@report.command("staff")
@click.option("--from", "date_from", required=True, metavar="YYYY-MM-DD", help="开始日期 First day")
@click.option("--to", "date_to", required=True, metavar="YYYY-MM-DD", help="结束日期 Last day")
@export_options
@operator_options()
@click.pass_obj
def staff_cmd(
    inv: Invocation,
    date_from: str,
    date_to: str,
    xlsx: Path | None,
    csv_path: Path | None,
    creds: Credentials,
) -> None:
    """员工业绩 Per operator: sales, refunds, members registered, top-ups sold."""
    actor = signed_in(inv, creds)
    first, last = _range_days(date_from, date_to)
    r = staff_report(inv.store(), actor, first, last)
    export_if_asked(inv, [staff_sheet(r)], xlsx, csv_path)
    body = [
        [
            f"{line.login} {line.name}".strip(),
            line.sales_count,
            yuan(line.sales_fen),
            line.refunds_count,
            yuan(-line.refunds_fen),
            yuan(line.net_fen),
            line.members_registered,
            line.topups_count,
            yuan(line.topups_fen),
        ]
        for line in r.lines
    ]
    header = [
        "员工 Staff",
        "笔数 Sales",
        "销售额 Amount",
        "退货 Refunds",
        "退款 Refunded",
        "净额 Net",
        "新会员 Members",
        "充值笔数 Top-ups",
        "充值金额 Amount",
    ]
    inv.out.result(
        staff_report_data(r),
        title=f"员工业绩 Staff performance {first.isoformat()} – {last.isoformat()}",
        tables=[("", header, body)],
    )


@report.command("sales")
@click.option("--from", "date_from", required=True, metavar="YYYY-MM-DD", help="开始日期 First day")
@click.option("--to", "date_to", required=True, metavar="YYYY-MM-DD", help="结束日期 Last day")
@click.option(
    "--top",
    type=WholeNumber(1, MAX_TOP, "前几名", "top"),
    metavar="N",
    help="只列销量前 N 的商品 Only the N best-selling products",
)
@export_options
@operator_options()
@click.pass_obj
def sales_cmd(
    inv: Invocation,
    date_from: str,
    date_to: str,
    top: int | None,
    xlsx: Path | None,
    csv_path: Path | None,
    creds: Credentials,
) -> None:
    """销售分析 By category and product (best sellers first), discounts by kind, member share."""
    actor = signed_in(inv, creds)
    first, last = _range_days(date_from, date_to)
    a = sales_analysis(inv.store(), actor, first, last, top)
    export_if_asked(inv, analysis_sheets(a), xlsx, csv_path)
    f = a.figures
    rows = [
        ("销售（商品与服务） Delivered", yuan(f.delivered_fen)),
        ("净销售额 Net sales", yuan(f.net_fen)),
        ("客单价 Average ticket", yuan(f.average_ticket_fen)),
        ("会员占比 Member share", f"{f.member_share_percent}%"),
    ]

    def lines(key_header: str, items: Any) -> tuple[list[str], list[list[object]]]:
        header = [key_header, "名称 Name", "数量 Qty", "净额 Net"]
        return header, [[x.key, x.name, x.qty, yuan(x.net_fen)] for x in items]

    cat_header, cat_body = lines("品类 Category", a.categories)
    prod_header, prod_body = lines("编码 SKU", a.products)
    discounts = [
        [" ".join(DISCOUNT_KINDS.get(d.kind, (d.kind, d.kind))), yuan(d.amount_fen)]
        for d in a.discounts
    ]
    inv.out.result(
        {
            "kind": "sales",
            "from": first.isoformat(),
            "to": last.isoformat(),
            "figures": f.to_dict(),
            "categories": [asdict(x) for x in a.categories],
            "products": [asdict(x) for x in a.products],
            "discounts": [asdict(d) for d in a.discounts],
        },
        rows,
        title=f"销售分析 Sales analysis {first.isoformat()} – {last.isoformat()}",
        tables=[
            ("品类 By category", cat_header, cat_body),
            ("商品 By product", prod_header, prod_body),
            ("优惠 Discounts", ["类型 Kind", "金额 Amount"], discounts),
        ],
    )


def _cell_text(value: object) -> object:
    """A sheet's cell as the terminal shows it: yuan amounts as ¥, counts as they are."""
    if isinstance(value, Decimal):
        return yuan(int(value.scaleb(2)))
    return value


@report.command("liabilities")
@click.option(
    "--date", "day_text", metavar="YYYY-MM-DD", help="截至当日营业结束（默认今天） As of the end of"
)
@export_options
@operator_options()
@click.pass_obj
def liabilities_cmd(
    inv: Invocation,
    day_text: str | None,
    xlsx: Path | None,
    csv_path: Path | None,
    creds: Credentials,
) -> None:
    """负债 What the store owes members: stored value, points, cards' unused value, coupons."""
    actor = signed_in(inv, creds)
    day = parse_day(day_text, "--date") if day_text else None
    x = liabilities(inv.store(), actor, day)
    sheet = liabilities_sheet(x)
    export_if_asked(inv, [sheet], xlsx, csv_path)
    rows = [(str(label), _cell_text(value)) for label, value in sheet.rows]
    inv.out.result(
        {
            **asdict(x),
            "sv_fen": x.sv_fen,
            "points_value_fen": x.points_value_fen,
            "passes_value_fen": x.passes_value_fen,
            "total_fen": x.total_fen,
        },
        rows,
        title=f"负债 Liabilities {x.day}",
    )
