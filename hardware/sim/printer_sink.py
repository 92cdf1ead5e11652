"""A network receipt printer simulator: a TCP listener that keeps what it is sent.

One connection is one job. `DLE EOT n` status queries are answered and taken out of the job,
as a printer takes real-time commands out of its input; the data of image, QR and barcode
commands is passed over without looking for queries inside it. Modes, settable at run time:

    normal     answers "ready", every job prints
    refuse     stops listening: connecting is refused (a printer switched off on the LAN)
    silent     accepts and swallows bytes, never answers a status query (output vanishes)
    paper_out  answers "paper end, offline"; keeps what it gets but it does not print; a
               real-time drawer pulse (DLE DC4 1) still opens the drawer, as on a printer
    cover_open answers "cover open, offline"; keeps what it gets but it does not print
    drop       like normal, but resets the connection once a job reaches `drop_after` bytes

Real-time drawer pulses (`DLE DC4 1 m t`) are executed as they arrive, in every mode that
takes data, and listed in `drawer_openings` (the pin); they stay in the job's bytes too.

With `png_dir`, every printed job that puts something on paper is decoded and saved as
NNNN.png and NNNN.txt. NNNN continues after the highest number already in the folder, so a
new run (or a second sink on the same folder) never overwrites an earlier receipt: files are
created exclusively, and a number taken meanwhile is skipped. A job with nothing to print (a
drawer kick alone) writes no picture; the sink logs it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, TextIO

from hardware.printing.escpos_encoder import status_reply

log = logging.getLogger(__name__)

MODES = ("normal", "refuse", "silent", "paper_out", "cover_open", "drop")
_PRINTING_MODES = ("normal", "drop")
DLE, EOT, DC4 = 0x10, 0x04, 0x14
# The reply to DLE EOT 1..4 in each mode that answers (silent and refuse do not), made by
# the encoder's status_reply, whose bits the transport reads back with parse_status.
_ANSWERS: dict[str, dict[int, bytes]] = {
    "normal": {n: status_reply(n) for n in (1, 2, 3, 4)},
    "drop": {n: status_reply(n) for n in (1, 2, 3, 4)},
    "paper_out": {n: status_reply(n, paper_out=True) for n in (1, 2, 3, 4)},
    "cover_open": {n: status_reply(n, cover_open=True) for n in (1, 2, 3, 4)},
}

ESC, GS, FS = 0x1B, 0x1D, 0x1C
# Commands whose parameters are a fixed number of bytes after the two command bytes; skipping
# them keeps a parameter byte from being taken for the start of a status query.
_FIXED_PARAMS: dict[tuple[int, int], int] = {
    **{(ESC, c): 1 for c in b" !%-3=EGJMRTUVadert{"},
    **{(ESC, c): 2 for c in b"$\\c"},
    (ESC, ord("p")): 3,
    **{(GS, c): 1 for c in b"!/BEHIabfhrw"},
    **{(GS, c): 2 for c in b"$LPW\\"},
    **{(FS, c): 1 for c in b"!-CW"},
    **{(FS, c): 2 for c in b"Sp"},
}
_CUT_WITH_FEED = (65, 66, 97, 98, 103, 104)  # GS V m n; the other cuts are GS V m
_SAVED_NAME = re.compile(r"(\d{4,})\.(?:png|txt)")


@dataclass
class SinkJob:
    """One connection's bytes (status queries taken out) and what became of them."""

    number: int  # 1, 2, … in the order connections ended (printed or not)
    data: bytes
    mode: str  # the sink's mode when the connection ended
    printed: bool  # False when silent, out of paper or cover open
    dropped: bool = False  # the sink cut the connection (drop mode)
    png: Path | None = None  # the picture saved of it (with png_dir, when it printed anything)


@dataclass
class _Conn:
    sock: socket.socket
    pending: bytearray = field(default_factory=bytearray)  # not yet scanned
    job: bytearray = field(default_factory=bytearray)
    skip: int = 0  # bytes of command data still to pass over
    until_nul: bool = False  # inside NUL-terminated barcode data


