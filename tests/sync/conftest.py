"""Fixtures of the sync tests: an empty HQ database of each kind (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync_support.hq_databases import hq_database


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty HQ database, fresh for each test."""
    with hq_database(request.param, tmp_path) as url:
        yield url
