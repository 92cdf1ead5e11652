"""What the till's device outputs (receipts, vouchers) have in common: one per session, and
each outcome told to the cashier in the main window's alert bar.

The devices run after the operation committed, so nothing they do can undo it; what they did
is only ever a message (and a signal, for tests and logs).
"""

from __future__ import annotations

from typing import Self

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from pos_app.ui.till_session import TillSession


def refresh_status(window: QWidget | None) -> None:
    """Have the main window ask the devices for their state now, not at its next poll: a
    printer that just failed a job shows as such (out of paper …) in the status bar."""
    refresh = getattr(window, "refresh_device_status", None)
    if window is not None and isValid(window) and callable(refresh):
        refresh()


def main_window_of(widget: QWidget | None) -> QWidget | None:
    """The till's main window (the one with the alert bar) above `widget`, through dialogs."""
    while widget is not None and isValid(widget):
        window = widget.window()
        if hasattr(window, "show_message"):
            return window
        widget = window.parentWidget()
    return None


class AlertBarOutput(QObject):
    """A device output of the session: made on first use by `of`, outcomes shown by `show`."""

    sig_outcome = Signal(str, str)
    """An outcome was shown in the alert bar: (level, text) — for tests and logs."""

    def __init__(self, session: TillSession) -> None:
        super().__init__(session)
        self.session = session

    @classmethod
    def of(cls, session: TillSession) -> Self:
        """The session's output of this kind, made on first use."""
        found = session.findChild(cls)
        return found if isinstance(found, cls) else cls(session)

    def show(self, window: QWidget | None, level: str, text: str) -> None:
        if not text:
            return
        if window is not None and isValid(window) and hasattr(window, "show_message"):
            window.show_message(text, level)
        self.sig_outcome.emit(level, text)
