"""Every top-level command of `pos-app`: its name, the module that defines it, its one line.

The root group loads a command's module only when that command runs or shows its help, so
that `pos-app --help` and every command start without importing what the others need
(SQLAlchemy, Alembic, python-escpos, Qt). The top-level help lists the commands from this
table alone. Adding a command means one row here; its module under `pos_app.cli` defines a
click command (or group) named like the command, with `-` as `_` (`demo-data` → `demo_data`).

`summary` is the first sentence of the command's own help, which click would otherwise take
from the loaded command for the listing; a test keeps the two the same.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class CommandEntry:
    """One top-level command, described without importing its module."""

    name: str
    module: str  # under pos_app.cli
    summary: str

    def load(self) -> click.Command:
        """Import the command's module and return the command it defines."""
        module = importlib.import_module(f"pos_app.cli.{self.module}")
        command = getattr(module, self.name.replace("-", "_"))
        assert isinstance(command, click.Command) and command.name == self.name
        return command


COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry(
        "init", "setup_cmd", "初始化门店 Set up the store in the data folder, with its first admin."
    ),
    CommandEntry("operator", "setup_cmd", "操作员 Operators (cashiers, managers, admins)."),
    CommandEntry("rules", "setup_cmd", "规则 The store's rules (stored value, points, tiers)."),
    CommandEntry("member", "members_cmd", "会员 Members: register, look up, edit, import."),
    CommandEntry(
        "card", "cards_cmd", "会员卡 Cards: issue, lost/found, freeze, replace, cancel, PIN, stock."
    ),
    CommandEntry(
        "topup",
        "money_cmd",
        "充值 Top up a card by AMOUNT yuan; the rules' bonus is added (充500送50).",
    ),
    CommandEntry(
        "balance", "money_cmd", "查询余额 What a card holds: principal, bonus, points, tier."
    ),
    CommandEntry("pay", "money_cmd", "储值支付 Pay AMOUNT yuan from the card's stored value."),
    CommandEntry(
        "refund-payment",
        "money_cmd",
        "退储值消费 Refund a stored-value payment (by its entry id) to the buckets it came from.",
    ),
    CommandEntry(
        "topup-refund",
        "money_cmd",
        "退充值 Refund a top-up (by its entry id): principal back less bonus already spent.",
    ),
    CommandEntry(
        "purchase",
        "points_cmd",
        "补积分 Credit a member for a purchase: a walk-in receipt of this till (--receipt R; the "
        "amounts come from the receipt), or AMOUNT yuan with no receipt (a manager approves, with "
        "--reason, up to the rules' points.manual_purchase_max).",
    ),
    CommandEntry(
        "purchase-refund",
        "points_cmd",
        "退货 Refund a recorded purchase (by its entry id): its points are taken back.",
    ),
    CommandEntry("points", "points_cmd", "积分 Points: redeem, give, adjust, expire."),
    CommandEntry("tier", "points_cmd", "会员等级 Tiers: set by hand, yearly review."),
    CommandEntry(
        "coupon",
        "coupon_cmd",
        "优惠券 Coupons: templates, issue, wallet, partner batches, points exchange, void.",
    ),
    CommandEntry(
        "verify",
        "ledger_cmd",
        "校验账本 Check the database, the sealed hash chain and every balance.",
    ),
    CommandEntry(
        "audit",
        "ledger_cmd",
        "审计日志 The audit trail of sensitive operations, newest first (managers).",
    ),
    CommandEntry(
        "demo-data",
        "demo_cmd",
        "生成演示数据 Fill this store with demo members, cards and activity (admins).",
    ),
    CommandEntry(
        "demo", "demo_cmd", "演示 Open the demo store (created on first run) in the cashier app."
    ),
    CommandEntry("product", "product_cmd", "商品 The product catalogue: import, list, show."),
    CommandEntry(
        "shift",
        "shift_cmd",
        "班次 Shifts: open with a float, paid-in/out, status, close with a cash count.",
    ),
    CommandEntry(
        "report",
        "report_cmd",
        "报表 Reports: X (mid-shift), Z (shift close, day), period, staff, day-end (日结).",
    ),
    CommandEntry(
        "sale",
        "sale_journal_cmd",
        "收银 Sell: price the lines for the member (if any), take the tenders, print the receipt.",
    ),
    CommandEntry(
        "refund",
        "sale_cmd",
        "退货 Return a sale by its receipt number, whole or some lines, back the way it was paid.",
    ),
    CommandEntry("reprint", "sale_cmd", "补打小票 Print a receipt again, marked as a reprint."),
    CommandEntry(
        "hw",
        "hw_cmd",
        "设备：查看、测试、模拟 Devices: list, test and simulate readers, "
        "printer, drawer, display.",
    ),
    CommandEntry(
        "backup",
        "backup_cmd",
        "备份 Backups of the store's database, each verified before it is kept.",
    ),
    CommandEntry(
        "sync",
        "sync_cmd",
        "同步总部 Sync with HQ: connect the till, push its records, status, restore.",
    ),
)

BY_NAME = {entry.name: entry for entry in COMMANDS}
