"""Placeholder until the panel is built."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QWidget

from pos_app.ui.till_session import TillSession


class SimPanel(QDockWidget):
    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__("Simulator", parent)
        self.session = session
