"""The fault proxy itself, in front of a small real HTTP server that records what reaches it."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.sync_support.fault_proxy import Fault, FaultKind, FaultProxy


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.bodies: list[bytes] = []
        self.partial: list[int] = []  # bytes received of requests whose body never completed
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._answer({"path": self.path})

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        if len(body) < length:
            with self.server.lock:
                self.server.partial.append(len(body))
            self.close_connection = True
            return
        with self.server.lock:
            self.server.bodies.append(body)
            count = len(self.server.bodies)
        self._answer({"received": len(body), "count": count})

    def _answer(self, data: object) -> None:
        payload = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def upstream() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream: Recorder) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", upstream.server_address[1]) as running:
        yield running


def post(conn: http.client.HTTPConnection, body: bytes) -> dict[str, int]:
    conn.request("POST", "/v1/tills/SH01-01/batches", body=body)
    response = conn.getresponse()
    assert response.status == 200
    answer: dict[str, int] = json.loads(response.read())
    return answer


def connect(proxy: FaultProxy) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)


def test_pass_forwards_requests_on_one_kept_alive_connection(proxy, upstream):
    conn = connect(proxy)
    assert post(conn, b"a" * 10) == {"received": 10, "count": 1}
    assert post(conn, b"b" * 70_000) == {"received": 70_000, "count": 2}
    conn.request("GET", "/v1/tills/SH01-01/head")
    assert json.loads(conn.getresponse().read()) == {"path": "/v1/tills/SH01-01/head"}
    conn.close()
    assert upstream.bodies == [b"a" * 10, b"b" * 70_000]
    assert [r.status for r in proxy.records] == [200, 200, 200]


def test_drop_closes_new_connections_and_nothing_reaches_the_server(proxy, upstream):
    proxy.set_fault(Fault.drop())
    conn = connect(proxy)
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        post(conn, b"lost")
    proxy.clear()
    assert post(connect(proxy), b"kept") == {"received": 4, "count": 1}
    assert upstream.bodies == [b"kept"]


def test_drop_matching_a_path_spares_other_requests(proxy, upstream):
    proxy.set_fault(Fault.drop(), match="POST ", times=1)
    conn = connect(proxy)
    conn.request("GET", "/v1/tills/SH01-01/head")
    assert conn.getresponse().read()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        post(conn, b"lost")
    assert proxy.faults_left() == 0  # used up: the proxy passes again
    assert post(connect(proxy), b"kept")["count"] == 1
    assert [r.fault for r in proxy.records] == [FaultKind.PASS, FaultKind.DROP, FaultKind.PASS]


def test_skip_lets_the_first_matching_requests_through(proxy, upstream):
    proxy.set_fault(Fault.cut_response(), match="/batches", times=1, skip=2)
    conn = connect(proxy)
    assert post(conn, b"1")["count"] == 1
    assert post(conn, b"2")["count"] == 2
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        post(conn, b"3")
    assert post(connect(proxy), b"4")["count"] == 4
    assert [r.fault for r in proxy.records] == [
        FaultKind.PASS,
        FaultKind.PASS,
        FaultKind.CUT_RESPONSE,
        FaultKind.PASS,
    ]


def test_delay_holds_each_request_back(proxy):
    proxy.set_fault(Fault.delay(300))
    conn = connect(proxy)
    started = time.monotonic()
    post(conn, b"slow")
    assert time.monotonic() - started >= 0.3
    proxy.clear()
    started = time.monotonic()
    post(conn, b"fast")
    assert time.monotonic() - started < 0.3


def test_cut_body_delivers_only_the_first_bytes(proxy, upstream):
    body = b"x" * 5000
    proxy.set_fault(Fault.cut_body(2000), times=1)
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        post(connect(proxy), body)
    deadline = time.monotonic() + 5
    while not upstream.partial and time.monotonic() < deadline:
        time.sleep(0.02)
    head_length = 2000 - upstream.partial[0]
    assert 0 < head_length < 2000  # the cut fell inside the body, after the whole head
    assert upstream.bodies == []
    assert proxy.records[0].status is None


def test_cut_response_lets_the_server_do_the_work_but_the_client_never_hears(proxy, upstream):
    proxy.set_fault(Fault.cut_response(), match="/batches", times=1)
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        post(connect(proxy), b"done-but-unheard")
    assert upstream.bodies == [b"done-but-unheard"]  # the server got and answered it
    assert proxy.records[0].status == 200
    assert json.loads(proxy.records[0].body) == {"received": 16, "count": 1}


def test_duplicate_replays_the_captured_bytes_on_a_new_connection(proxy, upstream):
    proxy.set_fault(Fault.duplicate(), times=1)
    assert post(connect(proxy), b"twice") == {"received": 5, "count": 1}
    assert upstream.bodies == [b"twice", b"twice"]
    assert [(r.status, json.loads(r.body)) for r in proxy.replays] == [
        (200, {"received": 5, "count": 2})
    ]


def test_a_captured_request_can_be_resent_later(proxy, upstream):
    post(connect(proxy), b"recorded")
    again = proxy.resend(proxy.records[0])
    assert again.status == 200 and json.loads(again.body)["count"] == 2
    assert upstream.bodies == [b"recorded", b"recorded"]
    assert proxy.replays == [again]


def test_close_ends_open_connections(upstream):
    proxy = FaultProxy("127.0.0.1", upstream.server_address[1]).start()
    conn = connect(proxy)
    post(conn, b"open")
    proxy.close()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        post(conn, b"after close")
    with pytest.raises(OSError):
        post(connect(proxy), b"new")
