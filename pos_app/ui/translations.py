"""The app's languages: Simplified Chinese first, English second, through Qt's translations.

Source strings in the code are English (`self.tr("Pay")`); `resources/i18n/zh_CN/*.ts` hold
their Chinese, one file per UI module (`scripts/update-translations` refreshes them and
compiles `resources/i18n/pos_app_zh_CN.qm`). Qt's own strings (dialog buttons, the text
field's context menu) come from the Qt translations shipped with PySide6.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from resources import RESOURCES_DIR

LANGUAGES = {"zh_CN": "简体中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
QM_FILE = RESOURCES_DIR / "i18n" / "pos_app_zh_CN.qm"
TS_DIR = RESOURCES_DIR / "i18n" / "zh_CN"

_installed: list[QTranslator] = []


def normalize_language(value: str | None) -> str:
    """ "en", "en_US.UTF-8" → "en"; anything else (None, "zh", "zh_CN") → "zh_CN"."""
    return "en" if (value or "").lower().startswith("en") else DEFAULT_LANGUAGE


def service_lang(language: str) -> str:
    """The services' and devices' message language ("zh" or "en") for a UI language."""
    return "en" if language == "en" else "zh"


def install_translators(app: QCoreApplication, language: str) -> None:
    """Load the translations for `language`, replacing those loaded before."""
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    if language == "en":
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
        return
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    ours = QTranslator(app)
    if not ours.load(str(QM_FILE)):
        raise FileNotFoundError(f"translations missing: {QM_FILE}")
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name in ("qtbase_zh_CN", "qt_zh_CN"):
        qt_own = QTranslator(app)
        if qt_own.load(name, qt_dir):
            app.installTranslator(qt_own)
            _installed.append(qt_own)
            break
    app.installTranslator(ours)
    _installed.append(ours)


def fill(template: str, *values: object) -> str:
    """QString.arg() for a translated text (PySide's tr() returns a Python str): %1, %2, …
    replaced by `values` in one pass, so a value that holds "%2" stays as it is."""

    def value(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return str(values[index]) if 0 <= index < len(values) else match.group(0)

    return re.sub(r"%([1-9])", value, template)


def ts_file_for(module: Path) -> Path:
    """The .ts file holding the Chinese of one UI module."""
    return TS_DIR / f"{module.stem}.ts"
