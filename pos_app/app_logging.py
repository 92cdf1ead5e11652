"""Logging: one file per day under the data folder, nothing secret in it.

Services log what happened with masked card numbers; as a second line of defence a filter
masks any long run of digits (card numbers, mobiles) that slips into a message.
"""

from __future__ import annotations

import logging
import re
from logging.handlers import TimedRotatingFileHandler
from pathlib import Path

_LONG_DIGITS = re.compile(r"\d{8,}")
KEEP_DAYS = 180


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


def configure_logging(data_dir: Path, level: int = logging.INFO) -> None:
    """Send the `pos_app` loggers to data_dir/logs/pos-app.log, rotated at midnight."""
    log_dir = Path(data_dir) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger("pos_app")
    if any(isinstance(h, TimedRotatingFileHandler) for h in root.handlers):
        return
    handler = TimedRotatingFileHandler(
        log_dir / "pos-app.log", when="midnight", backupCount=KEEP_DAYS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(MaskDigits())
    root.addHandler(handler)
    root.setLevel(level)
