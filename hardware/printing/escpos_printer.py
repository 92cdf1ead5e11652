"""The ESC/POS receipt printer and the cash drawer behind it.

Receipts are encoded at once on the caller's thread and handed to the spooler, which sends
them from the printer's DeviceThread when the printer is ready; `print` returns the job id
at once whatever the printer's state. The drawer kick is the opposite: it is sent now, on
the same thread, within a short deadline, or it raises. It is never stored, and a kick whose
caller has given up (the printer was busy or silent) is dropped rather than sent late: a
drawer that opens by itself a minute after the sale is worse than one that did not open.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from hardware.device_thread import DeviceThread
from hardware.errors import DeviceError, DeviceRefused, DeviceTimeout
from hardware.events import DeviceState, DeviceStatus
from hardware.interfaces import CashDrawer, ReceiptPrinter
from hardware.printing.document import PrintDocument, PrinterProfile
from hardware.printing.escpos_encoder import drawer_kick, encode, realtime_drawer_kick
from hardware.printing.jobs import PrintJobInfo
from hardware.printing.spooler import PrintSpooler
from hardware.printing.transport import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_STATUS_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    PrinterTransport,
    open_transport,
    status_for_error,
)
from hardware.uri import DeviceUri

log = logging.getLogger(__name__)


class _KickTicket:
    """Decides, under a lock, between "the caller gave up" and "the pulse is going out", so
    that a kick is either sent while the caller still waits or never."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._abandoned = False
        self._writing = False

    def begin_write(self) -> bool:
        """Device thread, just before writing: False if the caller has given up."""
        with self._lock:
            if self._abandoned or time.monotonic() >= self.deadline:
                self._abandoned = True
                return False
            self._writing = True
            return True

    def abandon(self) -> bool:
        """Caller, on its timeout: True when the pulse will now never be sent."""
        with self._lock:
            if self._writing:
                return False
            self._abandoned = True
            return True

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


def _too_late() -> DeviceTimeout:
    return DeviceTimeout(
        "钱箱未打开：打印机未及时响应", "drawer not opened: the printer did not answer in time"
    )


def _not_opened(exc: DeviceError) -> DeviceError:
    """`exc` (same kind) saying that the drawer did not open, and why."""
    return type(exc)(f"钱箱未打开：{exc.zh}", f"drawer not opened: {exc.en}")


