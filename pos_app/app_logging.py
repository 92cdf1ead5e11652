"""Logging: one file per day under the data folder, nothing secret in it, nothing on the
terminal unless asked for (`pos-app -v`).

The file takes the app's own loggers (`pos_app`, `hardware`, `db`) and Alembic's at INFO, and
every other library's warnings. Services log what happened with masked card numbers; as a
second line of defence a filter masks any long run of digits (card numbers, mobiles) that
slips into a message.
"""

from __future__ import annotations

import logging
import re
import sys
from logging.handlers import TimedRotatingFileHandler
from pathlib import Path

_LONG_DIGITS = re.compile(r"\d{8,}")
KEEP_DAYS = 180
# Logged at INFO; everything else (SQLAlchemy, python-escpos, ...) at the root's WARNING, so
# that SQLAlchemy, which logs every statement at INFO, stays quiet.
APP_LOGGERS = ("pos_app", "hardware", "db", "alembic")
_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _mask(match: re.Match[str]) -> str:
    digits = match.group(0)
    return f"{digits[:3]}****{digits[-4:]}"


class MaskDigits(logging.Filter):
    """Masks runs of 8+ digits in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _LONG_DIGITS.sub(_mask, message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(data_dir: Path, level: int = logging.INFO) -> logging.Handler | None:
    """Send the log to data_dir/logs/pos-app.log, rotated at midnight. Returns the handler
    added to the root logger, for the caller to remove when done; None if one was there."""
    log_dir = Path(data_dir) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    if any(isinstance(h, TimedRotatingFileHandler) for h in root.handlers):
        return None
    handler = TimedRotatingFileHandler(
        log_dir / "pos-app.log", when="midnight", backupCount=KEEP_DAYS, encoding="utf-8"
    )
    _set_up(handler)
    root.addHandler(handler)
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(level)
    return handler


def terminal_handler(*, verbose: bool) -> logging.Handler:
    """A root handler for one command-line run: with `verbose`, log lines also on stderr
    (INFO and up, masked like the file); without, a sink, so that not even a warning with no
    handler to go to reaches the terminal through logging's last resort."""
    handler: logging.Handler
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        _set_up(handler)
        for name in APP_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)
    else:
        handler = logging.NullHandler()
    logging.getLogger().addHandler(handler)
    return handler


def _set_up(handler: logging.Handler) -> None:
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(MaskDigits())
