"""The demo's "printed receipt": the picture `sim:printer` made of the last job it printed.

The simulated printer decodes every job it prints and saves it as NNNN.png in its folder
(see hardware/sim/printer_sink.py), numbered on from the highest already there. Another
process (`pos-app sale --print`) may print into the same folder, so "the last receipt" is
the newest file by modification time. The file is written by the sink's thread when the
printer closes the connection, which can be a moment after the job is reported printed: the
viewer looks again a few times before it gives up. Files are read on the io worker (QImage,
not QPixmap, is safe there).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from pos_app.ui.operations import ServiceOp

log = logging.getLogger(__name__)

RETRY_MS = 100
RETRIES = 30  # about 3 s for the picture of a job reported printed to appear
PNG_END = b"IEND\xaeB`\x82"  # a PNG's last chunk: the file is complete


@dataclass(frozen=True)
class ReceiptPicture:
    """One PNG of the simulated printer, read into memory."""

    path: Path
    stamp: tuple[int, str]  # (mtime in ns, file name): orders pictures, newest last
    image: QImage


def newest_picture(directory: Path, after: tuple[int, str] | None) -> ReceiptPicture | None:
    """The newest readable NNNN.png in `directory` newer than `after`, or None (io worker)."""
    best: tuple[tuple[int, str], Path] | None = None
    try:
        entries = list(os.scandir(directory))
    except OSError:  # the folder appears with the first printed job
        return None
    for entry in entries:
        if not entry.name.endswith(".png"):
            continue
        try:
            stamp = (entry.stat().st_mtime_ns, entry.name)
        except OSError:
            continue
        if (after is None or stamp > after) and (best is None or stamp > best[0]):
            best = (stamp, Path(entry.path))
    if best is None:
        return None
    try:
        data = best[1].read_bytes()
    except OSError:
        return None
    if not data.endswith(PNG_END):  # still being written: the next look finds it whole
        return None
    image = QImage.fromData(data)
    return None if image.isNull() else ReceiptPicture(best[1], best[0], image)


class ReceiptViewer(QWidget):
    """The last receipt the simulated printer printed, scaled to the panel's width, with a
    button that shows it at full size."""

    sig_shown = Signal(str)
    """A new receipt picture is on show (its file's path)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._directory: Callable[[], Path | None] | None = None
        self._stamp: tuple[int, str] | None = None
        self._path: Path | None = None
        self._pixmap = QPixmap()
        self._tries_left = 0
        self._looking = False
        self._again = False
        self._full_dialog: QDialog | None = None
        self._full_label: QLabel | None = None

        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(False)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Always there, so the width the picture is scaled to does not change under it.
        self.scroll_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.scroll_area.setStyleSheet("QScrollArea { background: #d9dee4; }")
        self.image_label = QLabel(self.tr("No receipt printed yet"))
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setWordWrap(True)
        self.image_label.setProperty("role", "muted")
        self.image_label.setStyleSheet("background: white; padding: 8px;")
        self.scroll_area.setWidget(self.image_label)
        self.full_button = QPushButton(self.tr("Open full size"), self)
        self.full_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.full_button.setEnabled(False)
        self.full_button.clicked.connect(self.open_full_size)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self._look)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.full_button)

    # -- what the panel calls ----------------------------------------------------------------

    def watch(self, directory: Callable[[], Path | None]) -> None:
        """Show pictures from the folder `directory()` gives (the sim printer's, asked on the
        io worker: finding it loads the printer driver); look for one now."""
        self._directory = directory
        self.look_for_new(retries=0)

    def look_for_new(self, retries: int = RETRIES) -> None:
        """A job was printed: show its picture as soon as it is on disk."""
        if self._looking:  # look again once this look is back: it may predate the job
            self._again = True
            return
        self._tries_left = max(self._tries_left, retries)
        self._look()

    def pixmap(self) -> QPixmap:
        """The receipt on show at full size (null when none yet)."""
        return self._pixmap

    @property
    def shown_path(self) -> Path | None:
        """The file of the receipt on show."""
        return self._path

    # -- looking for the file (io worker) ------------------------------------------------------

    def _look(self) -> None:
        where = self._directory
        if where is None:
            return
        after = self._stamp
        self._looking = True

        def look() -> ReceiptPicture | None:
            directory = where()
            return None if directory is None else newest_picture(directory, after)

        (
            ServiceOp(self, look, kind="io")
            .success(self._found)
            .failure(self._look_failed)
            .finally_(self._after_look)
            .run()
        )

    def _found(self, picture: ReceiptPicture | None) -> None:
        if picture is None:
            return
        self._tries_left = 0
        self._stamp = picture.stamp
        self._path = picture.path
        self._pixmap = QPixmap.fromImage(picture.image)
        self.full_button.setEnabled(True)
        self.image_label.setStyleSheet("background: white;")
        self.image_label.setToolTip(picture.path.name)
        self._fit()
        self.scroll_area.verticalScrollBar().setValue(0)
        if self._full_label is not None:
            self._full_label.setPixmap(self._pixmap)
            self._full_label.adjustSize()
        self.sig_shown.emit(str(picture.path))

    def _look_failed(self, exc: BaseException) -> None:
        # Only the demo's picture is missing: no reason to interrupt the cashier.
        log.warning("could not show the simulated printer's receipt: %s", exc, exc_info=exc)

    def _after_look(self) -> None:
        self._looking = False
        if self._again:
            self._again = False
            self.look_for_new()
        elif self._tries_left > 0:
            self._tries_left -= 1
            self._retry.start()

    # -- showing -----------------------------------------------------------------------------

    def _fit(self) -> None:
        """The picture scaled to the width the panel has (never enlarged)."""
        if self._pixmap.isNull():
            return
        width = max(50, self.scroll_area.viewport().width())
        shown = (
            self._pixmap
            if self._pixmap.width() <= width
            else self._pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
        )
        self.image_label.setPixmap(shown)
        self.image_label.resize(shown.size())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def open_full_size(self) -> None:
        """The receipt at 100 %, in a window of its own (Esc or Close closes it)."""
        if self._pixmap.isNull():
            return
        if self._full_dialog is None:
            dialog = QDialog(self)
            dialog.setWindowTitle(self.tr("Last receipt"))
            scroll = QScrollArea(dialog)
            self._full_label = QLabel()
            self._full_label.setStyleSheet("background: white;")
            scroll.setWidget(self._full_label)
            self._full_label.setPixmap(self._pixmap)
            scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
            buttons.rejected.connect(dialog.reject)
            layout = QVBoxLayout(dialog)
            layout.addWidget(scroll, 1)
            layout.addWidget(buttons)
            self._full_dialog = dialog
        assert self._full_label is not None
        self._full_label.setPixmap(self._pixmap)
        self._full_label.adjustSize()
        screen = self.screen().availableGeometry() if self.screen() else None
        height = min(self._pixmap.height() + 90, screen.height() - 40 if screen else 900)
        self._full_dialog.resize(self._pixmap.width() + 60, max(300, height))
        # Not modal: it may stay open beside the till and follows each new receipt.
        self._full_dialog.show()
        self._full_dialog.raise_()
