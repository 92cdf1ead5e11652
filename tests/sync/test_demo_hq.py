"""`scripts/run-demo --hq`'s non-interactive part (`demo_hq.py --once`): a local HQ, two demo
stores enrolled and pushed; run again, it reuses everything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sync_support.hq_process import free_port, pos_hq

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_hq.py"
POS_APP = Path(sys.executable).with_name("pos-app")


def demo(data: Path, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--data-dir", str(data), "--port", str(port)]
        + ["--members", "5", "--once"],
        capture_output=True,
        text=True,
        timeout=600,
    )


def local_entries(folder: Path) -> int:
    done = subprocess.run(
        [str(POS_APP), "--data-dir", str(folder), "--json", "sync", "status"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return int(json.loads(done.stdout)["head_seq"])


@pytest.mark.slow  # two stores made with their history, and nine CLI processes a run
def test_demo_hq_syncs_two_stores_to_a_local_hq_and_reruns(tmp_path):
    data = tmp_path / "demo-hq"
    first = demo(data, free_port())
    assert first.returncode == 0, first.stderr
    assert "SH01-01" in first.stdout and "SH02-01" in first.stdout
    assert "all correct" in first.stdout  # pos-hq verify's summary
    db_url = f"sqlite:///{data / 'hq.sqlite3'}"
    tills = {t["till"]: t for t in pos_hq(db_url, "status")["tills"]}
    assert sorted(tills) == ["SH01-01", "SH02-01"]
    for code, till in tills.items():
        assert till["store"] == code[:4]
        assert till["forks"] == 0
        assert till["entries"] == till["acked_seq"] == local_entries(data / code) > 0

    again = demo(data, free_port())  # HQ on another port: the tills enroll again
    assert again.returncode == 0, again.stderr
    assert "Enrolling till SH01-01 again" in again.stdout
    assert "Pushed SH01-01: 0 entries" in again.stdout  # (the re-enrollment is an audit row)
    assert {t["till"]: t["entries"] for t in pos_hq(db_url, "status")["tills"]} == {
        code: t["entries"] for code, t in tills.items()
    }
