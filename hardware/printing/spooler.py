"""The print spooler: jobs kept in a SQLite file until the printer has them, across restarts.

A job is stored (durably) before `submit` returns, then sent by a worker on the printer's
DeviceThread, oldest first:

1. open the channel and ask the printer's status (short timeout). Not reachable, silent, out
   of paper, cover open → the job stays QUEUED with the reason in `last_error`, and the worker
   tries again later with a growing delay. Nothing of the job has been sent.
2. mark the job SENDING, durably, before its first byte goes out;
3. send every byte, then ask the status again: ready → PRINTED. Cut off midway, or the
   printer reports a problem or does not answer → UNCERTAIN.

An UNCERTAIN job is never sent again by the spooler: part of it may be on paper, and a
receipt must not come out twice because of a retry. A person looks and asks for a reprint
(补打), which is a new job marked `reprint_of`. A job still SENDING when the spooler opens
(the process died mid-job) becomes UNCERTAIN for the same reason. So a job is retried only
while none of its bytes has left the process.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from uuid6 import uuid7

from hardware.device_thread import DeviceThread
from hardware.errors import DeviceError
from hardware.printing.jobs import JobState, PrintJobInfo
from hardware.printing.transport import DEFAULT_STATUS_TIMEOUT, PrinterTransport

log = logging.getLogger(__name__)

JobCallback = Callable[[PrintJobInfo], None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    data BLOB NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reprint_of TEXT,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, seq);
"""
_INFO_COLUMNS = "job_id, title, state, created_at, attempts, reprint_of, last_error"
_DONE = (JobState.PRINTED, JobState.UNCERTAIN, JobState.FAILED)


class UnknownJob(DeviceError, KeyError):
    """No job with that id in the spool."""

    code = "unknown_print_job"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"没有打印任务 {job_id}", f"no print job {job_id}")

    def __str__(self) -> str:
        return self.en


class JobStateError(DeviceError, ValueError):
    """The job is not in a state that allows this (reprint of a queued job, say)."""

    code = "print_job_state"


class SpoolError(DeviceError):
    """The spool file cannot be used (unreadable, not a spool, locked)."""

    code = "spool_error"


class SpoolLocked(SpoolError):
    """Another spooler (this process or another) has the spool file open."""

    code = "spool_locked"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _lock_file(path: Path) -> IO[bytes] | None:
    """An exclusive lock next to the spool, so that two spoolers never send the same jobs
    (and one's start-up never marks the other's SENDING job uncertain). POSIX only."""
    try:
        import fcntl
    except ImportError:  # Windows: one till process, nothing to guard against here
        return None
    handle = open(path.with_name(path.name + ".lock"), "ab")  # noqa: SIM115 - held while open
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise SpoolLocked(
            f"打印队列 {path} 已被另一个程序使用", f"the print spool {path} is in use elsewhere"
        ) from None
    return handle


