"""Backups: `pos-app backup now | list | restore`."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from pos_app.cli.invocation import Invocation
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.output import Row
from pos_app.cli.progress_display import StderrProgress
from pos_app.domain.errors import InvalidInput
from pos_app.services.backups import BackupInfo, back_up, list_backups, restore


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def backup_rows(info: BackupInfo) -> list[Row]:
    return [
        ("备份 Backup", info.name),
        ("位置 Folder", str(Path(info.path).parent)),
        ("时间 Made (UTC)", info.created_at[:19].replace("T", " ")),
        ("账本末条 Ledger head", f"#{info.head_seq} {info.head_hash[:16]}"),
        ("账本记录 Entries", info.entries),
        ("大小 Size", _size(info.size_bytes)),
        ("校验 Verified", f"通过 OK ({info.verify_seconds:.1f} s)"),
    ]


class _StageProgress:
    """Backups report a stage ("copy", "verify") and a count: one line on stderr."""

    def __init__(self, bar: StderrProgress) -> None:
        self.bar = bar

    def __call__(self, stage: str, count: int) -> None:
        if stage == "copy":
            self.bar("复制 copying…")
        else:
            self.bar(f"校验 verifying {count:,}")


@click.group()
def backup() -> None:
    """备份 Backups of the store's database, each verified before it is kept."""


@backup.command("now")
@click.option(
    "--reason", default="manual", show_default=True, help="备份原因 Why (manual, day_close, …)"
)
@operator_options()
@click.pass_obj
def backup_now(inv: Invocation, reason: str, creds: Credentials) -> None:
    """立即备份 Back up the store now (an online copy, verified before it is kept)."""
    actor = signed_in(inv, creds)
    with StderrProgress("备份 Backing up:") as bar:
        info = back_up(inv.store(), actor, reason.strip() or "manual", _StageProgress(bar))
    inv.out.result(asdict(info), backup_rows(info), title="备份完成 Backup made")


@backup.command("list")
@operator_options()
@click.pass_obj
def backup_list(inv: Invocation, creds: Credentials) -> None:
    """备份列表 This store's kept backups, newest first."""
    signed_in(inv, creds)
    backups = list_backups(inv.store())
    inv.out.result(
        {"count": len(backups), "backups": [asdict(b) for b in backups]},
        title=f"备份 Backups ({len(backups)})",
        tables=[
            (
                "",
                ["备份 Backup", "时间 Made (UTC)", "账本 Head", "大小 Size", "原因 Why"],
                [
                    [
                        b.name,
                        b.created_at[:19].replace("T", " "),
                        f"#{b.head_seq}",
                        _size(b.size_bytes),
                        b.reason,
                    ]
                    for b in backups
                ],
            )
        ],
    )


@backup.command("restore")
@click.argument("name")
@click.option("--yes", is_flag=True, help="不再确认 Do not ask for confirmation")
@operator_options()
@click.pass_obj
def backup_restore(inv: Invocation, name: str, yes: bool, creds: Credentials) -> None:
    """从备份恢复 Put backup NAME (from `backup list`) in place of the store's database.

    Close the till app first. The backup must verify; the current database is moved into a
    `replaced-…` folder in the data folder, never deleted. A manager signs in against the
    backup itself (the current database may be unreadable).
    """
    ctx = inv.store()
    if not creds.login:
        raise InvalidInput(
            "需要店长：请用 --operator LOGIN --password PW",
            "A manager is needed: give --operator LOGIN --password PW",
            code="credentials_missing",
        )
    password = creds.password or _ask_password(creds.login)
    if not yes:
        if not sys.stdin.isatty():
            raise InvalidInput(
                "恢复会替换当前数据库：请加 --yes 确认",
                "A restore replaces the current database: add --yes to confirm",
            )
        click.confirm(f"用 {name} 替换当前数据库？ Replace the current database?", abort=True)
    with StderrProgress("恢复 Restoring:") as bar:
        result, restored = restore(ctx, creds.login, password, name, _StageProgress(bar))
    inv.adopt(restored)
    data: dict[str, Any] = {**asdict(result), "backup": asdict(result.backup)}
    rows: list[Row] = [
        *backup_rows(result.backup),
        ("原数据库 Replaced database", result.replaced_folder),
        (
            "丢弃的记录 Entries left behind",
            "—" if result.lost_entries is None else result.lost_entries,
        ),
    ]
    inv.out.result(data, rows, title="已从备份恢复 Restored from the backup")


def _ask_password(login: str) -> str:
    if sys.stdin.isatty():
        value: str = click.prompt(f"{login} 密码 password", hide_input=True, err=True)
        return value
    raise InvalidInput(
        "缺少密码：请用 --password 或环境变量 POS_PASSWORD 提供",
        "A password is needed: give --password or set POS_PASSWORD",
        code="credentials_missing",
    )
