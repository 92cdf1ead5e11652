"""A TCP proxy in front of HQ that the tests steer: pass, drop, delay, cut a request body,
cut a response after HQ has processed the request, or replay a request a second time.

It reads plain HTTP/1.1 (HQ on loopback speaks it), one request at a time per connection, so a
fault can target a request by its request line ("POST /v1/tills/") and the tests can see what
happened (`records`, `replays`). Each accepted connection runs in its own thread; `close()`
stops accepting and shuts every open connection.

The fault in force is replaced at run time with `set_fault(fault, match=..., times=...)`: it
applies to the next `times` requests whose request line contains `match` (all of them when
`times` is None), then the proxy goes back to passing.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import Enum

HEAD_LIMIT = 64 * 1024
IO_TIMEOUT = 30.0


class FaultKind(Enum):
    PASS = "pass"
    DROP = "drop"  # close the client's connection (RST) without forwarding anything
    DELAY = "delay"  # wait `amount` ms before forwarding the request
    CUT_BODY = "cut_body"  # forward the first `amount` bytes of the request, then close
    CUT_RESPONSE = "cut_response"  # forward it all, wait for HQ's answer, then close unanswered
    DUPLICATE = "duplicate"  # forward; send the same bytes again on a new connection; answer


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    amount: int = 0

    @classmethod
    def passing(cls) -> Fault:
        return cls(FaultKind.PASS)

    @classmethod
    def drop(cls) -> Fault:
        return cls(FaultKind.DROP)

    @classmethod
    def delay(cls, ms: int) -> Fault:
        return cls(FaultKind.DELAY, ms)

    @classmethod
    def cut_body(cls, after_bytes: int) -> Fault:
        """Cut `after_bytes` into the request as sent (its head counts): inside the body when
        that is more than the head's length."""
        return cls(FaultKind.CUT_BODY, after_bytes)

    @classmethod
    def cut_response(cls) -> Fault:
        return cls(FaultKind.CUT_RESPONSE)

    @classmethod
    def duplicate(cls) -> Fault:
        return cls(FaultKind.DUPLICATE)


@dataclass(frozen=True)
class Exchange:
    """One request as the proxy saw it: its request line, the fault applied, HQ's status
    (None when HQ never answered: dropped or cut mid-body), HQ's response body, and the
    request's bytes as sent (for `resend`)."""

    request_line: str
    fault: FaultKind
    status: int | None
    body: bytes = b""
    request: bytes = field(default=b"", repr=False)


@dataclass
class _Rule:
    fault: Fault
    match: str
    times: int | None
    skip: int = 0


@dataclass
class _Message:
    head: bytes
    body: bytes
    first_line: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def raw(self) -> bytes:
        return self.head + self.body


class _Closed(Exception):
    """The peer closed its side before a whole message arrived."""


class _Reader:
    """Buffered reads of HTTP/1.1 messages off a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not self._fill():
                raise _Closed
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                raise _Closed
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line + b"\r\n"

    def head(self) -> tuple[bytes, str, dict[str, str]] | None:
        """The next message's head, or None when the peer closed cleanly between messages."""
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > HEAD_LIMIT:
                raise ValueError("HTTP head too long")
            if not self._fill():
                if self.buffer:
                    raise _Closed
                return None
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return head + b"\r\n\r\n", lines[0], headers

    def body(self, headers: dict[str, str], until_close: bool) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size_line = self._line()
                parts.append(size_line)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:  # trailers, then the empty line
                        trailer = self._line()
                        parts.append(trailer)
                        if trailer == b"\r\n":
                            return b"".join(parts)
                parts.append(self._take(size + 2))
        if "content-length" in headers:
            return self._take(int(headers["content-length"]))
        if not until_close:
            return b""
        while self._fill():
            pass
        data, self.buffer = self.buffer, b""
        return data

    def request(self) -> _Message | None:
        head = self.head()
        if head is None:
            return None
        raw_head, line, headers = head
        return _Message(raw_head, self.body(headers, until_close=False), line, headers)

    def response(self, request_line: str) -> _Message:
        while True:
            head = self.head()
            if head is None:
                raise _Closed
            raw_head, line, headers = head
            status = _status(line)
            if 100 <= status < 200:
                continue  # interim answers are not forwarded: the client never asked for them
            no_body = request_line.startswith("HEAD ") or status in (204, 304)
            body = b"" if no_body else self.body(headers, until_close=True)
            return _Message(raw_head, body, line, headers)


