"""`scripts/run-demo --hq`: a local HQ with two demo stores syncing to it.

    demo_hq.py [--data-dir DIR] [--port 8765] [--members 50] [--once]

In DIR (default: the user data folder's "demo-hq"): HQ's database `hq.sqlite3` (SQLite, the
zero-setup default) served by `pos-hq serve` on 127.0.0.1:PORT (log in `hq.log`), and two
stores, SH01 (till SH01-01) and SH02 (till SH02-01), each made once with demo members, a few
weeks of history and a day at the till. Each till is enrolled at HQ the way a real one is
(`pos-hq till enroll` → one-time token → `pos-app sync setup`) and pushes (`pos-app sync
push`). It prints where everything is and the commands to look, then keeps HQ serving until
Ctrl-C (--once: stops HQ and exits, which is what the test runs). Running it again reuses
everything and pushes what is new.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pos_app.cli.invocation import default_data_dir
from pos_app.demo_store import DEMO_LOGINS
from pos_app.domain.errors import NotInitialized
from pos_app.domain.permissions import Permission
from pos_app.services.context import StoreContext, open_store
from pos_app.services.demo_data import fill_demo_store
from pos_app.services.demo_day import run_demo_day
from pos_app.services.rules import load_rules
from pos_app.services.sign_in import approve, sign_in
from pos_app.services.store_setup import add_operator, init_store

BIN = Path(sys.executable).parent
POS_APP = str(BIN / "pos-app")
POS_HQ = str(BIN / "pos-hq")
LOGINS = {login.login: login for login in DEMO_LOGINS}


@dataclass(frozen=True)
class DemoStore:
    code: str
    name: str

    @property
    def till(self) -> str:
        return f"{self.code}-01"


STORES = (DemoStore("SH01", "上海南京路店"), DemoStore("SH02", "上海徐家汇店"))


def say(text: str) -> None:
    print(text, flush=True)


def run(*args: str, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run(
        list(args), capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if done.returncode not in ok:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"失败 Failed ({done.returncode}): {' '.join(args)}")
    return done.stdout


def hq_json(db_url: str, *args: str, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    out = run(POS_HQ, "--db", db_url, "--json", *args, ok=ok)
    answer: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return answer


def make_store(folder: Path, store: DemoStore, members: int) -> None:
    """The store once: operators, rules, demo members and history, a day at the till."""
    ctx: StoreContext = open_store(folder)
    try:
        try:
            ctx.store  # noqa: B018 -- reading it is the check
            return
        except NotInitialized:
            pass
        say(f"建立门店 Making store {store.code} in {folder} …")
        admin = LOGINS["admin"]
        init_store(ctx, store.code, store.name, admin.login, admin.password, admin_name=admin.name)
        actor = sign_in(ctx, admin.login, admin.password)
        for login in DEMO_LOGINS[1:]:
            add_operator(ctx, actor, login.login, login.name, login.role.value, login.password)
        rules = resources.files("pos_app").joinpath("resources/rules.example.toml")
        load_rules(ctx, actor, rules.read_text(encoding="utf-8"), "rules.example.toml")
        fill_demo_store(ctx, actor, members)
        cashiers = tuple(
            sign_in(ctx, LOGINS[name].login, LOGINS[name].password)
            for name in ("cashier", "manager", "cashier2")
        )
        manager = LOGINS["manager"]
        approval = approve(ctx, manager.login, manager.password, Permission.CARD_CANCEL)
        run_demo_day(ctx, (cashiers[0], cashiers[1], cashiers[2]), approval)
    finally:
        ctx.engine.dispose()


def wait_for_health(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                raise SystemExit(
                    f"总部没有启动 HQ did not start (see {log}):\n{log.read_text()[-2000:]}"
                ) from None
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit(
                    f"总部 30 秒内没有应答 HQ did not answer in 30 s (see {log})"
                ) from None
            time.sleep(0.1)


def connect_and_push(folder: Path, store: DemoStore, db_url: str, hq_url: str) -> dict[str, Any]:
    manager = LOGINS["manager"]
    creds = {"POS_OPERATOR": manager.login, "POS_PASSWORD": manager.password}
    status = json.loads(run(POS_APP, "--data-dir", str(folder), "--json", "sync", "status"))
    setup = [POS_APP, "--data-dir", str(folder), "sync", "setup", "--hq", hq_url]
    if not status["configured"]:
        enrolled = hq_json(db_url, "till", "enroll", "--store", store.code)
        say(f"登记收银机 Enrolling till {enrolled['till']} with a one-time token")
        run(*setup, "--token", enrolled["token"], env=creds)
    elif status["hq_url"] != hq_url:  # HQ moved (another --port): enroll again, new key
        enrolled = hq_json(db_url, "till", "enroll", "--store", store.code, "--till", store.till)
        say(f"重新登记收银机 Enrolling till {store.till} again at {hq_url}")
        run(*setup, "--token", enrolled["token"], "--reenroll", env=creds)
    pushed: dict[str, Any] = json.loads(
        run(POS_APP, "--data-dir", str(folder), "--json", "sync", "push")
    )
    say(
        f"推送 Pushed {store.till}: {pushed['sent_entries']} entries, "
        f"{pushed['sent_rows']} rows; HQ holds up to #{pushed['acked_seq']}"
    )
    return pushed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir() / "demo-hq")
    parser.add_argument("--port", type=int, default=8765, help="HQ's port on 127.0.0.1")
    parser.add_argument("--members", type=int, default=50, help="demo members per store")
    parser.add_argument("--once", action="store_true", help="stop HQ and exit when done")
    args = parser.parse_args()
    data: Path = args.data_dir.expanduser().resolve()
    data.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{data / 'hq.sqlite3'}"
    hq_url = f"http://127.0.0.1:{args.port}"

    hq_json(db_url, "init")
    for store in STORES:
        hq_json(db_url, "store", "add", "--code", store.code, "--name", store.name, ok=(0, 1))
    for store in STORES:
        make_store(data / store.till, store, args.members)

    log = data / "hq.log"
    with log.open("ab") as out:
        server = subprocess.Popen(
            [POS_HQ, "--db", db_url, "serve", "--host", "127.0.0.1", "--port", str(args.port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_health(hq_url, server, log)
        say(f"总部已启动 HQ is serving at {hq_url} (pid {server.pid})")
        for store in STORES:
            connect_and_push(data / store.till, store, db_url, hq_url)
        say("")
        say(run(POS_HQ, "--db", db_url, "status").rstrip())
        say(run(POS_HQ, "--db", db_url, "verify").rstrip())
        say(
            f"""
总部 HQ:        {hq_url}   数据库 database: {data / "hq.sqlite3"}   日志 log: {log}
门店 Stores:    {data / "SH01-01"} (SH01-01), {data / "SH02-01"} (SH02-01)
登录 Logins:    admin/admin123, manager/manager123, cashier/cashier123

看一看 Have a look:
  {POS_HQ} --db {db_url} status      # 每台收银机 what HQ holds of each till
  {POS_HQ} --db {db_url} verify      # 核对链与卡余额 chains and card balances
  {POS_HQ} --db {db_url} report sales --day YYYY-MM-DD
  {POS_APP} --data-dir {data / "SH01-01"} --json sync status
  {POS_APP} --data-dir {data / "SH01-01"}              # 打开收银台 open the till, sell …
  {POS_APP} --data-dir {data / "SH01-01"} sync push    # … and push it to HQ"""
        )
        if args.once:
            return 0
        say("\n总部运行中，按 Ctrl-C 停止 HQ keeps serving; Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            server.wait()
        return 0
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
