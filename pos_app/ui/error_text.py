"""What a failure means to the person at the till: what happened and what to do, in their
language. Refusals from the services and the devices already carry both languages."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget
from sqlalchemy.exc import OperationalError

from hardware.errors import DeviceError
from pos_app.domain.errors import DomainError

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #c62828; font-weight: bold;"


def error_label(parent: QWidget, *, centered: bool = False) -> QLabel:
    """The red line under a form that says what is wrong with the input; hidden until then."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    if centered:
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.hide()
    return label


def describe_error(exc: BaseException, lang: str) -> str:
    """One message for the alert bar or a dialog. Unexpected errors are logged in full and
    shown briefly: the sale (or whatever it was) was not recorded, and nothing half-written
    remains, because every service is one transaction."""
    en = lang.startswith("en")
    if isinstance(exc, DomainError | DeviceError):
        return exc.message("en" if en else "zh")
    if isinstance(exc, OperationalError):
        text = str(exc.orig)
        if "locked" in text or "busy" in text:
            return "The database is busy; try again" if en else "数据库正忙，请稍后重试"
        log.error("database error", exc_info=exc)
        return (
            f"Database error, nothing was saved: {text}"
            if en
            else f"数据库错误，本次操作未保存：{text}"
        )
    log.error("unexpected error", exc_info=exc)
    name = type(exc).__name__
    return (
        f"Something went wrong ({name}); nothing was saved. Try again, or call support — "
        "details are in the log."
        if en
        else f"出现意外错误（{name}），本次操作未保存。请重试，或联系技术支持（详见日志）。"
    )
