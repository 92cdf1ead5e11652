"""The QApplication of the till: its font (Chinese on any machine), style and translations."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from pos_app.ui.translations import install_translators
from resources import CJK_FONT, RESOURCES_DIR

log = logging.getLogger(__name__)

STYLE_SHEET = RESOURCES_DIR / "styles" / "till.qss"
BASE_POINT_SIZE = 12  # readable at arm's length on a 15" till screen


def has_screen() -> bool:
    """Whether Qt can show a window here: a display server, or a platform chosen by hand
    (offscreen for tests and screenshots)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


_cjk_family: list[str] = []  # registered once per process


def load_cjk_font() -> str:
    """Register the bundled WenQuanYi Micro Hei subset; returns its family name. Listed after
    the system's own UI font, so Latin text keeps the platform look and Chinese always has
    glyphs, even on a machine with no Chinese font installed."""
    if _cjk_family:
        return _cjk_family[0]
    font_id = QFontDatabase.addApplicationFont(str(CJK_FONT))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        log.warning("could not load the bundled Chinese font %s", CJK_FONT)
        return ""
    _cjk_family.append(families[0])
    return families[0]


def make_application(language: str, argv: list[str] | None = None) -> QApplication:
    """The process's QApplication (reused when one exists, as under pytest-qt), set up for
    the till: fonts, the style sheet and the translations of `language`."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("pos-app")
    app.setOrganizationName("pos-app")
    app.setApplicationDisplayName("pos-app 会员卡收银")
    family = load_cjk_font()
    font = QFont(app.font())
    if family:
        font.setFamilies([*font.families(), family])
    font.setPointSize(BASE_POINT_SIZE)
    app.setFont(font)
    if STYLE_SHEET.exists():
        app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    install_translators(app, language)
    return app
