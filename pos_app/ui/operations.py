"""Work off the UI thread: database use-cases on one writer thread, device I/O on another.

    ServiceOp(parent, lambda: sell(ctx, actor, request)).success(show_change).run()

Nothing inside the function touches a widget; its result (or its exception) comes back on the
GUI thread (through `post_to_gui`), to `success` or `failure`. Database work runs on a single
worker, so writes are serialized exactly as the services expect (one SQLite writer) and a
cashier double-pressing "pay" queues the second try behind the first instead of racing it.
Printing, the drawer and the display run on their own worker (`kind="io"`), so a slow printer
never holds up a sale. The window shows a busy note for anything that takes longer than a
moment, and the default failure handler puts a clear message in the window's alert bar.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar, Generic, Literal, TypeVar

from PySide6.QtCore import QMetaObject, QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

log = logging.getLogger(__name__)

T = TypeVar("T")
# db: the one database writer; io: devices; background: long reads that must hold up neither
# (a backup, a verify of millions of entries).
Kind = Literal["db", "io", "background"]
BUSY_AFTER_MS = 300  # a result sooner than this shows no busy note at all


class _Workers:
    """The worker threads of the process, one per kind, made on first use."""

    lock = threading.Lock()
    pools: ClassVar[dict[str, ThreadPoolExecutor]] = {}

    @classmethod
    def pool(cls, kind: Kind) -> ThreadPoolExecutor:
        with cls.lock:
            if kind not in cls.pools:
                cls.pools[kind] = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix=f"pos-{kind}"
                )
            return cls.pools[kind]

    @classmethod
    def shutdown(cls) -> None:
        with cls.lock:
            pools, cls.pools = dict(cls.pools), {}
        for pool in pools.values():
            pool.shutdown(wait=True, cancel_futures=False)


class _GuiInbox(QObject):
    """Calls handed over from other threads, run on the GUI thread.

    PySide6 (6.8 and later, PYSIDE-3124) corrupts Python objects when a signal carrying them is
    emitted from a thread Qt did not start — a worker pool's thread, a device's reader thread —
    and so do QTimer.singleShot and postEvent from there. What holds up: the callable goes into
    a thread-safe queue, and an argument-less queued `invokeMethod` wakes the GUI thread to run
    what is queued. No Python object crosses threads through Qt at all.
    """

    def __init__(self) -> None:
        super().__init__(None)
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()

    def post(self, fn: Callable[[], None]) -> None:
        self._queue.put(fn)
        QMetaObject.invokeMethod(self, "_drain", Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _drain(self) -> None:
        while True:
            try:
                fn = self._queue.get_nowait()
            except queue.Empty:
                return
            try:
                fn()
            except Exception:  # one handler's bug must not keep the others from running
                log.exception("a call handed to the GUI thread failed")


_inbox: list[_GuiInbox] = []


def gui_inbox() -> _GuiInbox:
    """The process's inbox; the first call must come from the GUI thread (it is made there)."""
    if not _inbox:
        _inbox.append(_GuiInbox())
    return _inbox[0]


def post_to_gui(fn: Callable[[], None]) -> None:
    """Run `fn()` on the GUI thread soon; callable from any thread."""
    gui_inbox().post(fn)


_running: set[ServiceOp[Any]] = set()  # kept alive until their result is delivered


class ServiceOp(QObject, Generic[T]):
    """One piece of work run in the background; callbacks run on the GUI thread.

    `parent` is the widget that asked: when it is gone by the time the result arrives, the
    callbacks are skipped (the work itself is never abandoned halfway: it ran to its end).
    """

    def __init__(
        self,
        parent: QWidget | None,
        fn: Callable[[], T],
        *,
        kind: Kind = "db",
        busy_text: str = "",
    ) -> None:
        super().__init__(None)
        self._parent = parent
        self._fn = fn
        self._kind = kind
        self._busy_text = busy_text
        self._on_success: Callable[[T], None] | None = None
        self._on_failure: Callable[[BaseException], None] | None = None
        self._on_done: Callable[[], None] | None = None
        self._busy_timer: QTimer | None = None
        self._inbox = gui_inbox()  # made on the GUI thread, before any worker needs it

    def success(self, callback: Callable[[T], None]) -> ServiceOp[T]:
        """Call `callback(result)` on the GUI thread when the work succeeded."""
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[BaseException], None]) -> ServiceOp[T]:
        """Call `callback(exc)` instead of the default (a message in the window's alert bar)."""
        self._on_failure = callback
        return self

    def finally_(self, callback: Callable[[], None]) -> ServiceOp[T]:
        """Call `callback()` after success or failure (to re-enable a button, say)."""
        self._on_done = callback
        return self

    def run(self) -> ServiceOp[T]:
        """Start the work; returns at once."""
        _running.add(self)
        if self._busy_text and self._parent is not None:
            self._busy_timer = QTimer(self)
            self._busy_timer.setSingleShot(True)
            self._busy_timer.timeout.connect(self._show_busy)
            self._busy_timer.start(BUSY_AFTER_MS)
        future = _Workers.pool(self._kind).submit(self._fn)
        future.add_done_callback(self._from_worker)
        return self

    def _from_worker(self, future: Future[T]) -> None:
        exc = future.exception()
        result = None if exc else future.result()
        self._inbox.post(lambda: self._deliver(result, exc))  # type: ignore[arg-type]

    def _show_busy(self) -> None:
        window = _window_of(self._parent)
        if window is not None and hasattr(window, "show_busy"):
            window.show_busy(self._busy_text)

    def _deliver(self, result: T, exc: BaseException | None) -> None:
        _running.discard(self)
        if self._busy_timer is not None:
            self._busy_timer.stop()
            window = _window_of(self._parent)
            if window is not None and hasattr(window, "hide_busy"):
                window.hide_busy()
        if self._parent is not None and not isValid(self._parent):
            if exc is not None:
                log.warning("background work failed after its window closed: %s", exc)
            return
        try:
            if exc is not None:
                if self._on_failure is not None:
                    self._on_failure(exc)
                else:
                    report_failure(self._parent, exc)
            elif self._on_success is not None:
                self._on_success(result)
        finally:
            if self._on_done is not None:
                self._on_done()
            self.deleteLater()


def _window_of(widget: QWidget | None) -> QWidget | None:
    if widget is None or not isValid(widget):
        return None
    return widget.window()


def report_failure(parent: QWidget | None, exc: BaseException) -> None:
    """Show a failure in the alert bar of `parent`'s window (or log it when there is none)."""
    window = _window_of(parent)
    if window is not None and hasattr(window, "show_error"):
        window.show_error(exc)
    else:
        log.error("background work failed: %s", exc, exc_info=exc)


def pending_operations() -> int:
    """How many operations have not delivered their result yet (tests wait for zero)."""
    return len(_running)


def shutdown_workers() -> None:
    """Let queued work finish and stop the worker threads (at application exit)."""
    _Workers.shutdown()
