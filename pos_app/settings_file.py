"""Writing the installation's `settings.toml` from the app (Settings screen), keeping the
comments and the order a person wrote; and the `[app]` table (the UI language).

A write goes to a temporary file first and replaces the old one in one step, so a power cut
leaves either the old settings or the new, never half a file.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from pos_app.device_settings import SETTINGS_FILE

LANGUAGES = ("zh_CN", "en")


@dataclass(frozen=True)
class AppSettings:
    """`[app]`: how the till's screen behaves."""

    language: str = "zh_CN"  # zh_CN or en


def load_app_settings(data_dir: Path) -> AppSettings:
    """The `[app]` table; a missing or unreadable file gives the defaults (the devices'
    loader reports a malformed file in full)."""
    path = data_dir / SETTINGS_FILE
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return AppSettings()
    table = document.get("app", {})
    language = table.get("language") if isinstance(table, dict) else None
    return AppSettings(language=language if language in LANGUAGES else "zh_CN")


def update_settings(data_dir: Path, section: str, values: Mapping[str, Any]) -> Path:
    """Set `values` in the `[section]` table of settings.toml (created if missing); keys not
    named are left as they were. Returns the file's path."""
    path = data_dir / SETTINGS_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    document = tomlkit.parse(text)
    if section not in document:
        document[section] = tomlkit.table()
    table = document[section]
    for key, value in values.items():
        table[key] = value  # type: ignore[index]
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".toml", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(tomlkit.dumps(document))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
