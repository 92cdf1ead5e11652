"""The sales journal on the command line: `sale journal …` finds receipts, `sale reprint NO`
prints one again (补打), and `member history KEY` lists a member's purchases and top-ups.

`pos-app sale` itself sells; `sale_commands` wraps it so that `sale journal` and `sale
reprint` reach these subcommands while every other `sale …` is the sale as before.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from pos_app.cli import sale_cmd
from pos_app.cli.export_options import export_if_asked, export_options
from pos_app.cli.invocation import Invocation
from pos_app.cli.number_params import WholeNumber
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.output import local_time, yuan
from pos_app.cli.report_cmd import parse_day
from pos_app.domain.money import parse_yuan
from pos_app.domain.sale_request import TENDER_NAMES
from pos_app.services import member_history as history_svc
from pos_app.services import sales_journal as journal_svc
from pos_app.services.report_sheets import history_sheet, journal_sheet


class SaleCommands(click.Group):
    """`sale` as a group whose name-less use is the sale command itself."""

    def __init__(self, sell: click.Command, commands: list[click.Command]) -> None:
        super().__init__(
            name=sell.name,
            help=(sell.help or "") + "\n\n另有 Also: sale journal …, sale reprint RECEIPT_NO",
            short_help=sell.short_help,
            commands=commands,
        )
        self.sell = sell

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        if args and args[0] in self.commands:
            return super().make_context(info_name, args, parent, **extra)
        # The parent invokes `context.command`, which is then the sale command.
        return self.sell.make_context(info_name, args, parent, **extra)


def sale_commands(sell: click.Command, reprint: click.Command) -> click.Group:
    """`pos-app sale` selling as before, with `journal` and `reprint` beside it."""
    return SaleCommands(sell, [journal, reprint])


PAGE = 50


def _page_options(f: Any) -> Any:
    f = click.option(
        "--page",
        type=WholeNumber(1, 10**6, "页码", "page"),
        default=1,
        show_default=True,
        help="第几页（最新在前） Page, newest first",
    )(f)
    return click.option(
        "--per-page",
        type=WholeNumber(1, journal_svc.MAX_PAGE, "每页条数", "lines per page"),
        default=PAGE,
        show_default=True,
        help="每页条数 Lines per page",
    )(f)


def _tenders(names: tuple[str, ...]) -> str:
    return "/".join(TENDER_NAMES.get(t, (t, t))[0] for t in names)


@click.command()
@click.option("--receipt", "receipt_no", metavar="NO", help="小票号（或其末段） Receipt number")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="开始日期 First day")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="结束日期 Last day")
@click.option("--member", metavar="KEY", help="会员号/手机号/卡号 Member, mobile or card number")
@click.option("--amount", metavar="YUAN", help="小票金额 The receipt's total")
@_page_options
@export_options
@operator_options()
@click.pass_obj
def journal(
    inv: Invocation,
    receipt_no: str | None,
    date_from: str | None,
    date_to: str | None,
    member: str | None,
    amount: str | None,
    page: int,
    per_page: int,
    xlsx: Path | None,
    csv_path: Path | None,
    creds: Credentials,
) -> None:
    """销售流水 Find receipts by number, days, member or amount (newest first)."""
    query = journal_svc.JournalQuery(
        receipt_no=receipt_no,
        date_from=parse_day(date_from, "--from") if date_from else None,
        date_to=parse_day(date_to, "--to") if date_to else None,
        member=member,
        amount_fen=parse_yuan(amount) if amount else None,
    )
    actor = signed_in(inv, creds)
    ctx = inv.store()
    found = journal_svc.sales_journal(ctx, actor, query, (page - 1) * per_page, per_page)
    export_if_asked(inv, [journal_sheet(found, ctx.tz)], xlsx, csv_path)
    body = [
        [
            x.receipt_no,
            "退货 refund" if x.kind == "refund" else "销售 sale",
            local_time(x.at, ctx.tz),
            x.operator,
            f"{x.member_no} {x.member_name}" if x.member_no else "",
            yuan(x.total_fen),
            _tenders(x.tenders),
        ]
        for x in found.lines
    ]
    header = [
        "小票号 Receipt",
        "类型 Kind",
        "时间 Time",
        "收银员 Cashier",
        "会员 Member",
        "金额 Total",
        "付款 Tenders",
    ]
    more = f"（还有下一页 more: --page {page + 1}）" if found.has_more else ""
    inv.out.result(
        {
            "page": page,
            "has_more": found.has_more,
            "receipts": [{**asdict(x), "tenders": list(x.tenders)} for x in found.lines],
        },
        title=f"销售流水 Sales journal — 第 {page} 页 page {page}{more}",
        tables=[("", header, body)],
    )


@click.command("history")
@click.argument("key", metavar="CARD_OR_MOBILE")
@_page_options
@export_options
@operator_options()
@click.pass_obj
def member_history(
    inv: Invocation,
    key: str,
    page: int,
    per_page: int,
    xlsx: Path | None,
    csv_path: Path | None,
    creds: Credentials,
) -> None:
    """消费/充值明细 A member's purchases, refunds and top-ups, newest first."""
    actor = signed_in(inv, creds)
    ctx = inv.store()
    per_page = min(per_page, history_svc.MAX_PAGE)
    h = history_svc.member_history(ctx, actor, key, (page - 1) * per_page, per_page)
    export_if_asked(inv, [history_sheet(h, ctx.tz)], xlsx, csv_path)
    kinds = {**history_svc.SALE_KINDS, **{str(k): v for k, v in history_svc.MONEY_KINDS.items()}}
    body = [
        [
            local_time(x.at, ctx.tz),
            " ".join(kinds.get(x.kind, (x.kind, x.kind))),
            x.receipt_no or "",
            yuan(x.amount_fen),
            yuan(x.stored_value_fen) if x.stored_value_fen else "",
            x.points or "",
            _tenders(x.tenders),
        ]
        for x in h.lines
    ]
    header = [
        "时间 Time",
        "类型 Kind",
        "小票号 Receipt",
        "金额 Amount",
        "储值 Stored value",
        "积分 Points",
        "付款 Tenders",
    ]
    more = f"（还有下一页 more: --page {page + 1}）" if h.has_more else ""
    inv.out.result(
        {
            "member_no": h.member_no,
            "page": page,
            "has_more": h.has_more,
            "lines": [{**asdict(x), "tenders": list(x.tenders)} for x in h.lines],
        },
        title=f"消费/充值明细 History: {h.member_no} {h.name} — 第 {page} 页 page {page}{more}",
        tables=[("", header, body)],
    )


# The `sale` row of the command table: selling, with `journal` and `reprint` beside it.
sale = sale_commands(sale_cmd.sale, sale_cmd.reprint)
