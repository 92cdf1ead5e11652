"""One thread per device: all of a device's I/O runs there, one call at a time.

Native device libraries (pcsclite through pyscard, libusb, a serial port) are not safe to use
from several threads at once, and a slow device must never block the caller (the GUI thread).
Each driver owns a DeviceThread, submits its I/O to it, and marks the methods that must only
run there with `@on_device_thread`, which asserts it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class DeviceThread:
    """A single worker thread that runs a device's calls in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hw-{name}")
        self._ident: int | None = None
        self._executor.submit(self._note_ident).result()

    def _note_ident(self) -> None:
        self._ident = threading.get_ident()

    def is_current(self) -> bool:
        """True when called from this device's thread."""
        return threading.get_ident() == self._ident

    def submit(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        """Queue `fn` on the device thread; the caller goes on at once."""
        return self._executor.submit(fn, *args, **kwargs)

    def call(self, fn: Callable[..., R], *args: Any, timeout: float | None = None) -> R:
        """Run `fn` on the device thread and wait for it (directly when already there).

        A TimeoutError leaves the call running on the device thread; callers that must not
        wait long pass a short `timeout` and report the device as not answering.
        """
        if self.is_current():
            return fn(*args)
        return self._executor.submit(fn, *args).result(timeout=timeout)

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking calls; with `wait`, finish the queued ones first."""
        self._executor.shutdown(wait=wait, cancel_futures=not wait)


class HasDeviceThread(Protocol):
    device_thread: DeviceThread


S = TypeVar("S", bound=HasDeviceThread)


def on_device_thread(method: Callable[..., R]) -> Callable[..., R]:
    """Assert that a driver method runs on its device's thread (a bug otherwise)."""

    @functools.wraps(method)
    def checked(self: HasDeviceThread, *args: Any, **kwargs: Any) -> R:
        if not self.device_thread.is_current():
            raise RuntimeError(f"{method.__qualname__} must run on the device thread")
        return method(self, *args, **kwargs)

    return checked