def _data_command(buf: bytearray, i: int) -> tuple[int, int, bool] | None:
    """At an ESC/GS/FS byte: (header length, data length, data ends at NUL), or None when
    more bytes are needed to tell. A command without data gives (1, 0, False) for its first
    byte, so scanning goes on with the next."""
    have = len(buf) - i
    if have < 2:
        return None
    first, second = buf[i], buf[i + 1]
    if first == GS and second == ord("v"):  # GS v 0 m xL xH yL yH: raster image
        if have < 8:
            return None
        x, y = struct.unpack_from("<HH", buf, i + 4)
        return 8, x * y, False
    if first == GS and second == ord("("):  # GS ( fn pL pH …: QR, graphics, settings
        if have < 5:
            return None
        return 5, struct.unpack_from("<H", buf, i + 3)[0], False
    if first == GS and second == ord("8"):  # GS 8 L p1..p4: large graphics
        if have < 7:
            return None
        return 7, struct.unpack_from("<I", buf, i + 3)[0], False
    if first == ESC and second == ord("*"):  # ESC * m nL nH: bit image columns
        if have < 5:
            return None
        columns = struct.unpack_from("<H", buf, i + 3)[0]
        return 5, columns * (1 if buf[i + 2] in (0, 1) else 3), False
    if first == GS and second == ord("k"):  # GS k m …: barcode
        if have < 3:
            return None
        if buf[i + 2] <= 6:
            return 3, 0, True
        if have < 4:
            return None
        return 4, buf[i + 3], False
    if first == GS and second == ord("*"):  # GS * x y: downloaded bit image
        if have < 4:
            return None
        return 4, buf[i + 2] * buf[i + 3] * 8, False
    if first == GS and second == ord("V"):  # GS V m [n]: cut
        if have < 3:
            return None
        cut = 2 if buf[i + 2] in _CUT_WITH_FEED else 1
        return (2 + cut, 0, False) if have >= 2 + cut else None
    params = _FIXED_PARAMS.get((first, second))
    if params is not None:
        return (2 + params, 0, False) if have >= 2 + params else None
    return 1, 0, False


