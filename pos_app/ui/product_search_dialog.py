"""Find a product by name, SKU or the start of its barcode when it cannot be scanned.

The search runs as the cashier types (off the GUI thread, the newest answer wins); Up/Down
move through the results from the search field, Enter adds the highlighted product to the
cart, Esc goes back to the scan field.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_app.domain.money import format_fen
from pos_app.services.catalogue import ProductView, search_products
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.operations import ServiceOp
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill

SEARCH_DELAY_MS = 250  # wait for a pause in typing before asking the database
RESULT_LIMIT = 50


class ProductSearchDialog(QDialog):
    """Search the catalogue and pick a product for the cart."""

    sig_picked = Signal(str)
    """A product was picked (its SKU); the dialog has closed."""

    def __init__(
        self,
        session: TillSession,
        text: str = "",
        results: list[ProductView] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.results: list[ProductView] = []
        self._seq = 0
        self.setWindowTitle(self.tr("Find a product"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(760, 480)

        self.field = QLineEdit(self)
        self.field.setPlaceholderText(self.tr("Name, SKU or barcode"))
        self.field.setText(text)
        self.field.installEventFilter(self)
        self.table = QTableWidget(0, 5, self)
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("SKU"),
                self.tr("Name"),
                self.tr("Category"),
                self.tr("Price"),
                self.tr("Member price"),
            ]
        )
        self.table.verticalHeader().hide()
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(lambda _row, _col: self.pick())
        self.status_label = QLabel(self)
        self.status_label.setProperty("role", "muted")
        self.error_label = error_label(self)
        add = QPushButton(self.tr("Add to cart (Enter)"), self)
        add.setProperty("primary", True)
        add.setAutoDefault(False)
        add.clicked.connect(self.pick)
        cancel = QPushButton(self.tr("Cancel (Esc)"), self)
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(cancel)
        buttons.addWidget(add)
        layout = QVBoxLayout(self)
        layout.addWidget(self.field)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search)
        self.field.textEdited.connect(lambda _text: self._timer.start())
        if results is not None:
            self.show_results(results)
        elif text.strip():
            self.search()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.field.setFocus()
        self.field.selectAll()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                self._move(-1 if key == Qt.Key.Key_Up else 1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self._timer.isActive():  # typed and pressed Enter at once: search first
                    self._timer.stop()
                    self.search()
                else:
                    self.pick()
                return True
        return super().eventFilter(watched, event)

    # -- searching ---------------------------------------------------------------------------

    def search(self) -> None:
        """Ask the catalogue for the text in the field; older answers are dropped."""
        text = self.field.text().strip()
        if not text:
            self.show_results([])
            return
        self._seq += 1
        seq = self._seq
        ctx, actor = self.session.ctx, self.session.require_actor()
        (
            ServiceOp(self, lambda: search_products(ctx, actor, text, RESULT_LIMIT))
            .success(lambda found: self._answer(seq, found))
            .failure(self._show_error)
            .run()
        )

    def _answer(self, seq: int, found: list[ProductView]) -> None:
        if seq == self._seq:
            self.show_results(found)

    def show_results(self, found: list[ProductView]) -> None:
        """Fill the table; the first result is highlighted."""
        self.results = found
        self.error_label.hide()
        self.table.setRowCount(len(found))
        en = self.session.lang == "en"
        for row, product in enumerate(found):
            member = product.member_price_fen
            cells = [
                product.sku,
                (product.name_en or product.name) if en else product.name,
                product.category,
                format_fen(product.price_fen),
                format_fen(member) if member is not None else "",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= 3:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        if found:
            self.table.selectRow(0)
        self.status_label.setText(
            fill(self.tr("%1 found"), len(found)) if found else self.tr("Nothing found")
        )

    def _move(self, step: int) -> None:
        if not self.results:
            return
        rows = self.table.selectionModel().selectedRows()
        at = rows[0].row() if rows else -1
        self.table.selectRow(max(0, min(len(self.results) - 1, at + step)))

    def pick(self) -> None:
        """Add the highlighted product to the cart."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.results):
            return
        sku = self.results[rows[0].row()].sku
        self.accept()
        self.sig_picked.emit(sku)

    def _show_error(self, exc: BaseException) -> None:
        self.error_label.setText(describe_error(exc, self.session.lang))
        self.error_label.show()