def _status(status_line: str) -> int:
    parts = status_line.split(" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _reset(sock: socket.socket) -> None:
    """Close with an RST, as a dropped link or a dead peer looks to the other side."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with suppress(OSError):
        sock.close()


class FaultProxy:
    """`with FaultProxy("127.0.0.1", hq_port) as proxy:` then talk to `proxy.url`."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.records: list[Exchange] = []
        self.replays: list[Exchange] = []
        self._lock = threading.Lock()
        self._rule = _Rule(Fault.passing(), "", None)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._acceptor = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_upstream(self, host: str, port: int) -> None:
        """Forward new connections elsewhere (HQ restarted on another port)."""
        with self._lock:
            self.upstream = (host, port)

    def set_fault(
        self, fault: Fault, *, match: str = "", times: int | None = None, skip: int = 0
    ) -> None:
        """`fault` for the next `times` requests matching `match`, after `skip` of them
        have passed untouched (the 3rd batch of a push: match="/batches", skip=2)."""
        with self._lock:
            self._rule = _Rule(fault, match, times, skip)

    def clear(self) -> None:
        self.set_fault(Fault.passing())

    @contextmanager
    def fault(
        self, fault: Fault, *, match: str = "", times: int | None = None, skip: int = 0
    ) -> Iterator[None]:
        self.set_fault(fault, match=match, times=times, skip=skip)
        try:
            yield
        finally:
            self.clear()

    def faults_left(self) -> int | None:
        """How many more requests the fault in force will hit (None: no limit; 0: passing)."""
        with self._lock:
            if self._rule.fault.kind is FaultKind.PASS:
                return 0
            return self._rule.times

    def start(self) -> FaultProxy:
        self._acceptor.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        self._acceptor.join(timeout=5)
        with suppress(OSError):
            self._listener.close()
        with self._lock:
            still_open = list(self._open)
        for sock in still_open:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- inside -------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._take_fault("").kind is FaultKind.DROP:
                _reset(client)
                continue
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _take_fault(self, request_line: str) -> Fault:
        """The fault for this request (counting it down). At accept time (request_line "")
        only an unconditional drop applies: nothing is known of the request yet."""
        with self._lock:
            rule = self._rule
            passing = Fault.passing()
            if rule.fault.kind is FaultKind.PASS:
                return passing
            if request_line == "":
                if rule.fault.kind is not FaultKind.DROP or rule.match or rule.skip:
                    return passing
            elif rule.match not in request_line:
                return passing
            if rule.skip > 0:
                rule.skip -= 1
                return passing
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self._rule = _Rule(passing, "", None)
            return rule.fault

    def _track(self, sock: socket.socket) -> None:
        sock.settimeout(IO_TIMEOUT)
        with self._lock:
            self._open.add(sock)

    def _untrack(self, sock: socket.socket, *, reset: bool = False) -> None:
        with self._lock:
            self._open.discard(sock)
        if reset:
            _reset(sock)
        else:
            with suppress(OSError):
                sock.close()

    def _record(self, exchange: Exchange, replay: bool = False) -> None:
        with self._lock:
            (self.replays if replay else self.records).append(exchange)

    def _serve(self, client: socket.socket) -> None:
        self._track(client)
        upstream: socket.socket | None = None
        cut = False
        try:
            reader = _Reader(client)
            upstream_reader: _Reader | None = None
            while not self._stopping.is_set():
                request = reader.request()
                if request is None:
                    return
                fault = self._take_fault(request.first_line)
                kind, amount = fault.kind, fault.amount
                if kind is FaultKind.DROP:
                    self._record(Exchange(request.first_line, kind, None, request=request.raw))
                    cut = True
                    return
                if kind is FaultKind.DELAY:
                    time.sleep(amount / 1000)
                if upstream is None:
                    upstream = socket.create_connection(self.upstream, timeout=IO_TIMEOUT)
                    self._track(upstream)
                    upstream_reader = _Reader(upstream)
                assert upstream_reader is not None
                if kind is FaultKind.CUT_BODY:
                    upstream.sendall(request.raw[:amount])
                    self._record(Exchange(request.first_line, kind, None, request=request.raw))
                    cut = True
                    return
                upstream.sendall(request.raw)
                response = upstream_reader.response(request.first_line)
                status = _status(response.first_line)
                self._record(Exchange(request.first_line, kind, status, response.body, request.raw))
                if kind is FaultKind.CUT_RESPONSE:
                    cut = True  # HQ has answered, so it has done the work; the till never hears
                    return
                if kind is FaultKind.DUPLICATE:
                    self._replay(request)  # before the answer, so a returned call saw both
                client.sendall(response.raw)
                if response.headers.get("connection", "").lower() == "close":
                    return
        except (_Closed, OSError, ValueError):
            cut = True
        finally:
            if upstream is not None:
                self._untrack(upstream)  # HQ sees the short request end, as after a lost link
            self._untrack(client, reset=cut)

    def resend(self, captured: Exchange) -> Exchange:
        """A request seen earlier, byte for byte, sent to HQ again (an attacker who recorded
        it); HQ's answer is returned and kept in `replays`."""
        request_line = captured.request.split(b"\r\n", 1)[0].decode("latin-1")
        return self._send_again(request_line, captured.request)

    def _replay(self, request: _Message) -> None:
        """The captured bytes again, on a connection of their own, as an attacker or a
        confused middlebox would; HQ's answer goes to `replays`, not to the client."""
        self._send_again(request.first_line, request.raw)

    def _send_again(self, request_line: str, raw: bytes) -> Exchange:
        try:
            with socket.create_connection(self.upstream, timeout=IO_TIMEOUT) as again:
                again.sendall(raw)
                response = _Reader(again).response(request_line)
            status: int | None = _status(response.first_line)
            body = response.body
        except (_Closed, OSError):
            status, body = None, b""
        exchange = Exchange(request_line, FaultKind.DUPLICATE, status, body, raw)
        self._record(exchange, True)
        return exchange