class PrinterSink:
    """A TCP printer on 127.0.0.1 that records jobs and answers status queries; see the
    module docstring for the modes. Runs its own thread; use as a context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        mode: str = "normal",
        png_dir: Path | None = None,
        encoding: str = "gb18030",
        *,
        drop_after: int = 64,
        dots: int = 576,
        on_job: Callable[[int, bytes], None] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.host = host
        self.port = port
        self.png_dir = Path(png_dir) if png_dir is not None else None
        self.encoding = encoding
        self.drop_after = drop_after  # job bytes kept before a `drop` sink cuts the connection
        self.dots = dots
        self.on_job = on_job  # called with (number, bytes) for each printed job, sink thread
        self._mode = mode
        self._lock = threading.Condition()
        self._records: list[SinkJob] = []
        self._printed: list[bytes] = []
        self._queries: list[int] = []
        self._drawer_openings: list[int] = []
        self._connections = 0
        self._commands: list[tuple[str, threading.Event]] = []
        self._listener: socket.socket | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._conns: dict[socket.socket, _Conn] = {}
        self._running = False
        self._mode_error: OSError | None = None

    # --- public -------------------------------------------------------------------------

    def start(self) -> PrinterSink:
        """Bind, listen and start the sink's thread; `.port` is the bound port after this."""
        if self._running:
            return self
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        if self._mode != "refuse":
            self._listen()
        else:  # a port must still be chosen so that "normal" later listens where expected
            probe = self._bind()
            self.port = probe.getsockname()[1]
            probe.close()
        self._running = True
        self._thread = threading.Thread(target=self._run, name=f"printer-sink-{self.port}")
        self._thread.daemon = True
        self._thread.start()
        log.info("printer sink on %s:%d (%s)", self.host, self.port, self._mode)
        return self

    def stop(self) -> None:
        """Close every connection and the listener, and end the thread."""
        if not self._running:
            return
        self._running = False
        self._wake()
        if self._thread is not None:
            self._thread.join(5)
        self._thread = None

    @property
    def mode(self) -> str:
        """The current mode (see the module docstring)."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {value!r}")
        if not self._running:
            self._mode = value
            return
        done = threading.Event()
        with self._lock:
            self._commands.append((value, done))
        self._wake()
        # Wait until the sink thread has (un)bound the listener: a test that sets `refuse`
        # and connects at once must be refused.
        if not done.wait(5):
            raise RuntimeError("the printer sink did not take the new mode")
        error, self._mode_error = self._mode_error, None
        if error is not None:
            raise error

    @property
    def jobs(self) -> list[bytes]:
        """The bytes of every printed job, in order (status queries taken out)."""
        with self._lock:
            return list(self._printed)

    @property
    def records(self) -> list[SinkJob]:
        """Everything received, printed or not, one entry per connection that sent data."""
        with self._lock:
            return list(self._records)

    @property
    def drawer_openings(self) -> list[int]:
        """The pin of every real-time drawer pulse (DLE DC4 1) executed, in order."""
        with self._lock:
            return list(self._drawer_openings)

    @property
    def queries(self) -> list[int]:
        """The `n` of every DLE EOT n received, answered or not."""
        with self._lock:
            return list(self._queries)

    @property
    def connections(self) -> int:
        """How many connections were accepted."""
        with self._lock:
            return self._connections

    def wait_for_jobs(self, count: int, timeout: float = 2.0) -> list[bytes]:
        """The printed jobs once there are at least `count` (or whatever came by `timeout`)."""
        with self._lock:
            self._lock.wait_for(lambda: len(self._printed) >= count, timeout)
            return list(self._printed)

    def wait_for_records(self, count: int, timeout: float = 2.0) -> list[SinkJob]:
        """The received jobs once there are at least `count` (or whatever came by `timeout`)."""
        with self._lock:
            self._lock.wait_for(lambda: len(self._records) >= count, timeout)
            return list(self._records)

    def __enter__(self) -> PrinterSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- the sink's thread --------------------------------------------------------------

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Lets `refuse` → `normal` listen again on the same port straight away.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        return sock

    def _listen(self) -> None:
        assert self._selector is not None
        sock = self._bind()
        sock.listen(16)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._listener = sock
        self._selector.register(sock, selectors.EVENT_READ, "listen")

    def _unlisten(self) -> None:
        if self._listener is not None and self._selector is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None

    def _wake(self) -> None:
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")

    def _run(self) -> None:
        assert self._selector is not None
        try:
            while self._running:
                for key, _ in self._selector.select():
                    if isinstance(key.data, _Conn):
                        self._on_readable(key.data)
                    elif key.data == "wake":
                        self._on_wake()
                    else:
                        self._accept()
        except Exception:  # a bug in the simulator must be visible, not a silent dead sink
            log.exception("printer sink failed")
        finally:
            for conn in list(self._conns.values()):
                self._end(conn, dropped=False)
            self._unlisten()
            self._selector.close()
            for sock in (self._wake_r, self._wake_w):
                if sock is not None:
                    sock.close()
            self._wake_r = self._wake_w = None
            self._selector = None

    def _on_wake(self) -> None:
        assert self._wake_r is not None
        with contextlib.suppress(BlockingIOError):
            self._wake_r.recv(4096)
        with self._lock:
            commands, self._commands = self._commands, []
        for mode, done in commands:
            try:
                if mode == "refuse":
                    self._unlisten()
                elif self._listener is None:
                    self._listen()
                self._mode = mode
                log.info("printer sink mode: %s", mode)
            except OSError as exc:  # the port was taken while refusing
                self._mode_error = exc
            done.set()

    def _accept(self) -> None:
        assert self._listener is not None and self._selector is not None
        try:
            sock, _ = self._listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        conn = _Conn(sock)
        self._conns[sock] = conn
        self._selector.register(sock, selectors.EVENT_READ, conn)
        with self._lock:
            self._connections += 1

    def _on_readable(self, conn: _Conn) -> None:
        try:
            chunk = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            conn.job += conn.pending  # a command cut short at the end is still the job's
            conn.pending.clear()
            self._end(conn, dropped=False)
            return
        conn.pending += chunk
        self._scan(conn)
        if self._mode == "drop" and len(conn.job) >= self.drop_after:
            del conn.job[self.drop_after :]
            self._end(conn, dropped=True)

    def _scan(self, conn: _Conn) -> None:
        """Move scanned bytes from `pending` to the job, answering status queries."""
        buf, out = conn.pending, conn.job
        i = 0
        while i < len(buf):
            if conn.skip:
                take = min(conn.skip, len(buf) - i)
                out += buf[i : i + take]
                i += take
                conn.skip -= take
                continue
            if conn.until_nul:
                end = buf.find(0, i)
                stop = len(buf) if end < 0 else end + 1
                out += buf[i:stop]
                i = stop
                conn.until_nul = end < 0
                continue
            byte = buf[i]
            if byte == DLE:
                if len(buf) - i < 3:
                    break
                if buf[i + 1] == EOT and 1 <= buf[i + 2] <= 4:
                    self._answer(conn, buf[i + 2])
                    i += 3
                    continue
                if buf[i + 1] == DC4 and buf[i + 2] == 1:
                    if len(buf) - i < 5:
                        break
                    with self._lock:
                        self._drawer_openings.append(5 if buf[i + 3] == 1 else 2)
                    out += buf[i : i + 5]
                    i += 5
                    continue
            elif byte in (ESC, GS, FS):
                command = _data_command(buf, i)
                if command is None:
                    break
                header, length, nul = command
                out += buf[i : i + header]
                i += header
                conn.skip, conn.until_nul = length, nul
                continue
            out.append(byte)
            i += 1
        del buf[:i]

    def _answer(self, conn: _Conn, n: int) -> None:
        with self._lock:
            self._queries.append(n)
        answers = _ANSWERS.get(self._mode)
        if answers is None:  # silent: the query goes unanswered
            return
        with contextlib.suppress(OSError):
            conn.sock.send(answers[n])

    def _end(self, conn: _Conn, dropped: bool) -> None:
        assert self._selector is not None
        self._selector.unregister(conn.sock)
        del self._conns[conn.sock]
        if dropped:
            # Reset rather than close: the client sees the cut at once, as with a printer
            # that lost power or its cable mid-job.
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sock.close()
        if conn.job:
            self._record(bytes(conn.job), dropped)

    def _record(self, data: bytes, dropped: bool) -> None:
        printed = self._mode in _PRINTING_MODES
        with self._lock:
            number = len(self._printed) + 1 if printed else 0
        png = self._save(data) if printed and self.png_dir is not None else None
        with self._lock:
            self._records.append(
                SinkJob(len(self._records) + 1, data, self._mode, printed, dropped, png)
            )
            if printed:
                self._printed.append(data)
            self._lock.notify_all()
        log.info(
            "printer sink: %d bytes %s (%s)",
            len(data),
            "printed" if printed else "not printed",
            self._mode + (", cut off" if dropped else ""),
        )
        if printed and self.on_job is not None:
            try:
                self.on_job(number, data)
            except Exception:
                log.exception("printer sink on_job callback failed")

    def _save(self, data: bytes) -> Path | None:
        """NNNN.png and NNNN.txt of a printed job, through the ESC/POS decoder; the PNG's
        path, or None when the job put nothing on paper (or could not be decoded)."""
        assert self.png_dir is not None
        try:
            from hardware.printing.escpos_decoder import PrintedCut, decode, render_paper

            decoded = decode(data, self.encoding)
            if all(isinstance(item, PrintedCut) for item in decoded.items):
                # A drawer kick (or a bare cut) leaves no paper worth a picture.
                log.info(
                    "printer sink: nothing to print (drawer kicks on pin %s)",
                    ", ".join(map(str, decoded.drawer_kicks)) or "-",
                )
                return None
            image = render_paper(decoded, self.dots)
            png, txt = _new_receipt_files(self.png_dir)
            with png, txt:
                txt.write(decoded.text + "\n")
                image.save(png, format="PNG", optimize=True)
            return Path(png.name)
        except Exception:  # a job the decoder cannot read must not stop the sink
            log.exception("printer sink could not save a job")
            return None


def _new_receipt_files(folder: Path) -> tuple[BinaryIO, TextIO]:
    """NNNN.png and NNNN.txt, both created here (never an existing file), NNNN one past the
    highest number in `folder`, or past that when another writer takes it meanwhile."""
    folder.mkdir(parents=True, exist_ok=True)
    number = 1 + max(
        (int(m[1]) for name in os.listdir(folder) if (m := _SAVED_NAME.fullmatch(name))),
        default=0,
    )
    while True:
        png_path, txt_path = folder / f"{number:04d}.png", folder / f"{number:04d}.txt"
        try:
            png = png_path.open("xb")
        except FileExistsError:
            number += 1
            continue
        try:
            return png, txt_path.open("x", encoding="utf-8")
        except FileExistsError:  # a lone text file holds the number: leave both to it
            png.close()
            png_path.unlink()
            number += 1


def run_printer_sink(
    port: int = 9100,
    png_dir: Path | None = None,
    encoding: str = "gb18030",
    stop: threading.Event | None = None,
    on_job: Callable[[int, bytes], None] | None = None,
    *,
    host: str = "127.0.0.1",
    mode: str = "normal",
) -> None:
    """Run a sink until `stop` is set (or Ctrl-C); prints one line per job unless `on_job`
    is given. For `pos-app hw sim printer`."""

    def announce(number: int, data: bytes) -> None:
        # On the sink's thread, which alone adds records: the last one is this job's.
        png = sink.records[-1].png
        where = f" → {png}" if png is not None else ""
        print(f"job {number}: {len(data)} bytes{where}", flush=True)

    stop = stop or threading.Event()
    with PrinterSink(host, port, mode, png_dir, encoding, on_job=on_job or announce) as sink:
        print(f"printer sink: tcp://{host}:{sink.port} ({mode})", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
