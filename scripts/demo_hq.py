"""`scripts/run-demo --hq`: a local HQ with two demo stores sharing a card, and its console.

    demo_hq.py [--data-dir DIR] [--port 8765] [--members 50] [--once]

In DIR (default: the user data folder's "demo-hq"): HQ's database `hq.sqlite3` (SQLite, the
zero-setup default) served by `pos-hq serve` on 127.0.0.1:PORT (log in `hq.log`), and two
stores, SH01 (till SH01-01) and SH02 (till SH02-01), each made once with its own demo members,
a few weeks of history and a day at the till. Each till is enrolled at HQ the way a real one is
(`pos-hq till enroll` → one-time token → `pos-app sync setup`), pushes (`pos-app sync push`)
and pulls the chain's news (`pos-app sync pull`). Then one card is shared: an SH01 member's
card pays at SH02 by stored value through `pos-app sale` — HQ authorizes it online — and after
the tills push and pull again the card's balance is shown as SH01, SH02 and the HQ console see
it, with `pos-hq conflicts` and the month's clearing statement (`pos-hq clearing --month`).
It makes an HQ admin for the console, prints where everything is, the logins and the commands
to look, then keeps HQ serving until Ctrl-C (--once: stops HQ and exits, which is what the test
runs). Running it again reuses everything, pushes what is new and spends on the card again.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.models import Card, Member, own_store
from hq.clearing import business_month
from hq.engine import open_engine
from hq.models import ChainCard, Hold
from pos_app.cli.invocation import default_data_dir
from pos_app.demo_store import DEMO_LOGINS
from pos_app.domain.errors import NotInitialized
from pos_app.domain.money import format_fen, parse_yuan
from pos_app.domain.permissions import Permission
from pos_app.services.context import StoreContext, open_store
from pos_app.services.demo_data import fill_demo_store
from pos_app.services.demo_day import DAY_MEMBERS, DayMember, run_demo_day
from pos_app.services.rules import load_rules
from pos_app.services.sign_in import approve, sign_in
from pos_app.services.store_setup import add_operator, init_store

BIN = Path(sys.executable).parent
POS_APP = str(BIN / "pos-app")
POS_HQ = str(BIN / "pos-hq")
LOGINS = {login.login: login for login in DEMO_LOGINS}
# The console's HQ admin; public like the stores' demo logins (printed with them).
HQ_ADMIN = ("hqadmin", "hqadmin123", "总部管理员")
SHARED_SALE = "V001:2"  # what the SH01 member buys at SH02 with the card
FLOAT = "500"


@dataclass(frozen=True)
class DemoStore:
    code: str
    name: str
    seed: int  # each store its own members: mobiles and card numbers are unique chain-wide
    day_members: tuple[DayMember, DayMember]

    @property
    def till(self) -> str:
        return f"{self.code}-01"


SH01 = DemoStore("SH01", "上海南京路店", 2026, DAY_MEMBERS)
SH02 = DemoStore(
    "SH02",
    "上海徐家汇店",
    2027,
    (("13900002001", "郑十", "DAY00003"), ("13900002002", "冯十一", "DAY00004")),
)
STORES = (SH01, SH02)


def say(text: str) -> None:
    print(text, flush=True)


def credentials(login: str) -> dict[str, str]:
    return {"POS_OPERATOR": login, "POS_PASSWORD": LOGINS[login].password}


def run(
    *args: str,
    env: dict[str, str] | None = None,
    ok: tuple[int, ...] = (0,),
    stdin: str | None = None,
) -> str:
    done = subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **(env or {})},
    )
    if done.returncode not in ok:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"失败 Failed ({done.returncode}): {' '.join(args)}")
    return done.stdout


def last_json(out: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return answer


def hq_json(db_url: str, *args: str, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    return last_json(run(POS_HQ, "--db", db_url, "--json", *args, ok=ok))


def app_json(folder: Path, *args: str, login: str | None = None) -> dict[str, Any]:
    env = credentials(login) if login else None
    return last_json(run(POS_APP, "--data-dir", str(folder), "--json", *args, env=env))


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
        fill_demo_store(ctx, actor, members, seed=store.seed)
        cashiers = tuple(
            sign_in(ctx, LOGINS[name].login, LOGINS[name].password)
            for name in ("cashier", "manager", "cashier2")
        )
        manager = LOGINS["manager"]
        approval = approve(ctx, manager.login, manager.password, Permission.CARD_CANCEL)
        run_demo_day(ctx, (cashiers[0], cashiers[1], cashiers[2]), approval, store.day_members)
    finally:
        ctx.engine.dispose()


def make_hq_admin(db_url: str) -> None:
    """The console's HQ admin, once (the password goes on stdin, never on a command line)."""
    login, password, name = HQ_ADMIN
    known = hq_json(db_url, "operator", "list")["operators"]
    if any(o["login"] == login for o in known):
        return
    run(
        *(POS_HQ, "--db", db_url, "operator", "add", login, "--name", name),
        *("--role", "admin", "--scope", "hq", "--password-stdin"),
        stdin=password + "\n",
    )
    say(f"总部管理员 Made the HQ admin {login} for the console")


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


