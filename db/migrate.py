"""Run Alembic migrations from the application (the app upgrades its database on start).

Alembic itself is imported only when a database needs upgrading: importing it costs a
command-line run a few hundred milliseconds, and the usual start finds the schema current.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# `revision: str = "0005"` at the start of a line of a revision file, annotation optional.
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.*?)\s*$", re.MULTILINE)
_QUOTED = re.compile(r"""(["'])([^"']+)\1""")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; a no-op when it is already there."""
    if is_current(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest revision (one linear history of revisions)."""
    head = _head_revision()
    if head is None:  # branches, merges or an unusual file: ask Alembic
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current: list[str] = []
        if inspect(conn).has_table("alembic_version"):
            current = list(conn.scalars(text("SELECT version_num FROM alembic_version")))
        conn.rollback()
    return current == [head]


def _head_revision() -> str | None:
    """The one revision no other revision follows, read from the revision files' plain
    `revision = "…"` / `down_revision = "…"` lines; None when that is not clear."""
    revisions: set[str] = set()
    follows: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        revision, down = found.get("revision", ""), found.get("down_revision", "")
        quoted = _QUOTED.fullmatch(revision)
        if quoted is None or not (down == "None" or _QUOTED.fullmatch(down)):
            return None
        revisions.add(quoted[2])
        if down != "None":
            follows.add(down[1:-1])
    heads = revisions - follows
    return heads.pop() if len(heads) == 1 else None
