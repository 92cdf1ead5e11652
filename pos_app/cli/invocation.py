"""One run of `pos-app`: which store it works on, how it prints, and what it must close."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from pos_app.app_logging import configure_logging, terminal_handler
from pos_app.cli.output import Output
from pos_app.domain.errors import NotInitialized

if TYPE_CHECKING:
    from pos_app.services.context import StoreContext

APP_NAME = "pos-app"
LOG_DIR = "logs"  # where pos_app.app_logging writes, under the data folder


def _store_files() -> tuple[str, ...]:
    # The services (and SQLAlchemy under them) load only when a command opens a store.
    from pos_app.services.context import DB_FILENAME

    return (DB_FILENAME, DB_FILENAME + "-wal", DB_FILENAME + "-shm")


def default_data_dir() -> Path:
    """Where the store lives unless --data-dir or POS_DATA_DIR says otherwise."""
    return Path(platformdirs.user_data_dir(APP_NAME))


class Invocation:
    """Shared by the commands of one invocation (click's `obj`)."""

    def __init__(self, data_dir: Path, as_json: bool, lang: str) -> None:
        self.data_dir = data_dir
        self.data_dir_given = False  # --data-dir or POS_DATA_DIR, not the default
        self.lang_given = False  # --lang or POS_LANG: the app starts in that language
        self.lang = lang
        self.out = Output(as_json, lang)
        self._ctx: StoreContext | None = None
        self._log_handlers: list[logging.Handler] = []

    @property
    def as_json(self) -> bool:
        return self.out.as_json

    def has_store_file(self) -> bool:
        return (self.data_dir / _store_files()[0]).exists()

    def discard_new_store(self, existed: set[Path]) -> None:
        """Undo what opening a new store created (the folder, the database, the log), for an
        `init` that was refused: a refused command leaves nothing behind. `existed` is what
        `paths_present()` returned before the store was opened."""
        self.close()
        for path in (self.data_dir / name for name in _store_files()):
            if path not in existed:
                path.unlink(missing_ok=True)
        logs = self.data_dir / LOG_DIR
        if logs not in existed and logs.is_dir():
            shutil.rmtree(logs, ignore_errors=True)
        for folder in (self.data_dir, *self.data_dir.parents):  # the folders mkdir made
            if folder in existed:
                break
            try:
                folder.rmdir()  # only if nothing else is in it
            except OSError:
                break

    def paths_present(self) -> set[Path]:
        """Which of the paths a new store creates are already there."""
        candidates = [self.data_dir, *self.data_dir.parents, self.data_dir / LOG_DIR]
        candidates += [self.data_dir / name for name in _store_files()]
        return {p for p in candidates if p.exists()}

    def store(self, *, create: bool = False) -> StoreContext:
        """The store's context. Only `init` and `demo` may create a database: any other
        command on a folder without one is refused, so a mistyped --data-dir leaves no trace."""
        if self._ctx is None:
            if not create and not self.has_store_file():
                raise NotInitialized(
                    f"这个数据目录里没有门店：{self.data_dir}（请先运行 pos-app init，"
                    "或用 --data-dir / POS_DATA_DIR 指定门店目录）",
                    f"There is no store in {self.data_dir} (run pos-app init first, or point "
                    "--data-dir / POS_DATA_DIR at the store's folder)",
                )
            from pos_app.services.context import open_store

            # Before the store opens, so that a new store's migrations are in its log.
            self.start_logging()
            self._ctx = open_store(self.data_dir)
        return self._ctx

    def adopt(self, ctx: StoreContext) -> None:
        """Work on `ctx` from now on: a restore replaced the database the old one was on."""
        self._ctx = ctx

    def start_logging(self) -> None:
        """Log to this store's folder (logs/pos-app.log) until `close()`."""
        # For the length of this invocation only, so that running many invocations in one
        # process (tests, the demo) never leaks handlers between them.
        handler = configure_logging(self.data_dir)
        if handler is not None:
            self._log_handlers.append(handler)

    def log_to_terminal(self, *, verbose: bool) -> None:
        """Log lines on stderr with `verbose` (pos-app -v); otherwise never on the terminal,
        which shows only the command's result and its errors. Until `close()`."""
        self._log_handlers.append(terminal_handler(verbose=verbose))

    def close(self) -> None:
        logger = logging.getLogger()
        for handler in self._log_handlers:
            logger.removeHandler(handler)
            handler.close()
        self._log_handlers = []
        if self._ctx is not None:
            self._ctx.engine.dispose()
            self._ctx = None