def connect(folder: Path, store: DemoStore, db_url: str, hq_url: str) -> None:
    manager = credentials("manager")
    status = app_json(folder, "sync", "status")
    setup = [POS_APP, "--data-dir", str(folder), "sync", "setup", "--hq", hq_url]
    if not status["configured"]:
        enrolled = hq_json(db_url, "till", "enroll", "--store", store.code)
        say(f"登记收银机 Enrolling till {enrolled['till']} with a one-time token")
        run(*setup, "--token", enrolled["token"], env=manager)
    elif status["hq_url"] != hq_url:  # HQ moved (another --port): enroll again, new key
        enrolled = hq_json(db_url, "till", "enroll", "--store", store.code, "--till", store.till)
        say(f"重新登记收银机 Enrolling till {store.till} again at {hq_url}")
        run(*setup, "--token", enrolled["token"], "--reenroll", env=manager)


def push(folder: Path, store: DemoStore) -> dict[str, Any]:
    pushed = app_json(folder, "sync", "push")
    say(
        f"推送 Pushed {store.till}: {pushed['sent_entries']} entries, "
        f"{pushed['sent_rows']} rows; HQ holds up to #{pushed['acked_seq']}"
    )
    return pushed


def pull(folder: Path, store: DemoStore) -> dict[str, Any]:
    pulled = app_json(folder, "sync", "pull")
    say(
        f"拉取 Pulled {store.till}: {pulled['items']} items from HQ, "
        f"{pulled['applied']} applied; feed cursor #{pulled['cursor']}"
    )
    return pulled


def shared_card(folder: Path) -> tuple[str, str, str]:
    """(card number, member number, name) of the SH01 member card holding the most stored
    value: a physical card without a PIN, so a CLI sale needs nothing typed in."""
    ctx = open_store(folder)
    try:
        with read_session(ctx.engine) as s:
            home = s.scalars(own_store()).one()
            row = s.execute(
                select(Card.card_no, Member.member_no, Member.name)
                .join(Member, Member.id == Card.member_id)
                .where(
                    Member.store_id == home.id,
                    Card.state == "active",
                    Card.pin_hash.is_(None),
                    Card.media != "virtual",  # a virtual card's number is the mobile
                    Card.principal_fen + Card.bonus_fen > 0,
                )
                .order_by((Card.principal_fen + Card.bonus_fen).desc(), Card.card_no)
                .limit(1)
            ).one_or_none()
    finally:
        ctx.engine.dispose()
    if row is None:
        raise SystemExit("SH01 没有有余额的会员卡 SH01 has no member card holding stored value")
    return row[0], row[1], row[2]


def sell_with_card(folder: Path, card_no: str) -> dict[str, Any]:
    """The cashier sells at the till paying by the card's stored value, in their own shift
    (opened with a float when they have none yet; a re-run finds it open)."""
    if app_json(folder, "shift", "status", login="cashier")["shift"] is None:
        app_json(folder, "shift", "open", "--float", FLOAT, login="cashier")
    return app_json(
        folder,
        *("sale", "--card", card_no, "--line", SHARED_SALE, "--pay", "stored_value"),
        login="cashier",
    )


def hq_hold(db_url: str, card_no: str) -> tuple[str, int, str] | None:
    """HQ's newest hold on the card: (id, amount in fen, state) — `confirmed` once the till's
    sale entry naming it has arrived."""
    engine = open_engine(db_url)
    try:
        with Session(engine) as s:
            row = s.execute(
                select(Hold.id, Hold.amount_fen, Hold.state)
                .join(ChainCard, ChainCard.id == Hold.card_id)
                .where(ChainCard.card_no == card_no)
                .order_by(Hold.created_at.desc())
                .limit(1)
            ).one_or_none()
    finally:
        engine.dispose()
    return None if row is None else (row[0], row[1], row[2])


class Console:
    """The HQ console over HTTP, as a browser signs in to it (cookie session, CSRF form)."""

    def __init__(self, hq_url: str) -> None:
        self.base = f"{hq_url}/console"
        self.http = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.http.open(f"{self.base}{path}", timeout=10) as response:
            return str(response.read().decode("utf-8"))

    def sign_in(self, login: str, password: str) -> None:
        found = re.search(r'name="csrf" value="([^"]*)"', self.get("/sign-in"))
        form = {"login": login, "password": password, "csrf": found[1] if found else ""}
        body = urllib.parse.urlencode(form).encode()
        with self.http.open(f"{self.base}/sign-in", data=body, timeout=10) as response:
            if "/console/dashboard" not in response.geturl():
                raise SystemExit(f"控制台登录失败 Console sign-in failed for {login}")

    def card_balance_fen(self, card_no: str) -> int:
        """The card's chain balance as its page shows it (lookup by number → the card)."""
        page = self.get(f"/lookup?q={urllib.parse.quote(card_no)}")
        found = re.search(r'<dd id="total"[^>]*>([^<]+)</dd>', page)
        if found is None:
            raise SystemExit(f"控制台找不到这张卡 The console did not show card {card_no}")
        text = found[1].strip()
        fen = parse_yuan(text.lstrip("-").lstrip("¥").replace(",", ""), allow_zero=True)
        return -fen if text.startswith("-") else fen


