"""`pos-app sync pull` as a script drives it: one JSON object {"items", "cursor",
"pulled_at", …}, `sync status` showing the last pull, exit 4 while HQ cannot be reached."""

from __future__ import annotations

from tests.conftest import StoreFixture
from tests.sync.conftest import HqServer
from tests.sync.test_sync_cli import _json, _run
from tests.test_cli import one_json


def test_pull_status_and_hq_down(till: StoreFixture, hq_lite: HqServer) -> None:
    _json(till, "sync", "setup", "--hq", hq_lite.url, "--token", hq_lite.enroll(), as_="manager")
    _json(till, "sync", "push")
    pulled = _json(till, "sync", "pull")
    # Its own store came back from HQ: an item, applied to nothing (the till's own row).
    assert pulled["items"] == 1 and pulled["applied"] == 0
    assert pulled["cursor"] >= 1 and pulled["pulled_at"] is not None
    status = _json(till, "sync", "status")
    assert (status["feed_cursor"], status["pulled_at"]) == (pulled["cursor"], pulled["pulled_at"])
    again = _json(till, "sync", "pull")
    assert (again["items"], again["cursor"]) == (0, pulled["cursor"])

    hq_lite.kill()
    down = _run(till, "sync", "pull")
    assert down.exit_code == 4, (down.stdout, down.stderr)
    assert "HQ cannot be reached" in down.stderr
    as_json = _run(till, "--json", "sync", "pull")
    assert as_json.exit_code == 4
    body = one_json(as_json.stdout)
    assert body["result"] == "unreachable" and body["cursor"] == pulled["cursor"]
    assert _json(till, "sync", "status")["pulled_at"] == again["pulled_at"]
