"""Automatic backups while the till runs: every few hours (settings.toml `[backup]
every_hours`) and after each day end, on the background worker so the till keeps selling.

The window checks now and then whether a backup is due; it makes one as the signed-in
operator (backing up is a cashier's permission). A backup that fails, or a last good backup
older than a day, is said in the alert bar: a store must not find out at restore time that
it has none.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject, QTimer
from PySide6.QtWidgets import QWidget

from pos_app.services.auth import Actor
from pos_app.services.backups import BackupInfo, back_up, backup_due
from pos_app.services.context import StoreContext
from pos_app.ui.error_text import describe_error
from pos_app.ui.operations import ServiceOp
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill

log = logging.getLogger(__name__)

CHECK_EVERY_MS = 10 * 60 * 1000
FIRST_CHECK_MS = 5_000  # after sign-in, once the till has settled


def run_backup(
    parent: QWidget, ctx: StoreContext, actor: Actor, reason: str, lang: str
) -> ServiceOp[BackupInfo]:
    """Back up in the background; a failure goes to the window's alert bar as a warning."""
    return (
        ServiceOp(parent, lambda: back_up(ctx, actor, reason), kind="background")
        .failure(lambda exc: _warn(parent.window(), lang, reason, exc))
        .run()
    )


def _warn(window: QWidget, lang: str, reason: str, exc: BaseException) -> None:
    text = fill(
        QCoreApplication.translate("BackupScheduler", "The automatic backup failed: %1"),
        describe_error(exc, lang),
    )
    if hasattr(window, "show_message"):
        window.show_message(text, "warning")
    log.warning("automatic backup (%s) failed: %s", reason, exc)


class BackupScheduler(QObject):
    """Checks every few minutes whether a scheduled backup is due, and makes it."""

    def __init__(self, window: QWidget, session: TillSession) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self._busy = False
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(CHECK_EVERY_MS)
        session.sig_signed_in.connect(lambda _actor: QTimer.singleShot(FIRST_CHECK_MS, self.check))

    def check(self) -> None:
        actor, ctx = self.session.actor, self.session.ctx
        if actor is None or self._busy or ctx.data_dir is None:
            return
        self._busy = True

        def due_then_back_up() -> BackupInfo | None:
            return back_up(ctx, actor, "scheduled") if backup_due(ctx) else None

        ServiceOp(self.window, due_then_back_up, kind="background").failure(
            lambda exc: _warn(self.window, self.session.lang, "scheduled", exc)
        ).finally_(self._done).run()

    def _done(self) -> None:
        self._busy = False
