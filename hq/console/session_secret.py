"""The key that signs the console's session cookie.

`POS_HQ_SECRET` when set (every worker and every HQ host of one deployment must share it).
Otherwise a file made at the first start and kept: next to a SQLite database
(`hq.sqlite3.console-secret`), or in pos-hq's data folder for a server database. Made with
O_EXCL and mode 0600, so workers starting together all end up reading the one that won.
Changing it signs everyone out; it never protects data at rest.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import platformdirs
from sqlalchemy.engine import URL

from hq.engine import APP_NAME

ENVIRONMENT = "POS_HQ_SECRET"
MIN_LENGTH = 32


def secret_file(url: URL) -> Path:
    """Where the secret is kept for the database at `url` when the environment gives none."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(database.name + ".console-secret")
    return Path(platformdirs.user_data_dir(APP_NAME)) / "console-secret"


def session_secret(url: URL) -> str:
    """The session key for the HQ at `url` (see the module's docstring)."""
    from_env = os.environ.get(ENVIRONMENT, "").strip()
    if from_env:
        if len(from_env) < MIN_LENGTH:
            raise ValueError(
                f"{ENVIRONMENT} 至少需要 {MIN_LENGTH} 个字符 / "
                f"{ENVIRONMENT} must be at least {MIN_LENGTH} characters"
            )
        return from_env
    path = secret_file(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
    # Another worker may have made the file an instant ago and be writing it still.
    for _ in range(100):
        text = path.read_text(encoding="ascii").strip()
        if len(text) >= MIN_LENGTH:
            return text
        time.sleep(0.02)
    raise RuntimeError(f"console secret file {path} is empty or too short")
