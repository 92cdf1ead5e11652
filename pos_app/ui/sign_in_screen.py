"""Placeholder until the screen is built."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from pos_app.ui.till_session import TillSession


class SignInScreen(QWidget):
    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        QVBoxLayout(self).addWidget(QLabel("SignInScreen", self))


class LockScreen(QWidget):
    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        QVBoxLayout(self).addWidget(QLabel("LockScreen", self))
