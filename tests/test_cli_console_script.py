"""The installed `pos-app` console script, run as a real process (as scripts and cron will)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli import CARD, EXAMPLE_RULES, PIN, POS_ENV


def console_script() -> Path:
    beside_python = Path(sys.executable).with_name("pos-app")
    if beside_python.exists():
        return beside_python
    found = shutil.which("pos-app")
    # scripts/run-tests installs the package, so a missing script is a packaging bug.
    assert found is not None, "the pos-app console script is not installed (pip install -e .)"
    return Path(found)


class Process:
    """Runs the console script with POS_DATA_DIR pointing at one store."""

    def __init__(self, data_dir: Path) -> None:
        self.exe = console_script()
        self.env = {k: v for k, v in os.environ.items() if k not in POS_ENV}
        self.env.update(POS_DATA_DIR=str(data_dir), PYTHONIOENCODING="utf-8")

    def run(self, *args: object, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.exe), *map(str, args)],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            encoding="utf-8",
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )

    def ok_json(self, *args: object, **env: str) -> dict[str, Any]:
        done = self.run("--json", *args, **env)
        assert done.returncode == 0, (done.stdout, done.stderr)
        data = json.loads(done.stdout)
        assert isinstance(data, dict)
        return data


CASHIER = {"POS_OPERATOR": "wang", "POS_PASSWORD": "cashier123"}
ADMIN = {"POS_OPERATOR": "admin", "POS_PASSWORD": "admin123"}


@pytest.fixture(scope="module")
def proc(tmp_path_factory: pytest.TempPathFactory) -> Process:
    """A store set up entirely by running the console script, like the README shows."""
    p = Process(tmp_path_factory.mktemp("console") / "store")
    init = p.run(
        "init", "--store-code", "SH01", "--store-name", "上海南京路店", "--admin-login", "admin",
        "--admin-password", "admin123",
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert "门店已初始化" in init.stdout
    p.ok_json("rules", "load", EXAMPLE_RULES, **ADMIN)
    p.ok_json(
        "operator", "add", "--login", "wang", "--name", "王收银", "--role", "cashier",
        "--password", "cashier123", **ADMIN,
    )  # fmt: skip
    member = p.ok_json("member", "add", "--mobile", "13800138000", "--name", "张三", **CASHIER)
    p.ok_json(
        "card", "issue", "--member-no", member["member_no"], "--card-no", CARD, "--pin", PIN,
        **CASHIER,
    )  # fmt: skip
    p.ok_json("shift", "open", "--float", "0", **CASHIER)  # money moves in the cashier's shift
    return p


def test_init_topup_and_balance_json_through_the_console_script(proc: Process) -> None:
    topup = proc.run("topup", CARD, "500", "--tender", "wechat", **CASHIER)
    assert topup.returncode == 0, topup.stderr
    assert "充值成功 Top-up done" in topup.stdout and "¥550.00" in topup.stdout

    done = proc.run("--json", "balance", CARD, **CASHIER)
    assert done.returncode == 0
    assert done.stdout.count("\n") == 1  # exactly one JSON object, on one line
    balance = json.loads(done.stdout)
    assert balance["card_no"] == CARD
    assert balance["member_no"] == "SH010000001"
    assert balance["card_state"] == "active"
    assert (balance["principal_fen"], balance["bonus_fen"]) == (50000, 5000)
    assert balance["stored_value_fen"] == 55000
    assert (balance["points"], balance["tier"]) == (0, "normal")
    assert proc.ok_json("verify")["ok"] is True


def test_a_refused_command_exits_non_zero_and_writes_nothing(proc: Process) -> None:
    before_balance = proc.ok_json("balance", CARD, **CASHIER)
    before_entries = proc.ok_json("verify")["entries"]

    refused = proc.run("--json", "card", "found", CARD, **CASHIER)
    assert refused.returncode == 1
    assert json.loads(refused.stdout) == {
        "error": "permission_denied",
        "message": "收银员无权解除挂失",
    }
    assert "错误：收银员无权解除挂失" in refused.stderr

    invalid = proc.run("--json", "--lang", "en", "topup", CARD, "12.345", **CASHIER)
    assert invalid.returncode == 2
    assert json.loads(invalid.stdout)["message"] == "An amount has at most two decimals: 12.345"

    wrong = proc.run("topup", CARD, "100", "--operator", "wang", "--password", "not-it")
    assert wrong.returncode == 1
    assert "用户名或密码不正确" in wrong.stderr and wrong.stdout == ""

    assert proc.ok_json("balance", CARD, **CASHIER) == before_balance
    after = proc.ok_json("verify")
    assert after["ok"] is True
    assert after["entries"] == before_entries


def test_the_logs_go_to_the_log_file_not_the_terminal(proc: Process) -> None:
    """python-escpos sets up logging on the terminal when it is imported; the app's own
    INFO lines (who topped up which card) belong in its log files only."""
    done = proc.run("topup", CARD, "100", **CASHIER)
    assert done.returncode == 0, done.stderr
    assert "INFO" not in done.stderr and "use_case" not in done.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly(proc: Process) -> None:
    """`pos-app member find 8000 | head -1`: the pipe is closed before the output is written.
    The command ends as a program killed by SIGPIPE would, with no internal-error message."""
    child = subprocess.Popen(
        [str(proc.exe), "operator", "list"],
        env={**proc.env, **ADMIN},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before the command prints
    err = child.stderr.read().decode("utf-8")
    assert child.wait(timeout=120) == 141, err
    assert "内部错误" not in err and "Traceback" not in err
