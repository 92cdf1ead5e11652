"""Writing down an internal error (a bug that reached the top of a command) for support.

The traceback goes to the store's log, where the person who reports it can find it, and
never to the terminal. The command line is not logged, since it may hold a password, a
PIN or a card number; only the command's name is. Long digit runs in the traceback (a
card number in an exception's message) are masked like everything else in the log.
"""

from __future__ import annotations

import logging
import tempfile
import traceback
from datetime import datetime
from logging.handlers import TimedRotatingFileHandler
from pathlib import Path

from pos_app.app_logging import MaskDigits
from pos_app.cli.invocation import Invocation

log = logging.getLogger("pos_app.cli")


def log_internal_error(inv: Invocation, command: str, exc: BaseException) -> Path | None:
    """Log `exc` with its traceback; returns the log file written to (None if none could be).

    With a store, that is the store's own log; without one (the store could not be opened,
    or there is none), a file in the temporary folder, so that nothing is created in a data
    folder that may be mistyped."""
    text = "".join(traceback.format_exception(exc)).rstrip()
    record = log.makeRecord(
        log.name, logging.ERROR, __file__, 0, "internal error in `%s`: %s", (command, text), None
    )
    handlers = _store_log_handlers(inv)
    for handler in handlers:
        # To the log file only: through the logger, a handler someone put on the root
        # logger (a library's basicConfig) would print the traceback on the terminal.
        handler.handle(record)
    if handlers:
        return Path(handlers[0].baseFilename)
    return _fallback_log(record)


def _store_log_handlers(inv: Invocation) -> list[TimedRotatingFileHandler]:
    if inv.has_store_file() and not _handlers():
        try:
            inv.start_logging()
        except OSError:
            return []
    return _handlers()


def _handlers() -> list[TimedRotatingFileHandler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, TimedRotatingFileHandler)]


def _fallback_log(record: logging.LogRecord) -> Path | None:
    MaskDigits().filter(record)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        with tempfile.NamedTemporaryFile(
            "w",
            encoding="utf-8",
            prefix=f"pos-app-error-{stamp}-",
            suffix=".log",
            delete=False,
        ) as f:
            f.write(record.getMessage() + "\n")
    except OSError:
        return None
    return Path(f.name)
