"""The cart table at checkout: one row per line (number, name, qty, unit price, amount,
discount, net) and under each line a grey row per discount it got, with its rule and amount
("银卡 9.8折  -¥0.30"), so every discount is explained on screen (PRODUCT §8).

The rows come from the services' Quote. While a cart change is being priced (or when the
services refused to price it) the lines are shown with their quantities and no prices yet.
The table never takes the focus: the cashier keeps typing in the scan field, and Up/Down
there move the selected line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from pos_app.domain.money import format_fen
from pos_app.domain.receipt import ReceiptAdjustment
from pos_app.domain.weighed_goods import weight_text
from pos_app.services.checkout import Quote
from pos_app.ui.translations import fill

NUMBER_COLUMNS = (2, 3, 4, 5, 6)  # qty, unit price, amount, discount, net: right-aligned
DETAIL_COLOUR = QColor("#5b6673")
GIFT_COLOUR = QColor("#1a7f37")
ModelIndex = QModelIndex | QPersistentModelIndex


def adjustment_text(adj: ReceiptAdjustment, lang: str) -> str:
    """A discount's label in the services' language ("zh" or "en")."""
    return adj.label_en if lang.startswith("en") else adj.label_zh


@dataclass(frozen=True)
class PendingLine:
    """A cart line as the till knows it before (or without) a price: code, name and qty."""

    sku: str
    name: str
    qty: int


@dataclass(frozen=True)
class CartRow:
    """One row of the table: a line (`detail` None) or one discount under a line."""

    line_no: int
    sku: str | None  # None for a gift line pricing added (it cannot be voided or changed)
    cells: tuple[str, ...]
    tooltip: str = ""
    detail: ReceiptAdjustment | None = None
    is_gift: bool = False
    details: tuple[ReceiptAdjustment, ...] = field(default=())

    @property
    def is_line(self) -> bool:
        return self.detail is None


class CartModel(QAbstractTableModel):
    """The cart's rows for the table; lines and their explained discounts."""

    def __init__(self, lang: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.rows: list[CartRow] = []
        self.headers = [
            self.tr("No."),
            self.tr("Item"),
            self.tr("Qty"),
            self.tr("Unit price"),
            self.tr("Amount"),
            self.tr("Discount"),
            self.tr("Net"),
        ]

    # -- filling -----------------------------------------------------------------------------

    def show_quote(self, quote: Quote, names: dict[str, str] | None = None) -> None:
        """The priced cart: each line and, under it, each discount it got."""
        rows: list[CartRow] = []
        for line in quote.lines:
            discount = sum(a.amount_fen for a in line.adjustments)
            unit_text = format_fen(line.gross_fen // line.qty if line.qty else line.gross_fen)
            qty_text = str(line.qty)
            if line.weight_milli is not None:  # weighed goods: the weight at the price per kg/斤
                qty_text = weight_text(line.weight_milli, line.unit)
                unit_text = f"{format_fen(line.unit_price_fen)}/{line.unit}"
            name = (names or {}).get(line.sku, line.name)
            if line.is_gift:
                name = fill(self.tr("%1 (free gift)"), name)
            explained = [
                f"{adjustment_text(a, self.lang)}  {format_fen(-a.amount_fen)}"
                for a in line.adjustments
            ]
            rows.append(
                CartRow(
                    line_no=line.line_no,
                    sku=None if line.is_gift else line.sku,
                    cells=(
                        str(line.line_no),
                        name,
                        qty_text,
                        unit_text,
                        format_fen(line.gross_fen),
                        format_fen(-discount) if discount else "",
                        format_fen(line.gross_fen - discount),
                    ),
                    tooltip="\n".join([f"{line.sku} {name}", *explained]),
                    is_gift=line.is_gift,
                    details=line.adjustments,
                )
            )
            for adj in line.adjustments:
                rows.append(
                    CartRow(
                        line_no=line.line_no,
                        sku=None if line.is_gift else line.sku,
                        cells=(
                            "",
                            f"    {adjustment_text(adj, self.lang)}",
                            "",
                            "",
                            "",
                            format_fen(-adj.amount_fen),
                            "",
                        ),
                        detail=adj,
                        is_gift=line.is_gift,
                    )
                )
        self._set_rows(rows)

    def show_pending(self, lines: list[PendingLine]) -> None:
        """The lines without prices (being priced, or the services refused to price them)."""
        self._set_rows(
            [
                CartRow(
                    line_no=n,
                    sku=line.sku,
                    cells=(str(n), line.name, str(line.qty), "", "", "", "…"),
                    tooltip=f"{line.sku} {line.name}",
                )
                for n, line in enumerate(lines, start=1)
            ]
        )

    def clear(self) -> None:
        self._set_rows([])

    def _set_rows(self, rows: list[CartRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    # -- reading -----------------------------------------------------------------------------

    def line_rows(self) -> list[int]:
        """The row numbers of the lines (not their discount rows)."""
        return [i for i, row in enumerate(self.rows) if row.is_line]

    def row_of_sku(self, sku: str) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.is_line and r.sku == sku), None)

    # -- the model ---------------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.headers)

    def headerData(  # noqa: N802 (Qt's name)
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMBER_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMBER_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if not row.is_line:
                return QBrush(DETAIL_COLOUR)
            if row.is_gift:
                return QBrush(GIFT_COLOUR)
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            if row.is_line and column == 6:
                font.setBold(True)
            elif not row.is_line:
                font.setPointSizeF(max(8.0, font.pointSizeF() - 1))
            return font
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self.rows[index.row()].is_line:
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.ItemIsEnabled  # a discount row is part of the line above it


class CartView(QTableView):
    """The cart table. It never takes the focus; the screen moves its selected line."""

    def __init__(self, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cart_model = CartModel(lang, self)
        self.setModel(self.cart_model)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setAlternatingRowColors(False)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.cart_model.modelReset.connect(self._after_reset)

    def _after_reset(self) -> None:
        self.clearSpans()
        for i, row in enumerate(self.cart_model.rows):
            if not row.is_line:
                self.setSpan(i, 1, 1, 4)  # the discount's label may be long

    # -- the selected line -------------------------------------------------------------------

    def selected_row(self) -> CartRow | None:
        """The selected line (never a discount row), or None."""
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        row = self.cart_model.rows[rows[0].row()]
        return row if row.is_line else None

    def select_row(self, row: int | None) -> None:
        if row is None or not 0 <= row < len(self.cart_model.rows):
            self.clearSelection()
            return
        self.selectRow(row)
        self.scrollTo(self.cart_model.index(row, 0))

    def select_sku(self, sku: str | None) -> bool:
        """Select the line of this product; False if it is not in the table."""
        row = self.cart_model.row_of_sku(sku) if sku else None
        if row is None:
            return False
        self.select_row(row)
        # Show its discount rows too, so the explanation of the line is on screen.
        last = row
        while last + 1 < len(self.cart_model.rows) and not self.cart_model.rows[last + 1].is_line:
            last += 1
        self.scrollTo(self.cart_model.index(last, 0))
        return True

    def select_last_line(self) -> None:
        lines = self.cart_model.line_rows()
        self.select_row(lines[-1] if lines else None)

    def move_selection(self, step: int) -> None:
        """Up (-1) or Down (+1) by whole lines, skipping the discount rows."""
        lines = self.cart_model.line_rows()
        if not lines:
            return
        current = self.selectionModel().selectedRows()
        if not current or current[0].row() not in lines:
            self.select_row(lines[-1] if step < 0 else lines[0])
            return
        at = lines.index(current[0].row())
        self.select_row(lines[max(0, min(len(lines) - 1, at + step))])