class EscposPrinter(ReceiptPrinter, CashDrawer):
    """An ESC/POS printer at `uri` (tcp:, serial:, usb:, file:) with its jobs spooled in
    `spool_path`, and the cash drawer connected to it.

    Timeouts come from the keywords, else the URI (`?connect_timeout=2&status_timeout=1&
    write_timeout=10`), else the defaults. `busy_timeout` bounds how long `status()` waits
    behind a job being sent; `kick_deadline` how long `kick()` may take.
    """

    def __init__(
        self,
        uri: DeviceUri,
        profile: PrinterProfile,
        spool_path: Path,
        *,
        connect_timeout: float | None = None,
        status_timeout: float | None = None,
        write_timeout: float | None = None,
        post_status_timeout: float = 3.0,
        busy_timeout: float = 3.0,
        kick_deadline: float = 2.0,
        retry_base: float = 0.5,
        retry_cap: float = 5.0,
    ) -> None:
        self.uri = uri.text
        self.device_uri = uri
        self.profile = profile
        self.connect_timeout = (
            connect_timeout
            if connect_timeout is not None
            else uri.param_float("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
        )
        self.status_timeout = (
            status_timeout
            if status_timeout is not None
            else uri.param_float("status_timeout", DEFAULT_STATUS_TIMEOUT)
        )
        self.write_timeout = (
            write_timeout
            if write_timeout is not None
            else uri.param_float("write_timeout", DEFAULT_WRITE_TIMEOUT)
        )
        self.busy_timeout = busy_timeout
        self.kick_deadline = kick_deadline
        self._closed = False
        self.device_thread = DeviceThread(f"printer-{uri.target or uri.scheme}")
        try:
            self.spooler = PrintSpooler(
                Path(spool_path),
                self._open,
                self.device_thread,
                status_timeout=self.status_timeout,
                post_status_timeout=post_status_timeout,
                retry_base=retry_base,
                retry_cap=retry_cap,
            )
        except BaseException:
            self.device_thread.shutdown(wait=False)
            raise

    def _open(
        self, connect_timeout: float | None = None, role: str = "printer"
    ) -> PrinterTransport:
        return open_transport(
            self.device_uri,
            role,
            connect_timeout=self.connect_timeout if connect_timeout is None else connect_timeout,
            write_timeout=self.write_timeout,
        )

    # --- ReceiptPrinter -----------------------------------------------------------------

    def print(self, doc: PrintDocument) -> str:
        """Encode `doc` for this printer's profile and queue it; returns the job id at once.
        A document that cannot be encoded becomes a FAILED job saying why."""
        try:
            data = encode(doc, self.profile)
        except Exception as exc:  # a bad logo path, text the encoding cannot hold, …
            log.exception("cannot encode print job %r", doc.title)
            return self.spooler.add_failed(doc.title, f"cannot encode the document: {exc}")
        return self.spooler.submit(data, doc.title)

    def reprint(self, job_id: str) -> str:
        """Queue a copy (补打) of a printed, uncertain or failed job; the new job's id."""
        return self.spooler.reprint(job_id)

    def job(self, job_id: str) -> PrintJobInfo:
        """One job's state (UnknownJob if there is none)."""
        return self.spooler.job(job_id)

    def jobs(self, limit: int = 50) -> list[PrintJobInfo]:
        """The newest jobs first."""
        return self.spooler.jobs(limit)

    def cancel(self, job_id: str) -> bool:
        """Give up a job still waiting in the queue; False if it already went out."""
        return self.spooler.cancel(job_id)

    def wait(self, job_id: str, timeout: float) -> PrintJobInfo:
        """Block until the job is printed, uncertain or failed, or `timeout` s passed."""
        return self.spooler.wait(job_id, timeout)

    def on_job_change(self, callback: Callable[[PrintJobInfo], None]) -> None:
        """Call `callback(info)` on the printer's thread whenever a job changes."""
        self.spooler.on_job_change(callback)

    # --- status -------------------------------------------------------------------------

    def status(self) -> DeviceStatus:
        """The printer's state now; never raises. Waits at most `busy_timeout` s behind a
        job being sent, then reports the printer busy."""
        deadline = time.monotonic() + self.busy_timeout
        try:
            future: Future[DeviceStatus | None] = self.device_thread.submit(
                self._status_now, deadline
            )
        except RuntimeError:
            return DeviceStatus(self.uri, "printer", DeviceState.OFFLINE, "已关闭", "closed")
        try:
            result = future.result(timeout=self.busy_timeout)
        except FutureTimeout:
            future.cancel()
            result = None
        except Exception as exc:  # a driver bug: a status, not a crash
            log.exception("printer status failed")
            return DeviceStatus(self.uri, "printer", DeviceState.ERROR, str(exc), str(exc))
        if result is None:
            return DeviceStatus(
                self.uri,
                "printer",
                DeviceState.OFFLINE,
                f"打印机忙（正在打印），{self.busy_timeout:g} 秒内未应答",
                f"busy (printing): no answer within {self.busy_timeout:g} s",
            )
        return result

    def _status_now(self, deadline: float) -> DeviceStatus | None:
        """Device thread: the status, or None when the caller has already given up."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            transport = self._open(min(self.connect_timeout, remaining))
        except DeviceError as exc:
            return status_for_error(self.uri, "printer", exc)
        with transport:
            timeout = min(self.status_timeout, max(0.05, deadline - time.monotonic()))
            return transport.query_status(timeout)

    # --- CashDrawer ---------------------------------------------------------------------

    def kick(self, pin: int = 2) -> None:
        """Open the drawer on pin 2 or 5 now; raises DeviceError (printer busy, silent, out
        of paper, refused) within `kick_deadline` s, and then the pulse never goes out."""
        pulse = drawer_kick(pin)  # ValueError for another pin
        ticket = _KickTicket(time.monotonic() + self.kick_deadline)
        try:
            future = self.device_thread.submit(self._kick_now, pin, pulse, ticket)
        except RuntimeError:
            raise DeviceRefused("打印机已关闭", "the printer is closed") from None
        try:
            future.result(timeout=ticket.remaining())
            return
        except FutureTimeout:
            if ticket.abandon():
                future.cancel()
                raise DeviceTimeout(
                    f"钱箱未打开：打印机 {self.kick_deadline:g} 秒内无响应（忙或离线）",
                    f"drawer not opened: the printer did not take the kick within "
                    f"{self.kick_deadline:g} s (busy or offline)",
                ) from None
        # The pulse was being written as the deadline passed: it is out, or failed.
        future.result(timeout=self.write_timeout)

    def _kick_now(self, pin: int, pulse: bytes, ticket: _KickTicket) -> None:
        """Device thread: check the printer, then send the pulse unless the caller gave up."""
        if ticket.remaining() <= 0:
            raise _too_late()  # the caller has given up: never open the drawer late
        try:
            transport = self._open(min(self.connect_timeout, ticket.remaining()), "drawer")
        except DeviceError as exc:
            raise _not_opened(exc) from None
        with transport:
            status = transport.query_status(min(self.status_timeout, ticket.remaining()))
            if status.state == DeviceState.PAPER_OUT:
                # Out of paper, ESC p would wait in the buffer and open the drawer once paper
                # is loaded; the real-time pulse opens it now, so change can still be given.
                pulse = realtime_drawer_kick(pin)
            elif not status.ok:
                # Offline for another cause (cover open, an error), the pulse would sit in
                # the buffer and open the drawer when the printer recovers: refuse instead.
                raise DeviceRefused(
                    f"钱箱未打开：{status.text('zh')}", f"drawer not opened: {status.text('en')}"
                )
            if not ticket.begin_write():
                raise _too_late()
            try:
                transport.write(pulse)
            except DeviceError as exc:
                raise _not_opened(exc) from None
        log.info("cash drawer kicked")

    # --- Device -------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the worker (a job being sent is finished first); queued jobs stay in the
        spool and print after the next start."""
        if self._closed:
            return
        self._closed = True
        self.spooler.close()
        self.device_thread.shutdown(wait=True)
