"""The store a service works on: its database, its clock, its business time zone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from db.engine import make_engine, read_session
from db.migrate import upgrade
from db.models import Store, Till, own_store
from pos_app.domain.errors import NotInitialized
from pos_app.services.store_secret import StoreKeys, default_key_dir, load_keys

DB_FILENAME = "store.sqlite3"

log = logging.getLogger(__name__)


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
    # The data folder (the database, settings, logs, the integrity alarm) and the folder of
    # the store's key file, kept apart from it (see store_secret).
    data_dir: Path | None = None
    key_dir: Path = field(default_factory=default_key_dir)
    # Called after each committed use case (a sale, a top-up…): the sync agent's nudge.
    # Each must be quick and must not raise; they run on the thread that wrote.
    commit_listeners: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _store: Store | None = field(default=None, init=False, repr=False)
    _keys: StoreKeys | None = field(default=None, init=False, repr=False)
    _till_id: str | None = field(default=None, init=False, repr=False)

    def now(self) -> datetime:
        return self.clock()

    def now_iso(self) -> str:
        return iso(self.clock())

    @property
    def store(self) -> Store:
        """This installation's store row; refuses politely before `init`."""
        if self._store is None:
            with read_session(self.engine) as session:
                store = session.scalars(own_store()).first()
                if store is None:
                    raise NotInitialized(
                        "门店尚未初始化，请先运行 pos-app init",
                        "This store is not set up yet: run pos-app init first",
                    )
                session.expunge(store)
                self._store = store
        return self._store

    @property
    def till_id(self) -> str:
        """This installation's till ("SH01-01"): every entry it writes and every receipt
        number it gives carries it. Refuses politely before `init`."""
        if self._till_id is None:
            store = self.store
            with read_session(self.engine) as session:
                till_id = session.scalars(
                    select(Till.id).where(Till.store_id == store.id).order_by(Till.id)
                ).first()
            if till_id is None:
                raise NotInitialized(
                    "本机尚未设置收银机编号，请先运行 pos-app init",
                    "This installation has no till id yet: run pos-app init first",
                )
            self._till_id = till_id
        return self._till_id

    def notify_committed(self) -> None:
        """Tell the listeners a use case committed (a listener's failure is only logged)."""
        for listener in list(self.commit_listeners):
            try:
                listener()
            except Exception:  # noqa: BLE001 — a sale that committed must not fail after it
                log.exception("a commit listener failed")

    def forget_store(self) -> None:
        self._store = None
        self._keys = None
        self._till_id = None

    @property
    def keys(self) -> StoreKeys | None:
        """The store's keys, or None while it has none (before `init`, or a key file lost)."""
        if self._keys is None:
            self._keys = load_keys(self.key_dir, self.store.id)
        return self._keys

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


def open_store(
    data_dir: Path | str,
    clock: Callable[[], datetime] = utc_now,
    key_dir: Path | None = None,
) -> StoreContext:
    """Open (creating if needed) the store database in `data_dir` and upgrade its schema; a
    store made by an older version gets its key here (`store_sealing.seal_legacy_store`)."""
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(path / DB_FILENAME)
    upgrade(engine)
    ctx = StoreContext(
        engine=engine, clock=clock, data_dir=path, key_dir=key_dir or default_key_dir()
    )
    # Imported here: sealing writes through the services, which import this module.
    from pos_app.services.store_sealing import seal_legacy_store

    seal_legacy_store(ctx)
    return ctx
