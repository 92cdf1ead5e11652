"""Shifts (班次): `shift open`, `shift close`, `shift paid-in`, `shift paid-out`, `shift status`."""

from __future__ import annotations

from typing import Any

import click

from pos_app.cli.invocation import Invocation
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.output import Row, local_time, yuan
from pos_app.cli.report_cmd import print_shift_report, shift_fields, width_option
from pos_app.domain.money import MAX_DRAWER_FEN, parse_yuan
from pos_app.services.shifts import (
    CashMove,
    ShiftView,
    close_shift,
    current_shift,
    open_shift,
    paid_in,
    paid_out,
)

# Let "-5" reach the amount check (and its clear message) instead of being taken for an option.
AMOUNT_COMMAND = {"ignore_unknown_options": True}


def shift_rows(inv: Invocation, v: ShiftView) -> list[Row]:
    tz = inv.store().tz
    rows: list[Row] = [
        ("班次 Shift", v.shift_no),
        ("营业日 Day", v.business_day),
        ("开班 Opened", f"{local_time(v.opened_at, tz)} {v.opened_by}"),
        ("备用金 Float", yuan(v.float_fen)),
        ("状态 State", "未交班 open" if v.is_open else "已交班 closed"),
    ]
    if v.closed_at:
        rows.append(("交班 Closed", f"{local_time(v.closed_at, tz)} {v.closed_by or ''}"))
    return rows


@click.group()
def shift() -> None:
    """班次 Shifts: open with a float, paid-in/out, status, close with a cash count."""


@shift.command("open", context_settings=AMOUNT_COMMAND)
@click.option("--float", "float_text", required=True, metavar="AMOUNT", help="备用金 Float (yuan)")
@operator_options()
@click.pass_obj
def open_cmd(inv: Invocation, float_text: str, creds: Credentials) -> None:
    """开班 Open a shift with AMOUNT yuan of float in the drawer."""
    amount = parse_yuan(float_text, allow_zero=True, max_fen=MAX_DRAWER_FEN)
    actor = signed_in(inv, creds)
    v = open_shift(inv.store(), actor, amount)
    inv.out.result(shift_fields(v), shift_rows(inv, v), title="开班成功 Shift open")


@shift.command("close", context_settings=AMOUNT_COMMAND)
@click.option(
    "--counted", "counted_text", required=True, metavar="AMOUNT", help="实点现金 Cash counted"
)
@width_option
@operator_options()
@click.pass_obj
def close_cmd(inv: Invocation, counted_text: str, width: str, creds: Credentials) -> None:
    """交班 Close the shift with the cash counted; prints the Z report."""
    amount = parse_yuan(counted_text, allow_zero=True, max_fen=MAX_DRAWER_FEN)
    actor = signed_in(inv, creds)
    print_shift_report(inv, close_shift(inv.store(), actor, amount), int(width))


def _move_result(inv: Invocation, m: CashMove, title: str) -> None:
    data: dict[str, Any] = {
        "entry_id": m.entry_id,
        "kind": m.kind,
        "amount_fen": m.amount_fen,
        "reason": m.reason,
        "shift_no": m.shift_no,
        "expected_cash_fen": m.expected_cash_fen,
    }
    rows: list[Row] = [
        ("金额 Amount", yuan(m.amount_fen)),
        ("原因 Reason", m.reason),
        ("班次 Shift", m.shift_no),
        ("应有现金 Expected cash", yuan(m.expected_cash_fen)),
        ("记录号 Entry", m.entry_id),
    ]
    inv.out.result(data, rows, title=title)


@shift.command("paid-in", context_settings=AMOUNT_COMMAND)
@click.argument("amount")
@click.option("--reason", required=True, help="原因 Why the cash goes in")
@operator_options()
@click.pass_obj
def paid_in_cmd(inv: Invocation, amount: str, reason: str, creds: Credentials) -> None:
    """收入 Put AMOUNT yuan of cash into the drawer (not a sale)."""
    amount_fen = parse_yuan(amount, max_fen=MAX_DRAWER_FEN)
    actor = signed_in(inv, creds)
    _move_result(inv, paid_in(inv.store(), actor, amount_fen, reason), "已记收入 Paid in")


@shift.command("paid-out", context_settings=AMOUNT_COMMAND)
@click.argument("amount")
@click.option("--reason", required=True, help="原因 Why the cash goes out")
@operator_options()
@click.pass_obj
def paid_out_cmd(inv: Invocation, amount: str, reason: str, creds: Credentials) -> None:
    """支出 Take AMOUNT yuan of cash out of the drawer (not a refund)."""
    amount_fen = parse_yuan(amount, max_fen=MAX_DRAWER_FEN)
    actor = signed_in(inv, creds)
    _move_result(inv, paid_out(inv.store(), actor, amount_fen, reason), "已记支出 Paid out")


@shift.command("status")
@operator_options()
@click.pass_obj
def status_cmd(inv: Invocation, creds: Credentials) -> None:
    """当前班次 The open shift, if any."""
    actor = signed_in(inv, creds)
    v = current_shift(inv.store(), actor)
    if v is None:
        inv.out.result({"shift": None}, [("班次 Shift", "未开班 none open")], title="班次 Shift")
        return
    inv.out.result({"shift": shift_fields(v)}, shift_rows(inv, v), title="班次 Shift")
