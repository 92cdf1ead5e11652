"""HQ's app served by uvicorn in a thread of the test process: the same server as `pos-hq
serve`, but a restart costs milliseconds, which the state machine needs for its many runs.
`HqProcess` is the real kill -9; this is a quick stop (`force_exit`, open requests abandoned)
and a start again on the same database and port. HQ's clock can be the tests' (`clock`),
so hours offline pass in an instant for the till and HQ alike."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import uvicorn
from sqlalchemy import Engine

from hq import migrate
from hq.engine import open_engine
from hq.server import create_app
from tests.sync_support.hq_process import free_port

START_TIMEOUT = 10.0


class HqThread:
    def __init__(
        self,
        db_url: str,
        port: int | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db_url = db_url
        self.clock = clock
        self.port = port or free_port()
        self.engine: Engine = open_engine(db_url)
        migrate.upgrade(self.engine)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> HqThread:
        if self.running:
            raise RuntimeError("HQ is already running")
        config = uvicorn.Config(
            create_app(self.engine) if self.clock is None else create_app(self.engine, self.clock),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=0,
        )
        server = uvicorn.Server(config)
        # The test process owns the signal handlers; a server in a thread must not touch them.
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        thread = threading.Thread(target=server.run, name="hq-thread", daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("HQ's server thread ended before it started")
            if time.monotonic() > deadline:
                raise RuntimeError(f"HQ did not start in {START_TIMEOUT} s")
            time.sleep(0.005)
        self._server, self._thread = server, thread
        self.starts += 1
        return self

    def stop(self) -> None:
        """Stop at once: open connections are dropped, not drained."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None

    def restart(self) -> HqThread:
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        self.engine.dispose()

    def __enter__(self) -> HqThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
