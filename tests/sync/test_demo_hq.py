"""`scripts/run-demo --hq`'s non-interactive part (`demo_hq.py --once`): a local HQ, two demo
stores enrolled, pushed and pulled; an SH01 card spent at SH02 with HQ's online authorization,
its balance the same at SH01, SH02 and HQ; no conflicts; the month's clearing invariant holds;
the console answers. Run again, it reuses everything (and spends on the card once more)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hq.clearing import business_month
from hq.engine import open_engine
from hq.models import CardPosition, ChainCard
from pos_app.domain.money import parse_yuan
from tests.sync_support.hq_process import HqProcess, free_port, pos_hq

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_hq.py"
POS_APP = Path(sys.executable).with_name("pos-app")
BALANCES = re.compile(
    r"余额 Balance of (\S+): SH01-01 (\S+)  SH02-01 (\S+)  HQ (\S+)  一致 all agree"
)
SPENT = re.compile(r"Spent at SH02 by stored value: ¥([\d.]+), receipt SH02-01-")


def demo(data: Path, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--data-dir", str(data), "--port", str(port)]
        + ["--members", "5", "--once"],
        capture_output=True,
        text=True,
        timeout=600,
    )


def app_json(folder: Path, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [str(POS_APP), "--data-dir", str(folder), "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "POS_OPERATOR": "cashier", "POS_PASSWORD": "cashier123"},
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def yuan_fen(text: str) -> int:
    return parse_yuan(text.lstrip("¥"), allow_zero=True)


def hq_chain_balance(db_url: str, card_no: str) -> int:
    """Σ positions of every till on the card: HQ's own figure, read from its database."""
    engine = open_engine(db_url)
    try:
        with Session(engine) as s:
            total = s.scalar(
                select(func.sum(CardPosition.principal_fen + CardPosition.bonus_fen))
                .join(ChainCard, ChainCard.id == CardPosition.card_id)
                .where(ChainCard.card_no == card_no)
            )
    finally:
        engine.dispose()
    return int(total or 0)


def shared_card(out: str, data: Path, db_url: str) -> tuple[str, int]:
    """The shared card and its balance, as printed; checked against each till and HQ."""
    found = BALANCES.search(out)
    assert found is not None, out
    card_no = found[1]
    printed = {yuan_fen(found[i]) for i in (2, 3, 4)}
    assert len(printed) == 1
    fen = printed.pop()
    for till in ("SH01-01", "SH02-01"):
        assert app_json(data / till, "balance", card_no)["stored_value_fen"] == fen
    assert hq_chain_balance(db_url, card_no) == fen
    return card_no, fen


@pytest.mark.slow  # two stores made with their history, and some thirty CLI processes a run
def test_demo_hq_shares_a_card_between_two_stores_and_reruns(tmp_path: Path) -> None:
    data = tmp_path / "demo-hq"
    db_url = f"sqlite:///{data / 'hq.sqlite3'}"
    month = business_month(datetime.now(UTC).isoformat())

    port = free_port()
    first = demo(data, port)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "all correct" in out  # pos-hq verify's summary
    assert "HQ authorized it online" in out and "stood in offline" not in out
    assert "没有冲突 No conflicts" in out
    assert "核对正确 invariant holds" in out
    console = re.search(
        r"HQ console: (http://127\.0\.0\.1:\d+/console/)   登录 sign in: (\S+)", out
    )
    assert console is not None and console[2] == "hqadmin/hqadmin123"
    card_no, balance = shared_card(out, data, db_url)

    assert pos_hq(db_url, "conflicts")["conflicts"] == []
    statement = pos_hq(db_url, "clearing", "--month", month)
    assert statement["invariant_ok"] is True
    assert sorted(s["store"] for s in statement["stores"]) == ["SH01", "SH02"]
    assert [o["login"] for o in pos_hq(db_url, "operator", "list")["operators"]] == ["hqadmin"]
    tills = {t["till"]: t for t in pos_hq(db_url, "status")["tills"]}
    assert sorted(tills) == ["SH01-01", "SH02-01"]
    for code, till in tills.items():  # everything pushed, the mirrors of the last pull too
        assert till["store"] == code[:4]
        assert till["forks"] == 0
        assert (
            till["entries"]
            == till["acked_seq"]
            == app_json(data / code, "sync", "status")["head_seq"]
        )

    # The console answers at the printed address: signed out, it shows the sign-in form.
    assert console[1] == f"http://127.0.0.1:{port}/console/"
    with HqProcess(db_url, tmp_path / "hq.log", port):
        with urllib.request.urlopen(console[1], timeout=10) as page:
            assert page.geturl().endswith("/console/sign-in")
            html = page.read().decode()
        assert 'name="password"' in html and 'id="sign-in"' in html

    again = demo(data, free_port())  # HQ on another port: the tills enroll again
    assert again.returncode == 0, again.stderr
    assert "Enrolling till SH01-01 again" in again.stdout
    assert "Pushed SH01-01: 0 entries" in again.stdout  # (the re-enrollment is an audit row)
    assert "Made the HQ admin" not in again.stdout
    spent = SPENT.search(again.stdout)
    assert spent is not None
    assert shared_card(again.stdout, data, db_url) == (card_no, balance - yuan_fen(spent[1]))
    assert "核对正确 invariant holds" in again.stdout
