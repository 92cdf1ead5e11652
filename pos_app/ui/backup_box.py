"""The Backups box of the settings screen: the last good backup, a warning when it is older
than a day (or there is none), where backups go, and "Back up now" with its progress.

A backup runs on the background worker, not the database one: copying and verifying a large
store takes a while, and the till keeps selling meanwhile (SQLite's online backup reads one
snapshot without holding up writers). Restoring is a manager's job at the command line with
the till closed (`pos-app backup restore`), so the box only says how.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from pos_app.services.backups import (
    STALE_AFTER,
    BackupInfo,
    back_up,
    backup_settings,
    last_backup,
)
from pos_app.ui.error_text import describe_error
from pos_app.ui.operations import ServiceOp, post_to_gui
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill

OK_STYLE = "color: #1a7f37;"
WARN_STYLE = "color: #c62828; font-weight: bold;"
MUTED_STYLE = "color: #5b6673;"
PROGRESS_EVERY_S = 0.2  # the worker reports often; the screen needs a few updates a second


class BackupBox(QGroupBox):
    """Shows the state of the store's backups and makes one on request."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Backups"), parent)
        self.session = session
        form = QFormLayout(self)
        self.last_label = QLabel(self)
        self.last_label.setWordWrap(True)
        form.addRow(self.tr("Last good backup"), self.last_label)
        self.folder_label = QLabel(self)
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.tr("Backup folder"), self.folder_label)
        self.backup_button = QPushButton(self.tr("Back up now"), self)
        self.backup_button.clicked.connect(self.back_up_now)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.hide()
        form.addRow(self.backup_button, self.progress)
        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)
        form.addRow(self.result_label)
        restore_note = QLabel(
            self.tr(
                "To restore a backup, close the till and run: pos-app backup restore NAME "
                "(a manager; the current database is kept aside)."
            ),
            self,
        )
        restore_note.setWordWrap(True)
        restore_note.setStyleSheet(MUTED_STYLE)
        form.addRow(restore_note)
        self._last_progress = 0.0

    def refresh(self) -> None:
        """Read the backup folder (on the background worker) and show the last backup."""
        ctx = self.session.ctx

        def read() -> tuple[BackupInfo | None, str]:
            assert ctx.data_dir is not None
            return last_backup(ctx), str(backup_settings(ctx.data_dir).folder)

        ServiceOp(self, read, kind="background").success(self._show).failure(
            self._show_failure
        ).run()

    def _show(self, found: tuple[BackupInfo | None, str]) -> None:
        info, folder = found
        self.folder_label.setText(folder)
        self.show_last(info)

    def show_last(self, info: BackupInfo | None) -> None:
        if info is None:
            self.last_label.setText(self.tr("No backup yet: back up now."))
            self.last_label.setStyleSheet(WARN_STYLE)
            return
        made = datetime.fromisoformat(info.created_at)
        age = self.session.ctx.now() - made
        hours = int(age.total_seconds() // 3600)
        text = fill(
            self.tr("%1 (%2 h ago), ledger #%3, %4 entries, verified"),
            made.astimezone(self.session.ctx.tz).strftime("%Y-%m-%d %H:%M"),
            hours,
            info.head_seq,
            info.entries,
        )
        if age > STALE_AFTER:
            text += "\n" + self.tr("Older than a day: back up now.")
            self.last_label.setStyleSheet(WARN_STYLE)
        else:
            self.last_label.setStyleSheet(OK_STYLE)
        self.last_label.setText(text)

    def _show_failure(self, exc: BaseException) -> None:
        self.result_label.setText(describe_error(exc, self.session.lang))
        self.result_label.setStyleSheet(WARN_STYLE)

    def back_up_now(self) -> None:
        actor = self.session.actor
        if actor is None:
            return
        ctx = self.session.ctx
        self.backup_button.setEnabled(False)
        self.result_label.setText("")
        self.progress.setRange(0, 0)  # busy until the verify's counts arrive
        self.progress.setFormat(self.tr("Copying…"))
        self.progress.show()
        self._last_progress = 0.0

        def work() -> BackupInfo:
            return back_up(ctx, actor, "manual", self._from_worker)

        ServiceOp(self, work, kind="background").success(self._done).failure(
            self._show_failure
        ).finally_(self._finished).run()

    def _from_worker(self, stage: str, count: int) -> None:
        # Called on the worker thread: throttled, then handed to the GUI thread.
        now = time.monotonic()
        if stage == "verify" and now - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        post_to_gui(lambda: self._show_progress(stage, count))

    def _show_progress(self, stage: str, count: int) -> None:
        if stage == "verify":
            self.progress.setFormat(fill(self.tr("Verifying: %1 entries"), f"{count:,}"))
        else:
            self.progress.setFormat(self.tr("Copying…"))

    def _done(self, info: BackupInfo) -> None:
        # The file's name is one long word that would widen the screen: it goes in the tip.
        self.result_label.setText(
            fill(self.tr("Backup made and verified: ledger #%1"), info.head_seq)
        )
        self.result_label.setToolTip(info.path)
        self.result_label.setStyleSheet(OK_STYLE)
        self.show_last(info)

    def _finished(self) -> None:
        self.progress.hide()
        self.backup_button.setEnabled(self.session.actor is not None)