def show_shared_card(data: Path, db_url: str, hq_url: str) -> None:
    """An SH01 card pays at SH02; then the card as each side sees it."""
    card_no, member_no, name = shared_card(data / SH01.till)
    say(
        "\n一卡通 One card across the chain: "
        f"SH01 的会员卡 SH01's card {card_no} ({member_no} {name})"
    )
    before = app_json(data / SH02.till, "balance", card_no, login="cashier")
    if before["member_no"] != member_no:  # SH02 has a card of that number of its own
        raise SystemExit(
            f"{data} 由旧版演示建立，两店的会员与卡号重复；请删除后重新运行 / {data} was made "
            "by an older demo that gave both stores the same members and cards: remove it "
            "and run again"
        )
    say(
        "SH02 从总部得知余额 SH02 knows its balance from HQ: "
        + format_fen(before["stored_value_fen"])
    )
    sale = sell_with_card(data / SH02.till, card_no)
    standin = any("离线" in note for note in sale["receipt"]["notes"])
    say(
        f"在 SH02 用储值消费 Spent at SH02 by stored value: {format_fen(sale['total_fen'])}, "
        f"receipt {sale['receipt_no']}" + ("（离线授权 stood in offline）" if standin else "")
    )
    push(data / SH02.till, SH02)
    hold = hq_hold(db_url, card_no)
    if hold is not None and not standin:
        say(
            f"总部在线授权 HQ authorized it online: hold {hold[0]} {format_fen(hold[1])}, {hold[2]}"
        )
    pull(data / SH01.till, SH01)
    push(data / SH01.till, SH01)
    pull(data / SH02.till, SH02)
    push(data / SH02.till, SH02)

    login, password, _ = HQ_ADMIN
    console = Console(hq_url)
    console.sign_in(login, password)
    seen = {
        SH01.till: app_json(data / SH01.till, "balance", card_no, login="cashier"),
        SH02.till: app_json(data / SH02.till, "balance", card_no, login="cashier"),
    }
    balances = {till: int(b["stored_value_fen"]) for till, b in seen.items()}
    balances["HQ"] = console.card_balance_fen(card_no)
    agree = len(set(balances.values())) == 1
    say(
        "余额 Balance of "
        + card_no
        + ": "
        + "  ".join(f"{who} {format_fen(fen)}" for who, fen in balances.items())
        + ("  一致 all agree" if agree else "  不一致 THEY DISAGREE")
    )
    if not agree:
        raise SystemExit("三方余额不一致 The balances disagree")


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
    month = business_month(datetime.now(UTC).isoformat())

    hq_json(db_url, "init")
    for store in STORES:
        hq_json(db_url, "store", "add", "--code", store.code, "--name", store.name, ok=(0, 1))
    make_hq_admin(db_url)
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
            connect(data / store.till, store, db_url, hq_url)
            push(data / store.till, store)
        for store in STORES:
            pull(data / store.till, store)
        show_shared_card(data, db_url, hq_url)
        say("")
        say(run(POS_HQ, "--db", db_url, "status").rstrip())
        say(run(POS_HQ, "--db", db_url, "verify").rstrip())
        say(run(POS_HQ, "--db", db_url, "conflicts").rstrip())
        say(run(POS_HQ, "--db", db_url, "clearing", "--month", month).rstrip())
        hq = f"{POS_HQ} --db {db_url}"
        sh01 = f"{POS_APP} --data-dir {data / SH01.till}"
        say(
            f"""
总部 HQ:        {hq_url}   数据库 database: {data / "hq.sqlite3"}   日志 log: {log}
总部控制台 HQ console: {hq_url}/console/   登录 sign in: {HQ_ADMIN[0]}/{HQ_ADMIN[1]}
门店 Stores:    {data / SH01.till} ({SH01.till}), {data / SH02.till} ({SH02.till})
登录 Logins:    admin/admin123, manager/manager123, cashier/cashier123

看一看 Have a look:
  {hq} status      # 每台收银机 what HQ holds of each till
  {hq} verify      # 核对链与卡余额 chains and card balances
  {hq} conflicts   # 跨店冲突 conflicts across the chain
  {hq} clearing --month {month} --xlsx clearing.xlsx --pdf clearing.pdf   # 月结算
  {hq} report sales --day YYYY-MM-DD
  {sh01} --json sync status
  {sh01} sync pull     # 拉取总部数据 take HQ's news
  {sh01}              # 打开收银台 open the till, sell …
  {sh01} sync push    # … and push it to HQ"""
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
