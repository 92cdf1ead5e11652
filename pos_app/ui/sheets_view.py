"""Report tables on screen (one tab per table) and the Export button's work: ask where, then
write CSV or XLSX on a background worker, so a long journal never freezes the till.

The tables are `report_sheets` sheets, the same the CLI writes, so the file a manager saves
holds what the screen showed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QWidget,
)

from pos_app.domain.money import format_fen
from pos_app.services.report_export import ExportCell, Sheet, export_sheets
from pos_app.ui.operations import ServiceOp
from pos_app.ui.translations import fill


def cell_text(value: ExportCell) -> str:
    """A sheet's cell as the screen shows it: amounts as ¥, nothing as blank."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_fen(int(value.scaleb(2)))
    return str(value)


def fill_table(
    table: QTableWidget, header: Sequence[str], rows: Sequence[Sequence[ExportCell]]
) -> None:
    """Put rows in a read-only table; numbers and amounts line up on the right."""
    table.clear()
    table.setColumnCount(len(header))
    table.setHorizontalHeaderLabels(list(header))
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(cell_text(value))
            if isinstance(value, int | Decimal) and not isinstance(value, bool):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


def read_only_table(parent: QWidget) -> QTableWidget:
    table = QTableWidget(parent)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class SheetsView(QTabWidget):
    """Report tables, one tab each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sheets: list[Sheet] = []

    def set_sheets(self, sheets: Sequence[Sheet]) -> None:
        """Show these tables (replacing what was shown)."""
        self.sheets = list(sheets)
        while self.count():
            widget = self.widget(0)
            self.removeTab(0)
            widget.deleteLater()
        for sheet in sheets:
            table = read_only_table(self)
            fill_table(table, sheet.header, sheet.rows)
            self.addTab(table, sheet.title)

    def table(self, index: int) -> QTableWidget:
        widget = self.widget(index)
        assert isinstance(widget, QTableWidget)
        return widget


def ask_export_path(parent: QWidget, suggested: str) -> Path | None:
    """Where to save: a save dialog offering XLSX and CSV (None: cancelled)."""
    name, chosen = QFileDialog.getSaveFileName(
        parent,
        QCoreApplication.translate("SheetsView", "Export"),
        suggested,
        QCoreApplication.translate("SheetsView", "Excel workbook (*.xlsx);;CSV file (*.csv)"),
    )
    if not name:
        return None
    path = Path(name)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        path = path.with_suffix(".csv" if "csv" in chosen.lower() else ".xlsx")
    return path


def export_to_file(
    parent: QWidget,
    make_sheets: Callable[[], Sequence[Sheet]],
    suggested: str,
    on_done: Callable[[Path], None] | None = None,
) -> None:
    """Ask where, then build the sheets and write them on the background worker; the window
    says where the file went (or why it did not)."""
    path = ask_export_path(parent, suggested)
    if path is None:
        return

    def done(written: Path) -> None:
        window = parent.window()
        if hasattr(window, "show_message"):
            text = QCoreApplication.translate("SheetsView", "Exported to %1")
            window.show_message(fill(text, str(written)), "info")
        if on_done is not None:
            on_done(written)

    ServiceOp(
        parent,
        lambda: export_sheets(path, make_sheets()),
        kind="background",
        busy_text=QCoreApplication.translate("SheetsView", "Exporting…"),
    ).success(done).run()
