"""The status bar's sync indicator: how many records wait for HQ, when HQ last took them,
"HQ unreachable since …" during an outage, and a fork in red. Clicking it asks the agent to
sync now.

It only formats what the sync agent reports from its own thread (`TillSession.
sig_sync_status`, delivered on the GUI thread): it never reads the database or the network.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from pos_app.sync.agent import AgentState
from pos_app.sync.status import SyncStatus
from pos_app.ui.translations import fill

GREY = "color: #5b6673;"
GREEN = "color: #1a7f37;"
AMBER = "color: #b26a00; font-weight: bold;"
RED = "color: #c62828; font-weight: bold;"


class SyncIndicator(QPushButton):
    """A flat button in the status bar showing the till's sync; a click means "sync now"."""

    sig_sync_now = Signal()

    def __init__(
        self,
        tz: tzinfo,
        lang: str,
        now: Callable[[], datetime],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tz = tz
        self.now = now  # the store's clock, as the window's own clock shows it
        self.lang = lang
        self.setFlat(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clicked.connect(self.sig_sync_now.emit)
        self.level = "idle"
        self.show_status(None, None)

    def show_status(self, status: SyncStatus | None, state: AgentState | None) -> None:
        text, level = self._text(status, state)
        if state is not None and state.pushing:
            text = "⟳ " + text
        self.level = level
        self.setText(text)
        self.setStyleSheet(
            {"idle": GREY, "ok": GREEN, "pending": GREY, "away": AMBER, "fork": RED}[level]
        )
        self.setToolTip(self._tooltip(status))

    def _text(self, status: SyncStatus | None, state: AgentState | None) -> tuple[str, str]:
        if status is None or not status.configured:
            return self.tr("Sync: not set up"), "idle"
        if status.fork_seq is not None:
            return fill(
                self.tr("Sync stopped: HQ holds a different entry #%1 (fork)"), status.fork_seq
            ), "fork"
        if status.unreachable_since is not None:
            return fill(
                self.tr("HQ unreachable since %1 · %2 waiting"),
                self._when(status.unreachable_since),
                status.pending,
            ), "away"
        if status.last_error is not None:
            return fill(
                self.tr("Sync refused by HQ (%1) · %2 waiting"),
                status.last_error_code or "?",
                status.pending,
            ), "away"
        if status.last_ok is None:
            return fill(self.tr("Sync: %1 waiting, not yet sent"), status.pending), "pending"
        if status.pending == 0:
            return fill(self.tr("Synced %1"), self._when(status.last_ok)), "ok"
        return fill(
            self.tr("Sync: %1 waiting · last %2"), status.pending, self._when(status.last_ok)
        ), "pending"

    def _when(self, moment_iso: str) -> str:
        """A stored UTC time as the store's local time; with the date unless it is today."""
        moment = datetime.fromisoformat(moment_iso).astimezone(self.tz)
        today = self.now().astimezone(self.tz).date()
        return moment.strftime("%H:%M" if moment.date() == today else "%m-%d %H:%M")

    def _tooltip(self, status: SyncStatus | None) -> str:
        if status is None or not status.configured:
            return self.tr("Connect this till to HQ with: pos-app sync setup --hq URL --token T")
        lines = [
            fill(self.tr("HQ: %1"), status.hq_url or ""),
            fill(self.tr("HQ holds entries up to #%1 of #%2"), status.acked_seq, status.head_seq),
            (
                fill(
                    self.tr("Last heard from HQ %1 (feed #%2)"),
                    self._when(status.pulled_at),
                    status.feed_cursor,
                )
                if status.pulled_at
                else self.tr("Not yet heard from HQ (other stores' cards and balances)")
            ),
        ]
        error = status.last_error if self.lang == "en" else status.last_error_zh
        if error:
            lines.append(error)
        lines.append(self.tr("Click to sync now"))
        return "\n".join(lines)
