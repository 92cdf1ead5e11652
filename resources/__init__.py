"""Files the app ships with: fonts (and, as they come, icons, translations, layouts)."""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
FONTS = RESOURCES_DIR / "fonts"
# Chinese text on a machine (or a receipt printer) that has no Chinese font of its own.
CJK_FONT = FONTS / "wqy-microhei-gb2312.ttf"
