"""`pos-app`: the root command group, its global options, exit codes and error output.

Exit codes are in `pos_app.cli.exit_codes`: 0 done, 1 refused, 2 invalid input or usage,
3 `verify` found problems (or a sync fork), 4 HQ unreachable (`sync push`), 70 an internal
error (a bug; the traceback goes to the log, never to the terminal).

A refusal prints its message on stderr (Chinese, or English with --lang en / POS_LANG=en);
with --json it also prints {"error": CODE, "message": TEXT} on stdout, where CODE is the
DomainError code (e.g. "permission_denied", "invalid_input", "insufficient_balance").
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from click.core import ParameterSource

from hardware.errors import DeviceError, DeviceUriError
from pos_app.cli import exit_codes
from pos_app.cli.app_launch import start_app
from pos_app.cli.command_table import BY_NAME, COMMANDS
from pos_app.cli.exit_codes import REFUSED, exit_code_for
from pos_app.cli.internal_error_log import log_internal_error
from pos_app.cli.invocation import Invocation, default_data_dir
from pos_app.cli.path_params import FilePath
from pos_app.domain.control_chars import shown
from pos_app.domain.errors import DomainError

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class PosGroup(click.Group):
    """The root group: loads each command's module only when needed (see command_table), and
    turns refusals into a message, a JSON error and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*BY_NAME, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = BY_NAME.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        return entry.load()

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, from the table: showing it imports no command's module."""
        limit = formatter.width - 6 - max(len(entry.name) for entry in COMMANDS)
        rows = [
            (entry.name, click.Command(entry.name, help=entry.summary).get_short_help_str(limit))
            for entry in sorted(COMMANDS, key=lambda e: e.name)
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Refuse, before anything else, a command line that is not text: Python hands an
        undecodable byte of argv (or of a POS_* variable) over as a lone surrogate, which
        no database query, file or terminal can take."""
        given = [*args, *(v for k, v in os.environ.items() if k.startswith("POS_"))]
        for value in given:
            if _LONE_SURROGATE.search(value):
                raise click.UsageError(
                    "参数含有无法解码的字节（不是 UTF-8 文字） / An argument holds bytes that "
                    f"are not UTF-8 text: {shown(value)}",
                    ctx,
                )
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            inv = _invocation(ctx)
            inv.out.error(exc.code, exc.message(inv.lang))
            raise click.exceptions.Exit(exit_code_for(exc)) from None
        except DeviceError as exc:
            inv = _invocation(ctx)
            inv.out.error(exc.code, exc.message(inv.lang))
            bad_input = isinstance(exc, DeviceUriError)
            raise click.exceptions.Exit(exit_codes.USAGE if bad_input else REFUSED) from None
        except click.UsageError as exc:
            inv = _invocation(ctx)
            if not inv.as_json:
                raise
            exc.show()  # the usual usage text, on stderr
            inv.out.error("usage", exc.format_message(), echo_stderr=False)
            raise click.exceptions.Exit(exit_codes.USAGE) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # click's own ways of ending a run
        except BrokenPipeError:
            # The reader went away (`pos-app backup list | head -2`): stop quietly, as a
            # program killed by SIGPIPE would; whatever was done is done, only output is lost.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so the exit's flush has nowhere to fail
            raise click.exceptions.Exit(exit_codes.BROKEN_PIPE) from None
        except Exception as exc:  # noqa: BLE001 -- the last line of defence, see _internal_error
            _database_error(ctx, exc)
            _internal_error(ctx, exc)


def _database_error(ctx: click.Context, exc: Exception) -> None:
    """A database that is busy, fails or is damaged: a refusal saying so (returns if `exc` is
    none of these). SQLAlchemy is looked at only if some command loaded it: the root group
    must not import it, so that `pos-app --help` and commands without a store start fast."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.OperationalError):
        inv = _invocation(ctx)
        busy = "locked" in str(exc.orig) or "busy" in str(exc.orig)
        zh, en = (
            ("数据库正忙，请稍后重试", "The database is busy; try again")
            if busy
            else (f"数据库错误：{exc.orig}", f"Database error: {exc.orig}")
        )
        inv.out.error("database_error", en if inv.lang == "en" else zh)
        raise click.exceptions.Exit(exit_codes.REFUSED) from None
    database_errors: tuple[type[Exception], ...] = (sqlite3.DatabaseError,)
    if sa_exc is not None:
        database_errors += (sa_exc.DatabaseError,)
    if not isinstance(exc, database_errors) or not _is_damaged(exc):
        return
    inv = _invocation(ctx)
    inv.out.error(
        "database_damaged",
        _message(
            inv,
            f"数据库文件已损坏或不是本系统的数据库：{inv.data_dir}。"
            "请运行 pos-app verify 检查，并从最近的备份恢复。",
            f"The database file is damaged or is not a pos-app database: "
            f"{inv.data_dir}. Run pos-app verify to check it, and restore the "
            "latest backup.",
        ),
    )
    raise click.exceptions.Exit(exit_codes.REFUSED) from None


def _is_damaged(exc: Exception) -> bool:
    """A database file SQLite cannot read ("file is not a database", "database disk image is
    malformed"), as opposed to a constraint or a bug, which are internal errors."""
    orig = getattr(exc, "orig", exc)
    text = str(orig).lower()
    return type(orig) is sqlite3.DatabaseError or "malformed" in text or "not a database" in text


def _internal_error(ctx: click.Context, exc: Exception) -> NoReturn:
    """A bug reached the top: the traceback goes to the store's log (never to the terminal),
    the person gets a short bilingual message saying where, and the run ends with exit code
    70, which scripts and the CLI fuzz test tell apart from any refusal."""
    inv = _invocation(ctx)
    # The command's name (its group's, for a nested one) and not its arguments, which may
    # hold secrets; the traceback says the rest.
    command = " ".join(filter(None, (ctx.command_path, ctx.invoked_subcommand)))
    where = log_internal_error(inv, command, exc)
    place_zh = f"，详情见日志 {where}" if where else ""
    place_en = f"; details are in the log at {where}" if where else ""
    inv.out.error(
        "internal_error",
        _message(
            inv,
            f"内部错误（{type(exc).__name__}）{place_zh}。请把日志交给技术支持。",
            f"Internal error ({type(exc).__name__}){place_en}. Please pass the log on to support.",
        ),
    )
    raise click.exceptions.Exit(exit_codes.INTERNAL_ERROR) from None


def _message(inv: Invocation, zh: str, en: str) -> str:
    return en if inv.lang == "en" else zh


def _invocation(ctx: click.Context) -> Invocation:
    """This run's Invocation; before the group's callback ran (an unknown command), one
    made from the options parsed so far, so even that error honours --json and --lang."""
    if isinstance(ctx.obj, Invocation):
        return ctx.obj
    lang = _lang(ctx, None, ctx.params.get("lang"))
    return Invocation(default_data_dir(), bool(ctx.params.get("as_json")), lang)


def _lang(_ctx: click.Context, _param: click.Parameter | None, value: str | None) -> str:
    # POS_LANG may hold a locale such as en_US.UTF-8; anything not English means Chinese.
    return "en" if (value or "").lower().startswith("en") else "zh"


@click.group(
    cls=PosGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--data-dir",
    type=FilePath(file_okay=False, path_type=Path),
    envvar="POS_DATA_DIR",
    help="门店数据目录 The store's data folder [env POS_DATA_DIR; default: the user data "
    "folder, e.g. ~/.local/share/pos-app]",
)
@click.option(
    "--json", "as_json", is_flag=True, help="输出一个 JSON 对象 Print one JSON object (for scripts)"
)
@click.option(
    "--lang",
    envvar="POS_LANG",
    callback=_lang,
    metavar="zh|en",
    help="消息语言 Language of messages [env POS_LANG; default zh]",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="日志也显示在 stderr 上 Show log lines on stderr too (they always go to the store's log)",
)
@click.version_option(package_name="pos-app", prog_name="pos-app")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, as_json: bool, lang: str, verbose: bool) -> None:
    """pos-app 会员卡收银系统命令行 — the member-card POS from the command line.

    Commands that read or change member data need an operator: --operator LOGIN
    --password PW after the command, or POS_OPERATOR / POS_PASSWORD in the environment.
    Amounts are in yuan with up to two decimals (500, 12.50).

    With no command, starts the cashier app on the store (`pos-app demo` starts it on the
    demo store).

    Exit codes: 0 done, 1 refused, 2 invalid input or usage, 3 verify found problems
    (or a sync fork), 4 HQ unreachable, 70 internal error (details in the store's log).
    """
    source = ctx.get_parameter_source("data_dir")
    inv = Invocation(data_dir.expanduser() if data_dir else default_data_dir(), as_json, lang)
    given = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    inv.data_dir_given = source in given
    inv.lang_given = ctx.get_parameter_source("lang") in given
    ctx.obj = inv
    ctx.call_on_close(inv.close)
    inv.log_to_terminal(verbose=verbose)
    if ctx.invoked_subcommand is None:
        ctx.exit(start_app(inv, demo=False))


def main() -> None:
    """Console-script entry point (`pos-app`)."""
    cli.main(prog_name="pos-app")
