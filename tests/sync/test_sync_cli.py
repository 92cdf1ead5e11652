"""`pos-app sync setup | push | status` as a script drives them: exit codes, one JSON object."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from click.testing import Result

from pos_app.cli.main import cli
from pos_app.services.context import DB_FILENAME
from tests.conftest import PASSWORD, StoreFixture
from tests.sync.conftest import HqServer
from tests.sync.support import add_entries
from tests.test_cli import POS_ENV, make_runner, one_json


def _run(till: StoreFixture, *args: str, as_: str | None = None) -> Result:
    env: dict[str, str | None] = dict.fromkeys(POS_ENV)
    env["POS_KEY_DIR"] = str(till.ctx.key_dir)
    if as_:
        env.update(POS_OPERATOR=as_, POS_PASSWORD=PASSWORD)
    argv = ["--data-dir", str(till.data_dir), *args]
    return make_runner().invoke(cli, argv, env=env, catch_exceptions=False)


def _json(till: StoreFixture, *args: str, code: int = 0, **kw: Any) -> dict[str, Any]:
    result = _run(till, "--json", *args, **kw)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return one_json(result.stdout)


def test_setup_push_status_and_hq_down(till: StoreFixture, hq_lite: HqServer):
    status = _json(till, "sync", "status")
    assert {"pending", "acked_seq", "head_seq", "last_ok"} <= set(status)
    assert status["configured"] is False and status["pending"] > 0
    setup = _json(
        till, "sync", "setup", "--hq", hq_lite.url, "--token", hq_lite.enroll(), as_="manager"
    )
    assert setup["till_id"] == "SH01-01"
    add_entries(till, 30)
    pushed = _json(till, "sync", "push")
    assert pushed["ok"] is True and pushed["pending"] == 0
    status = _json(till, "sync", "status")
    assert status["pending"] == 0 and status["acked_seq"] == status["head_seq"]
    assert status["last_ok"] is not None

    hq_lite.kill()  # now nobody listens on HQ's port
    add_entries(till, 3)
    down = _run(till, "sync", "push")
    assert down.exit_code == 4, (down.stdout, down.stderr)
    assert "3 条待同步" in down.stderr and "HQ cannot be reached: 3 pending" in down.stderr
    status = _json(till, "sync", "status")
    assert status["pending"] == 3 and status["unreachable_since"] is not None
    as_json = _run(till, "--json", "sync", "push")
    assert as_json.exit_code == 4
    assert one_json(as_json.stdout)["result"] == "unreachable"

    hq_lite.start()
    assert _run(till, "sync", "push").exit_code == 0
    assert _json(till, "sync", "status")["unreachable_since"] is None


def test_setup_refusals_are_bilingual(till: StoreFixture, hq_lite: HqServer):
    result = _run(
        till, "sync", "setup", "--hq", "http://192.0.2.1:8000", "--token", "t", as_="manager"
    )
    assert result.exit_code == 1
    assert "https" in result.stderr
    result = _run(till, "--lang", "en", "sync", "setup", "--hq", hq_lite.url, "--token", "x",
                  as_="manager")  # fmt: skip
    assert result.exit_code == 1 and "enroll_token_invalid" in result.stderr
    assert _run(till, "sync", "push").exit_code == 1  # not set up


def test_a_fork_stops_pushing_with_exit_3(till: StoreFixture, hq_lite: HqServer, tmp_path: Path):
    _json(till, "sync", "setup", "--hq", hq_lite.url, "--token", hq_lite.enroll(), as_="manager")
    add_entries(till, 5)
    assert _run(till, "sync", "push").exit_code == 0
    # An older copy of the database: taken now, put back after HQ got more.
    copy = tmp_path / "older"
    copy.mkdir()
    till.ctx.engine.dispose()
    for name in (DB_FILENAME, DB_FILENAME + "-wal"):
        if (till.data_dir / name).exists():
            shutil.copy(till.data_dir / name, copy / name)
    add_entries(till, 4)
    assert _run(till, "sync", "push").exit_code == 0
    held = hq_lite.tills()["SH01-01"]["acked_seq"]
    till.ctx.engine.dispose()
    for name in (DB_FILENAME, DB_FILENAME + "-wal", DB_FILENAME + "-shm"):
        (till.data_dir / name).unlink(missing_ok=True)
        if (copy / name).exists():
            shutil.copy(copy / name, till.data_dir / name)
    add_entries(till, 6)  # a different history under seqs HQ holds
    forked = _run(till, "sync", "push")
    assert forked.exit_code == 3, (forked.stdout, forked.stderr)
    assert "分叉" in forked.stderr and "Fork" in forked.stderr
    status = _json(till, "sync", "status")
    assert status["fork_seq"] == held
    hq_lite.kill()  # a recorded fork stops pushing: no request is even made
    again = _run(till, "--json", "sync", "push")
    assert again.exit_code == 3 and one_json(again.stdout)["fork_seq"] == held


def test_restore_on_the_cli_shows_progress_and_verifies(
    till: StoreFixture, hq_lite: HqServer, tmp_path: Path
):
    _json(till, "sync", "setup", "--hq", hq_lite.url, "--token", hq_lite.enroll(), as_="manager")
    add_entries(till, 1500)
    assert _run(till, "sync", "push").exit_code == 0
    head = hq_lite.tills()["SH01-01"]["acked_seq"]
    token = hq_lite.enroll(till="SH01-01")
    new_disk = StoreFixture(
        till.ctx, till.clock, till.admin, till.manager, till.cashier, tmp_path / "new-data"
    )
    new_disk.ctx.key_dir = tmp_path / "new-keys"
    result = _run(new_disk, "--json", "sync", "restore", "--hq", hq_lite.url, "--token", token)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    data = one_json(result.stdout)
    assert data["verified"] is True and data["head_seq"] == head and data["entries"] == head
    assert f"{head}/{head}" in result.stderr  # entries fetched / total
    again = _run(new_disk, "--lang", "en", "sync", "restore", "--hq", hq_lite.url,
                 "--token", token)  # fmt: skip
    assert again.exit_code == 1 and "empty data folder" in again.stderr
    verify = _run(new_disk, "--json", "verify")
    assert verify.exit_code == 0, verify.stdout
    status = _json(new_disk, "sync", "status")
    assert status["acked_seq"] == head and status["head_seq"] > head
