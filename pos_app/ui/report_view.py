"""A report on screen as it prints: text on a fixed column grid, read-only.

Report text is laid out in printer columns, where a Chinese character takes two
(`pos_app.domain.text_width`). No font on an ordinary PC has Chinese glyphs exactly twice as
wide as its Latin ones, so a plain text box shows the amounts ragged; this view places every
character on the grid itself, the way the printer's image mode draws a receipt.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetricsF, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QFrame, QScrollArea, QVBoxLayout, QWidget

from pos_app.domain.text_width import char_width

MARGIN = 16  # around the text, like the paper's edge
HIGHLIGHTS = {
    "good": QColor("#d8f3dc"),
    "warning": QColor("#ffe8b3"),
    "bad": QColor("#fde2e1"),
}


class _GridCanvas(QWidget):
    """Paints lines of text one character per column (two for a wide character)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font = QFont(fixed)
        # The app font's families end with the bundled Chinese font (see qt_app).
        font.setFamilies([fixed.family(), *QApplication.font().families()])
        font.setPointSizeF(QApplication.font().pointSizeF())
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        self.setFont(font)
        self._bold = QFont(font)
        self._bold.setBold(True)
        metrics = QFontMetricsF(font)
        wide = max(metrics.horizontalAdvance("中"), metrics.horizontalAdvance("￥"))
        self._cell = max(metrics.horizontalAdvance("0"), math.ceil(wide / 2))
        self._line = metrics.height() + 2
        self._ascent = metrics.ascent() + 1
        self._lines: list[str] = []
        self._highlights: dict[int, str] = {}
        self._columns = 0
        self.setAutoFillBackground(False)

    def set_lines(self, lines: list[str], highlights: dict[int, str]) -> None:
        """Paint these lines, some highlighted (index → level), sized to fit them."""
        self._lines = lines
        self._highlights = highlights
        self._columns = max((sum(char_width(ch) for ch in line) for line in lines), default=0)
        self.setFixedSize(self.sizeHint())
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        width = int(self._columns * self._cell) + 2 * MARGIN
        height = int(len(self._lines) * self._line) + 2 * MARGIN
        return QSize(max(width, 2 * MARGIN), max(height, 2 * MARGIN))

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        painter.setPen(QColor("#c9d1d9"))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        text_color = QColor("#1f2328")
        for row, line in enumerate(self._lines):
            y = MARGIN + row * self._line
            level = self._highlights.get(row)
            if level is not None:
                band = QRectF(MARGIN / 2, y, self.width() - MARGIN, self._line)
                painter.fillRect(band, HIGHLIGHTS.get(level, HIGHLIGHTS["warning"]))
            painter.setFont(self._bold if level is not None else self.font())
            painter.setPen(text_color)
            metrics = painter.fontMetrics()
            column = 0
            for ch in line:
                width = char_width(ch)
                if width and not ch.isspace():
                    left = MARGIN + column * self._cell
                    room = width * self._cell
                    advance = metrics.horizontalAdvance(ch)
                    painter.drawText(QPointF(left + (room - advance) / 2, y + self._ascent), ch)
                column += width
        painter.end()


class ReportView(QScrollArea):
    """A report's text, read-only, scrolled with the arrow and page keys; some lines (the
    over/short of a cash count) highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self.canvas = _GridCanvas(self)
        holder = QWidget(self)
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        self.setWidget(holder)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(self.tr("Report"))

    def set_report(self, text: str, highlights: dict[int, str] | None = None) -> None:
        """Show `text` (lines of printer columns); `highlights` maps a line's index to
        "good", "warning" or "bad"."""
        self._text = text
        self.canvas.set_lines(text.rstrip("\n").split("\n") if text else [], highlights or {})
        self.canvas.setAccessibleDescription(text)
        self.verticalScrollBar().setValue(0)

    def clear(self) -> None:
        """Show nothing."""
        self.set_report("")

    def text(self) -> str:
        """The text shown (for copying and for tests)."""
        return self._text

    def highlighted(self) -> dict[int, str]:
        """The highlighted lines: index → level."""
        return dict(self.canvas._highlights)
