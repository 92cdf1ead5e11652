"""取单: the carts on hold (挂单), to take one back to the till or throw one away.

Enter recalls the highlighted cart (the services hand it over and forget it, so two tills
never recall the same one); Delete discards it after a confirmation; Esc closes.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_app.domain.money import format_fen
from pos_app.domain.sale_request import SaleRequest
from pos_app.services.held_sales import HeldView, discard_held, held_sales, recall_sale
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.operations import ServiceOp
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill


class HeldSalesDialog(QDialog):
    """The held carts: label, when, by whom, how many items, what they come to today, and
    whether a member is on them. Enter recalls, Delete discards."""

    sig_recalled = Signal(object)
    """A held cart was recalled (its SaleRequest, without PIN); the dialog has closed."""

    ITEMS, TOTAL = 3, 4  # the columns of the cart's size and what it comes to

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.held: list[HeldView] = []
        self.confirm_box: QMessageBox | None = None
        self._busy = False
        self.setWindowTitle(self.tr("Recall a held sale"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(640, 420)

        title = QLabel(self.tr("Held sales"), self)
        title.setProperty("role", "title")
        self.table = QTableWidget(0, 6, self)
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Label"),
                self.tr("Held at"),
                self.tr("Operator"),
                self.tr("Items"),
                self.tr("Total"),
                self.tr("Member"),
            ]
        )
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemActivated.connect(lambda _item: self.recall())
        self.empty_label = QLabel(self.tr("No sales are on hold."), self)
        self.empty_label.setProperty("role", "muted")
        self.empty_label.hide()
        self.error_label = error_label(self)

        self.recall_button = QPushButton(self.tr("Recall (Enter)"), self)
        self.recall_button.setProperty("primary", True)
        self.recall_button.setAutoDefault(False)
        self.recall_button.clicked.connect(self.recall)
        self.discard_button = QPushButton(self.tr("Discard (Delete)"), self)
        self.discard_button.setProperty("danger", True)
        self.discard_button.setAutoDefault(False)
        self.discard_button.clicked.connect(self.ask_discard)
        close = QPushButton(self.tr("Close (Esc)"), self)
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.recall_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self.reload()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.table.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.recall()
            return
        if key == Qt.Key.Key_Delete:
            self.ask_discard()
            return
        super().keyPressEvent(event)

    # -- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the held carts again (off the GUI thread)."""
        ctx, actor = self.session.ctx, self.session.require_actor()
        (
            ServiceOp(
                self, lambda: held_sales(ctx, actor), busy_text=self.tr("Reading held sales…")
            )
            .success(self._show)
            .failure(self._show_error)
            .run()
        )

    def _show(self, held: list[HeldView]) -> None:
        self.held = held
        self.table.setRowCount(len(held))
        tz = self.session.ctx.tz
        for row, view in enumerate(held):
            at = datetime.fromisoformat(view.held_at).astimezone(tz).strftime("%m-%d %H:%M")
            cells = [
                view.label,
                at,
                view.operator_name,
                fill(self.tr("%1 items (%2 lines)"), view.item_count, view.line_count),
                format_fen(view.total_fen) if view.total_fen is not None else "—",
                self.tr("yes") if view.has_member else "",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (self.ITEMS, self.TOTAL):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        self.table.setVisible(bool(held))
        self.empty_label.setVisible(not held)
        self.recall_button.setEnabled(bool(held))
        self.discard_button.setEnabled(bool(held))
        if held:
            self.table.selectRow(0)

    def selected(self) -> HeldView | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.held):
            return None
        return self.held[rows[0].row()]

    # -- recall and discard ------------------------------------------------------------------

    def recall(self) -> None:
        """Take the highlighted cart back to the till."""
        view = self.selected()
        if view is None or self._busy:
            return
        ctx, actor, held_id = self.session.ctx, self.session.require_actor(), view.id
        self._busy = True
        (
            ServiceOp(self, lambda: recall_sale(ctx, actor, held_id))
            .success(self._recalled)
            .failure(self._recall_failed)
            .finally_(self._not_busy)
            .run()
        )

    def _recalled(self, request: SaleRequest) -> None:
        self.accept()
        self.sig_recalled.emit(request)

    def _recall_failed(self, exc: BaseException) -> None:
        self._show_error(exc)  # e.g. another till recalled it first: show what is left
        self.reload()

    def ask_discard(self) -> None:
        """Delete: ask before throwing the highlighted cart away."""
        view = self.selected()
        if view is None or self._busy:
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("Discard held sale"))
        box.setText(fill(self.tr("Discard %1? Its lines are thrown away."), view.label))
        yes = box.addButton(self.tr("Discard"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(self.tr("Keep it"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(yes)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: self._discard(view) if button is yes else None)
        self.confirm_box = box
        box.open()

    def _discard(self, view: HeldView) -> None:
        ctx, actor, held_id = self.session.ctx, self.session.require_actor(), view.id
        self._busy = True
        (
            ServiceOp(self, lambda: discard_held(ctx, actor, held_id))
            .success(lambda _none: self.reload())
            .failure(self._show_error)
            .finally_(self._not_busy)
            .run()
        )

    def _not_busy(self) -> None:
        self._busy = False
        self.table.setFocus()

    def _show_error(self, exc: BaseException) -> None:
        self.error_label.setText(describe_error(exc, self.session.lang))
        self.error_label.show()
