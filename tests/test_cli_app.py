"""`pos-app` with no command starts the cashier app; `pos-app demo` starts it on the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pos_app.cli.main import cli
from pos_app.ui import till_app
from tests.conftest import StoreFixture
from tests.test_cli import POS_ENV, make_runner

NO_SCREEN = {"QT_QPA_PLATFORM": None, "DISPLAY": None, "WAYLAND_DISPLAY": None}


def _env(**extra: str | None) -> dict[str, str | None]:
    return {**dict.fromkeys(POS_ENV), **extra}


def test_no_screen_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    result = make_runner().invoke(
        cli, ["--lang", "en", "--data-dir", str(tmp_path)], env=_env(**NO_SCREEN)
    )
    assert result.exit_code == 1
    assert "No screen to show the app on" in result.stderr
    assert "--no-gui" in result.stderr


def test_no_store_in_the_folder_is_refused_before_any_window(tmp_path: Path) -> None:
    result = make_runner().invoke(
        cli, ["--lang", "en", "--data-dir", str(tmp_path / "none")], env=_env()
    )
    assert result.exit_code != 0
    assert "pos-app init" in result.stderr
    assert not (tmp_path / "none").exists()


def test_demo_starts_the_app_on_the_demo_store_after_the_walkthrough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, Any] = {}

    def fake_run_till(ctx: Any, data_dir: Path, *, language: str | None, demo: bool) -> int:
        started.update(store=ctx.store.code, data_dir=data_dir, language=language, demo=demo)
        return 0

    monkeypatch.setattr(till_app, "run_till", fake_run_till)
    data_dir = tmp_path / "demo"
    result = make_runner().invoke(
        cli, ["--data-dir", str(data_dir), "demo", "--members", "3"], env=_env()
    )
    assert result.exit_code == 0, result.stderr
    assert "cashier123" in result.stdout  # the walkthrough came first
    assert started == {"store": "DEMO01", "data_dir": data_dir, "language": None, "demo": True}


def test_no_command_starts_the_app_on_the_store_in_the_language_asked(
    store: StoreFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str | None, bool]] = []
    monkeypatch.setattr(
        till_app,
        "run_till",
        lambda ctx, d, *, language, demo: seen.append((ctx.store.code, language, demo)) or 0,
    )
    data = ["--data-dir", str(store.data_dir)]
    assert make_runner().invoke(cli, ["--lang", "en", *data], env=_env()).exit_code == 0
    assert make_runner().invoke(cli, data, env=_env()).exit_code == 0
    assert seen == [("SH01", "en", False), ("SH01", None, False)]  # None: settings.toml's
