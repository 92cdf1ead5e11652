"""The store a service works on: its database, its clock, its business time zone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from db.engine import make_engine, read_session
from db.migrate import upgrade
from db.models import Store
from pos_app.domain.errors import NotInitialized

DB_FILENAME = "store.sqlite3"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Times are stored as ISO-8601 UTC text with microseconds, so they sort as text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class StoreContext:
    """Everything a service needs besides its arguments. Made once per process."""

    engine: Engine
    clock: Callable[[], datetime] = utc_now
    _store: Store | None = field(default=None, init=False, repr=False)

    def now(self) -> datetime:
        return self.clock()

    def now_iso(self) -> str:
        return iso(self.clock())

    @property
    def store(self) -> Store:
        """This installation's store row; refuses politely before `init`."""
        if self._store is None:
            with read_session(self.engine) as session:
                store = session.scalars(select(Store)).first()
                if store is None:
                    raise NotInitialized(
                        "门店尚未初始化，请先运行 pos-app init",
                        "This store is not set up yet: run pos-app init first",
                    )
                session.expunge(store)
                self._store = store
        return self._store

    def forget_store(self) -> None:
        self._store = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.store.timezone)

    def business_day(self, moment: datetime | None = None) -> date:
        """The store's calendar day of a moment (Asia/Shanghai by default)."""
        return (moment or self.now()).astimezone(self.tz).date()

    def day_start_iso(self, day: date) -> str:
        """The UTC instant a business day starts, as stored text."""
        local = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        return iso(local)

    def days_ago_iso(self, days: int) -> str:
        return iso(self.now() - timedelta(days=days))


def open_store(data_dir: Path | str, clock: Callable[[], datetime] = utc_now) -> StoreContext:
    """Open (creating if needed) the store database in `data_dir` and upgrade its schema."""
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(path / DB_FILENAME)
    upgrade(engine)
    return StoreContext(engine=engine, clock=clock)
