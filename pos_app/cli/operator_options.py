"""Who is acting: the --operator/--password and --approver options, and signing in with them.

Credentials come from the options or from the environment (POS_OPERATOR, POS_PASSWORD,
POS_APPROVER, POS_APPROVER_PASSWORD); a missing password is asked for (hidden, on stderr)
only when someone is at a terminal. Permissions are checked by the services, not here.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from pos_app.cli.invocation import Invocation
from pos_app.domain.errors import InvalidInput
from pos_app.domain.permissions import Permission
from pos_app.services.auth import Actor, Approval
from pos_app.services.sign_in import approve, sign_in

F = Callable[..., Any]


@dataclass(frozen=True)
class Credentials:
    login: str | None
    password: str | None = None
    approver: str | None = None
    approver_password: str | None = None

    def __repr__(self) -> str:  # never show a password in a traceback or a log
        return f"Credentials(login={self.login!r}, approver={self.approver!r})"


def operator_options(*, approver: bool = False, password_flag: bool = True) -> Callable[[F], F]:
    """Add the operator options (and the approver options for privileged actions).

    The function receives them as one `creds: Credentials` argument. `password_flag=False`
    is for `operator add`, whose own --password is the new operator's.
    """

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            creds = Credentials(
                kwargs.pop("operator_login"),
                kwargs.pop("operator_password"),
                kwargs.pop("approver_login", None),
                kwargs.pop("approver_password", None),
            )
            return f(*args, creds=creds, **kwargs)

        if approver:
            wrapper = click.option(
                "--approver-password",
                "approver_password",
                envvar="POS_APPROVER_PASSWORD",
                metavar="PW",
                help="授权人密码 Approver's password [env POS_APPROVER_PASSWORD]",
            )(wrapper)
            wrapper = click.option(
                "--approver",
                "approver_login",
                envvar="POS_APPROVER",
                metavar="LOGIN",
                help="店长授权（收银员操作时需要） A manager approving a cashier's action "
                "[env POS_APPROVER]",
            )(wrapper)
        names = ("--password", "--operator-password") if password_flag else ("--operator-password",)
        wrapper = click.option(
            *names,
            "operator_password",
            envvar="POS_PASSWORD",
            metavar="PW",
            help="操作员密码 Operator's password [env POS_PASSWORD]",
        )(wrapper)
        wrapper = click.option(
            "--operator",
            "operator_login",
            envvar="POS_OPERATOR",
            metavar="LOGIN",
            help="操作员登录名 Operator's login [env POS_OPERATOR]",
        )(wrapper)
        return wrapper

    return decorate


def _password(given: str | None, who: str, env: str, option: str) -> str:
    if given:
        return given
    if sys.stdin.isatty():
        value: str = click.prompt(f"{who} 密码 password", hide_input=True, err=True)
        return value
    raise InvalidInput(
        f"缺少密码：请用 {option} 或环境变量 {env} 提供",
        f"A password is needed: give {option} or set {env}",
        code="credentials_missing",
    )


def signed_in(inv: Invocation, creds: Credentials) -> Actor:
    """Sign the operator in (wrong credentials are refused and audited by the service)."""
    return signed_in_with_password(inv, creds)[0]


def signed_in_with_password(inv: Invocation, creds: Credentials) -> tuple[Actor, str]:
    """Sign in, and keep the password given (changing one's own password needs it again)."""
    ctx = inv.store()  # "no store here" comes before "who are you"
    if not creds.login:
        raise InvalidInput(
            "需要操作员：请用 --operator LOGIN --password PW，或设置 POS_OPERATOR / POS_PASSWORD",
            "An operator is needed: give --operator LOGIN --password PW, or set "
            "POS_OPERATOR / POS_PASSWORD",
            code="credentials_missing",
        )
    password = _password(creds.password, creds.login, "POS_PASSWORD", "--password")
    return sign_in(ctx, creds.login, password), password


def approval_for(inv: Invocation, creds: Credentials, permission: Permission) -> Approval | None:
    """A manager's approval given with --approver, or None (the service decides if it needs one)."""
    if not creds.approver:
        return None
    password = _password(
        creds.approver_password, creds.approver, "POS_APPROVER_PASSWORD", "--approver-password"
    )
    return approve(inv.store(), creds.approver, password, permission)


def ask_secret_if_flagged(value: str | None, prompt: str) -> str | None:
    """Options such as --pin take a value, or alone ask for it: hidden at a terminal (the
    prompt on stderr), else one line read from stdin (`echo 123456 | pos-app pay ... --pin`)."""
    if value != ASK:
        return value
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    secret: str = click.prompt(prompt, hide_input=True, err=True)
    return secret


# What an option like --pin receives when given without a value.
ASK = "\0ask"
