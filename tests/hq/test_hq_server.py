"""`pos-hq serve`: /health and /openapi.json, HTTPS with HQ's own certificate, and plain
HTTP refused off loopback."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import trustme
from click.testing import CliRunner

from hq.cli import main
from tests.hq.signing_till import SigningTill, body_of, chain, enroll

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
        for path in ("/v1/enroll", "/v1/tills/{till}/batches", "/v1/tills/{till}/head"):
            assert path in schema["paths"], path
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_speaks_https_with_its_own_certificate(hq_url, tmp_path):
    """HQ's certificate is issued by a CA of HQ's own (trustme stands in for it): a client
    that trusts that CA gets /health over HTTPS, one that does not is refused, and plain HTTP
    to the port gets no answer. With a certificate HQ may listen beyond loopback."""
    subprocess.run([POS_HQ, "--db", hq_url, "init"], check=True, capture_output=True)
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    cert, key, ca_file = tmp_path / "hq.pem", tmp_path / "hq.key", tmp_path / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    server = subprocess.Popen(
        [POS_HQ, "--db", hq_url, "serve", "--host", "0.0.0.0", "--port", str(port)]
        + ["--cert", str(cert), "--key", str(key)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    trusting = httpx.Client(verify=ssl.create_default_context(cafile=str(ca_file)), timeout=2)
    untrusting = httpx.Client(verify=ssl.create_default_context(), timeout=2)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = trusting.get(f"https://127.0.0.1:{port}/health")
                break
            except httpx.ConnectError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline, "pos-hq serve did not answer in 20 s"
                time.sleep(0.1)
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "schema_current": True}
        assert health.http_version == "HTTP/1.1"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusting.get(f"https://127.0.0.1:{port}/health")
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    finally:
        trusting.close()
        untrusting.close()
        server.terminate()
        server.wait(timeout=10)


def test_two_worker_processes_share_the_nonces_and_the_chain(hq_url):
    """`--workers 2`: requests land on either process; a replay is refused by both, and
    batches sent at once to both append once."""
    subprocess.run([POS_HQ, "--db", hq_url, "init"], check=True, capture_output=True)
    cli = ["--db", hq_url, "--json"]
    assert CliRunner().invoke(main, [*cli, "store", "add", "--code", "SH01", "--name", "店"])
    issued = CliRunner().invoke(main, [*cli, "till", "enroll", "--store", "SH01"])
    token = json.loads(issued.stdout)["token"]
    port = free_port()
    server = subprocess.Popen(
        [POS_HQ, "--db", hq_url, "serve", "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    till = SigningTill("SH01-01")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    assert server.poll() is None, server.communicate()
                    assert time.monotonic() < deadline, "pos-hq serve did not answer in 30 s"
                    time.sleep(0.1)
            assert enroll(client, till, token).status_code == 200
            path = "/v1/tills/SH01-01/batches"
            body = body_of({"entries": chain(20), "rows": []})
            headers = till.headers("POST", path, body, nonce="replayed-across-workers-01")
            assert client.post(path, content=body, headers=headers).status_code == 200
            for _ in range(6):  # fresh connections: the copies reach both workers
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as other:
                    again = other.post(path, content=body, headers=headers)
                    assert again.status_code == 409, again.text
            more = body_of({"entries": chain(60)[20:], "rows": []})
            with ThreadPoolExecutor(4) as pool:
                answers = list(
                    pool.map(
                        lambda _: httpx.post(
                            f"http://127.0.0.1:{port}{path}",
                            content=more,
                            headers=till.headers("POST", path, more),
                            timeout=10,
                        ),
                        range(4),
                    )
                )
            assert sorted(a.json()["accepted"] for a in answers) == [0, 0, 0, 40]
            head_path = "/v1/tills/SH01-01/head"
            head = client.get(head_path, headers=till.headers("GET", head_path)).json()
            assert head["acked_seq"] == 60
    finally:
        server.terminate()
        server.wait(timeout=20)
    verified = json.loads(CliRunner().invoke(main, [*cli, "verify"]).stdout)
    assert verified["entries"] == 60
    assert [p for p in verified["problems"] if "till" in p] == []  # the chain is whole
