"""Progress of slow commands (imports, demo data, verify), always on stderr.

On a terminal the counter redraws in place; in a log or a pipe it prints a line now and
then, so a long import neither floods the log nor looks stuck.
"""

from __future__ import annotations

import sys
import time

import click

# In a pipe: at most one line per this many seconds (plus the first and the last).
PIPE_INTERVAL_S = 2.0


class StderrProgress:
    """A progress callback for services: `progress(done, total)` or `progress(count)`.

    Use it as a context manager so the line is finished when the work is done (or fails).
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self._last_line = 0.0
        self._drawn = False  # a terminal line is open
        self._pending = False  # in a pipe: the latest state is not printed yet
        self._last_text = ""

    def __call__(self, done: int | str, total: int | None = None) -> None:
        if isinstance(done, str):  # some services report a phase by name
            text = f"{self.label} {done}"
        elif total:
            pct = min(100, done * 100 // total)
            text = f"{self.label} {done}/{total} ({pct}%)"
        else:
            text = f"{self.label} {done}"
        self._last_text = text
        if self.tty:
            click.echo(f"\r{text}\x1b[K", nl=False, err=True)
            self._drawn = True
            return
        now = time.monotonic()
        finished = total is not None and not isinstance(done, str) and done >= total
        if finished or now - self._last_line >= PIPE_INTERVAL_S:
            click.echo(text, err=True)
            self._last_line = now
            self._pending = False
        else:
            self._pending = True

    def close(self) -> None:
        if self._drawn:
            click.echo("", err=True)
            self._drawn = False
        if self._pending:
            click.echo(self._last_text, err=True)
            self._pending = False

    def __enter__(self) -> StderrProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
