"""The console's session key: from POS_HQ_SECRET, else made once next to the database and
kept, so a restart does not sign everyone out and a forged cookie is refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from hq import migrate
from hq.console.session_secret import ENVIRONMENT, secret_file, session_secret
from hq.engine import open_engine
from hq.server import create_app
from tests.console.chain_seed import PASSWORD, seed_chain


def test_the_environment_wins_and_must_be_long(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    url = make_url(f"sqlite:///{tmp_path / 'hq.sqlite3'}")
    monkeypatch.setenv(ENVIRONMENT, "x" * 40)
    assert session_secret(url) == "x" * 40
    assert not secret_file(url).exists()
    monkeypatch.setenv(ENVIRONMENT, "short")
    with pytest.raises(ValueError, match="32"):
        session_secret(url)


def test_a_file_next_to_the_database_is_made_once_and_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    url = make_url(f"sqlite:///{tmp_path / 'hq.sqlite3'}")
    first = session_secret(url)
    path = secret_file(url)
    assert path == tmp_path / "hq.sqlite3.console-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and session_secret(url) == first
    other = make_url(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert session_secret(other) != first


def test_a_cookie_signed_with_another_key_is_not_a_session(tmp_path: Path):
    engine = open_engine(f"sqlite:///{tmp_path / 'hq.sqlite3'}")
    migrate.upgrade(engine)
    seed_chain(engine)
    try:
        with TestClient(create_app(engine, console_secret="a" * 40)) as one:
            page = one.get("/console/sign-in").text
            token = page.split('name="csrf" value="')[1].split('"')[0]
            signed_in = one.post(
                "/console/sign-in",
                data={"login": "admin", "password": PASSWORD, "csrf": token},
                follow_redirects=False,
            )
            assert signed_in.status_code == 303
            cookie = one.cookies.get("pos_hq_console")
            assert cookie and one.get("/console/dashboard").status_code == 200
        with TestClient(create_app(engine, console_secret="b" * 40)) as two:
            two.cookies.set("pos_hq_console", cookie, path="/console")
            assert two.get("/console/dashboard", follow_redirects=False).status_code == 303
    finally:
        engine.dispose()
