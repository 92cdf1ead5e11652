"""The HQ's HTTP side so far: `pos-hq serve` answering /health and /openapi.json."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from hq.cli import main

POS_HQ = Path(sys.executable).with_name("pos-hq")


def get(port: int, path: str) -> object:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
        return json.load(response)


def test_serve_answers_health_and_its_openapi_schema(hq_url):
    subprocess.run([POS_HQ, "--db", hq_url, "init"], check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [POS_HQ, "--db", hq_url, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = get(port, "/health")
                break
            except OSError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline, "pos-hq serve did not answer in 20 s"
                time.sleep(0.1)
        assert health == {"status": "ok", "schema_current": True}
        schema = get(port, "/openapi.json")
        assert isinstance(schema, dict)
        assert schema["info"]["title"] == "pos-hq"
        assert "/health" in schema["paths"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_refuses_a_database_that_is_not_set_up(hq_url):
    result = CliRunner().invoke(main, ["--db", hq_url, "--json", "serve", "--port", "1"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"] == "not_initialised"


def test_plain_http_is_refused_off_loopback(tmp_path):
    url = f"sqlite:///{tmp_path / 'hq.sqlite3'}"
    result = CliRunner().invoke(main, ["--db", url, "--json", "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"] == "invalid_input"
    half = CliRunner().invoke(main, ["--db", url, "--json", "serve", "--cert", __file__])
    assert half.exit_code == 2