class PrintSpooler:
    """Durable print jobs and the worker that sends them on `device_thread`.

    `open_transport` opens a fresh channel to the printer for each attempt (raising
    DeviceError when it cannot). Retries wait `retry_base` s, doubling up to `retry_cap` s.
    """

    def __init__(
        self,
        spool_path: Path,
        open_transport: Callable[[], PrinterTransport],
        device_thread: DeviceThread,
        *,
        status_timeout: float = DEFAULT_STATUS_TIMEOUT,
        post_status_timeout: float = 3.0,
        retry_base: float = 0.5,
        retry_cap: float = 5.0,
        keep: int = 1000,
    ) -> None:
        self.spool_path = Path(spool_path)
        self.device_thread = device_thread
        self.status_timeout = status_timeout
        self.post_status_timeout = post_status_timeout
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self._open_transport = open_transport
        self._keep = keep
        self._db_lock = threading.Lock()
        self._cond = threading.Condition()  # wakes wait() on every change
        self._pending: deque[PrintJobInfo] = deque()  # changes not yet told to callbacks
        self._callbacks: list[JobCallback] = []
        self._sched_lock = threading.Lock()
        self._pump_queued = False
        self._timer: threading.Timer | None = None
        self._timer_due = 0.0
        self._failures = 0
        self._closed = False
        self.spool_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_handle = _lock_file(self.spool_path)
        try:
            self._db = self._connect()
            self._recover()
        except BaseException as exc:
            if self._lock_handle is not None:
                self._lock_handle.close()
            if isinstance(exc, sqlite3.Error):
                raise SpoolError(
                    f"打印队列文件 {self.spool_path} 无法读取：{exc}",
                    f"the print spool {self.spool_path} cannot be read: {exc}",
                ) from exc
            raise
        self._request_pump()

    # --- storage ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.spool_path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: a job is on disk (WAL synced) when submit() returns, and SENDING is on
            # disk before the job's first byte goes out.
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    @contextlib.contextmanager
    def _sql(self) -> Iterator[sqlite3.Connection]:
        with self._db_lock:
            yield self._db

    def _recover(self) -> None:
        """Jobs left SENDING by a crash may be half on paper: UNCERTAIN, never resent. Old
        finished jobs beyond `keep` are dropped so the spool does not grow for ever."""
        with self._sql() as db:
            stale = db.execute(
                "UPDATE jobs SET state = ?, updated_at = ?, last_error = ? WHERE state = ?",
                (
                    JobState.UNCERTAIN,
                    _now(),
                    "interrupted while sending (the program stopped mid-job)",
                    JobState.SENDING,
                ),
            ).rowcount
            db.execute(
                "DELETE FROM jobs WHERE state IN (?, ?) AND seq <= "
                "(SELECT seq FROM jobs ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (JobState.PRINTED, JobState.FAILED, self._keep),
            )
        if stale:
            log.warning("%d print job(s) were cut off by a stop mid-job: marked uncertain", stale)

    def _info(self, row: tuple[str, str, str, str, int, str | None, str]) -> PrintJobInfo:
        job_id, title, state, created_at, attempts, reprint_of, last_error = row
        return PrintJobInfo(
            job_id, title, JobState(state), created_at, attempts, reprint_of, last_error
        )

    def _read(self, db: sqlite3.Connection, job_id: str) -> PrintJobInfo:
        row = db.execute(f"SELECT {_INFO_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise UnknownJob(job_id)
        return self._info(row)

    def _note(self, db: sqlite3.Connection, job_id: str) -> PrintJobInfo:
        """Queue a changed job for the callbacks. Called with the database lock held, so
        changes are told in the order they were written, whichever thread wrote them."""
        info = self._read(db, job_id)
        self._pending.append(info)
        return info

    def _insert(
        self, data: bytes, title: str, state: JobState, reprint_of: str | None, error: str = ""
    ) -> PrintJobInfo:
        job_id = str(uuid7())
        now = _now()
        with self._sql() as db:
            db.execute(
                "INSERT INTO jobs (job_id, title, data, state, created_at, updated_at,"
                " reprint_of, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, title, data, state, now, now, reprint_of, error),
            )
            info = self._note(db, job_id)
        self._announce()
        return info

    def _update(self, job_id: str, state: JobState, sql: str, params: tuple[object, ...]) -> None:
        """`UPDATE jobs SET <sql>` on one job if it is still in `state`, and report it.
        (A job cancelled while its printer was being asked keeps "cancelled".)"""
        with self._sql() as db:
            changed = db.execute(
                f"UPDATE jobs SET {sql}, updated_at = ? WHERE job_id = ? AND state = ?",
                (*params, _now(), job_id, state),
            ).rowcount
            if changed:
                self._note(db, job_id)
        if changed:
            self._announce()

    # --- public -------------------------------------------------------------------------

    def submit(self, data: bytes, title: str = "", reprint_of: str | None = None) -> str:
        """Store a job (on disk when this returns) and wake the worker; returns its id."""
        info = self._insert(bytes(data), title, JobState.QUEUED, reprint_of)
        log.info("print job %s queued: %s (%d bytes)", info.job_id, title, len(data))
        self._request_pump()
        return info.job_id

    def add_failed(self, title: str, reason: str) -> str:
        """Record a job that could not be made (the document would not encode): FAILED."""
        return self._insert(b"", title, JobState.FAILED, None, reason).job_id

    def reprint(self, job_id: str) -> str:
        """A new job with the same bytes, marked as a copy (补打) of `job_id`. Allowed once
        the job has left the queue (printed, uncertain or failed), never while it may still
        print by itself."""
        with self._sql() as db:
            row = db.execute(
                "SELECT title, data, state FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        if row is None:
            raise UnknownJob(job_id)
        title, data, state = row
        if state not in _DONE or not data:
            raise JobStateError(
                f"打印任务 {job_id} 尚未完成或没有内容，不能补打",
                f"print job {job_id} is {state}: nothing to reprint yet",
            )
        return self.submit(data, title, reprint_of=job_id)

    def cancel(self, job_id: str) -> bool:
        """Give up a job still QUEUED (it becomes FAILED); False if it already left the
        queue (sending, printed, …)."""
        with self._sql() as db:
            changed = db.execute(
                "UPDATE jobs SET state = ?, updated_at = ?, last_error = ?"
                " WHERE job_id = ? AND state = ?",
                (JobState.FAILED, _now(), "cancelled", job_id, JobState.QUEUED),
            ).rowcount
            if changed:
                self._note(db, job_id)
            else:
                self._read(db, job_id)  # UnknownJob when there is no such job
        if changed:
            log.info("print job %s cancelled", job_id)
            self._announce()
        return bool(changed)

    def job(self, job_id: str) -> PrintJobInfo:
        """One job's state; UnknownJob if there is none."""
        with self._sql() as db:
            return self._read(db, job_id)

    def jobs(self, limit: int = 50) -> list[PrintJobInfo]:
        """The newest jobs first."""
        with self._sql() as db:
            rows = db.execute(
                f"SELECT {_INFO_COLUMNS} FROM jobs ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [self._info(row) for row in rows]

    def data(self, job_id: str) -> bytes:
        """A job's bytes as they are (or were) sent."""
        with self._sql() as db:
            row = db.execute("SELECT data FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise UnknownJob(job_id)
        return bytes(row[0])

    def wait(self, job_id: str, timeout: float) -> PrintJobInfo:
        """Block until the job has left QUEUED/SENDING or `timeout` s passed; its state."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                # Read under the condition: a change written after this read has to take
                # the condition to announce itself, so it cannot slip in before wait().
                info = self.job(job_id)
                remaining = deadline - time.monotonic()
                if info.state in _DONE or remaining <= 0:
                    return info
                self._cond.wait(remaining)

    def on_job_change(self, callback: JobCallback) -> None:
        """Call `callback(info)` on the device thread whenever a job changes."""
        self._callbacks.append(callback)

    def close(self) -> None:
        """Stop the worker (a job being sent is finished first) and close the file. Queued
        jobs stay in the spool for the next start."""
        with self._sched_lock:
            if self._closed:
                return
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if not self.device_thread.is_current():
            # Wait for an attempt in progress; queued pumps see `_closed` and do nothing.
            with contextlib.suppress(RuntimeError):
                self.device_thread.submit(lambda: None).result()
        with self._sql() as db:
            db.close()
        if self._lock_handle is not None:
            self._lock_handle.close()

    # --- notifications ------------------------------------------------------------------

    def _announce(self) -> None:
        """After a change: wake wait(), and have the callbacks told on the device thread."""
        with self._cond:
            self._cond.notify_all()
        if self.device_thread.is_current():
            self._tell_callbacks()
            return
        with contextlib.suppress(RuntimeError):  # the device thread is shut down
            self.device_thread.submit(self._tell_callbacks)

    def _tell_callbacks(self) -> None:
        """Device thread: every queued change, in order, to every callback."""
        while True:
            try:
                info = self._pending.popleft()
            except IndexError:
                return
            for callback in list(self._callbacks):
                try:
                    callback(info)
                except Exception:  # a listener's bug must not stop printing
                    log.exception("print job callback failed")

    # --- the worker ---------------------------------------------------------------------

    def _request_pump(self, delay: float = 0.0) -> None:
        """Have the worker look at the queue in `delay` s (at once by default), unless it
        already will by then."""
        with self._sched_lock:
            if self._closed or self._pump_queued:
                return
            due = time.monotonic() + delay
            if self._timer is not None:
                if self._timer_due <= due:
                    return
                self._timer.cancel()
                self._timer = None
            if delay <= 0:
                self._queue_pump()
            else:
                self._timer = threading.Timer(delay, self._timer_fired)
                self._timer.daemon = True
                self._timer_due = due
                self._timer.start()

    def _timer_fired(self) -> None:
        with self._sched_lock:
            self._timer = None
            if not self._closed and not self._pump_queued:
                self._queue_pump()

    def _queue_pump(self) -> None:
        """Submit one pump to the device thread (caller holds `_sched_lock`)."""
        try:
            self.device_thread.submit(self._pump)
            self._pump_queued = True
        except RuntimeError:  # the device thread was shut down
            self._closed = True

    def _pump(self) -> None:
        """Try the oldest queued job once (device thread), then schedule the next look."""
        with self._sched_lock:
            self._pump_queued = False
            if self._closed:
                return
        with self._sql() as db:
            row = db.execute(
                "SELECT job_id, data FROM jobs WHERE state = ? ORDER BY seq LIMIT 1",
                (JobState.QUEUED,),
            ).fetchone()
        if row is None:
            self._failures = 0
            return
        try:
            left_queue = self._attempt(row[0], bytes(row[1]))
        except Exception:  # a bug here must not leave the spooler silently stuck
            log.exception("print spooler attempt failed")
            left_queue = False
        if left_queue:
            self._failures = 0
            self._request_pump()
        else:
            self._failures += 1
            delay = min(self.retry_cap, self.retry_base * 2 ** min(self._failures - 1, 16))
            self._request_pump(delay)

    def _attempt(self, job_id: str, data: bytes) -> bool:
        """Send one job if the printer is ready; True when the job left the queue."""
        try:
            transport = self._open_transport()
        except DeviceError as exc:
            self._defer(job_id, exc.en)
            return False
        with transport:
            before = transport.query_status(self.status_timeout)
            if not before.ok:
                self._defer(job_id, f"printer not ready: {before.text('en')}")
                return False
            if not self._claim(job_id):
                return True  # cancelled while the status was asked
            # From here on bytes may reach the paper: every way out is PRINTED or UNCERTAIN.
            try:
                transport.write(data)
                after = transport.query_status(self.post_status_timeout)
            except DeviceError as exc:
                self._finish(job_id, JobState.UNCERTAIN, f"cut off while sending: {exc.en}")
                return True
            except Exception as exc:
                log.exception("sending print job %s failed", job_id)
                self._finish(job_id, JobState.UNCERTAIN, f"sending failed: {exc!r}")
                return True
        if after.ok:
            self._finish(job_id, JobState.PRINTED, "")
        else:
            self._finish(job_id, JobState.UNCERTAIN, f"after sending: {after.text('en')}")
        return True

    def _defer(self, job_id: str, reason: str) -> None:
        log.info("print job %s waits: %s", job_id, reason)
        self._update(job_id, JobState.QUEUED, "attempts = attempts + 1, last_error = ?", (reason,))

    def _claim(self, job_id: str) -> bool:
        """QUEUED → SENDING, on disk before any byte goes out; False if it was cancelled."""
        with self._sql() as db:
            claimed = db.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, last_error = '',"
                " updated_at = ? WHERE job_id = ? AND state = ?",
                (JobState.SENDING, _now(), job_id, JobState.QUEUED),
            ).rowcount
            if claimed:
                self._note(db, job_id)
        if claimed:
            self._announce()
        return bool(claimed)

    def _finish(self, job_id: str, state: JobState, error: str) -> None:
        if state == JobState.PRINTED:
            log.info("print job %s printed", job_id)
        else:
            log.warning("print job %s %s: %s", job_id, state, error)
        self._update(job_id, JobState.SENDING, "state = ?, last_error = ?", (state, error))
