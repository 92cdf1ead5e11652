"""File and folder options that refuse a name no file can have with a usage error.

click.Path checks a path with os.stat(), which raises ValueError (not OSError) for a name
with a NUL character in it; click lets that through as a traceback, even for --data-dir."""

from __future__ import annotations

import os
from typing import Any

import click


class FilePath(click.Path):
    """click.Path, refusing names with a NUL character (and any other name the system
    cannot even look up) with a bilingual usage error."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The path, checked as click.Path checks it."""
        if isinstance(value, str | bytes) and "\x00" in os.fsdecode(value):
            self.fail(
                "文件名不能包含 NUL 字符 / A file name cannot contain a NUL character", param, ctx
            )
        try:
            return super().convert(value, param, ctx)
        except ValueError as exc:
            self.fail(f"无法使用这个文件名 / This file name cannot be used: {exc}", param, ctx)
