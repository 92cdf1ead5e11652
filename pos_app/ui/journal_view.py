"""销售流水: find any receipt (by number, dates, member or amount), reprint it (补打, audited
by the service) or export what was found. Opened from the shift & reports screen (F3)."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_app.domain.errors import DomainError
from pos_app.domain.money import format_fen, parse_yuan
from pos_app.domain.sale_request import TENDER_NAMES
from pos_app.services.report_export import Sheet
from pos_app.services.report_sheets import journal_sheet
from pos_app.services.sales_journal import MAX_PAGE, JournalPage, JournalQuery, sales_journal
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.operations import ServiceOp
from pos_app.ui.receipt_output import ReceiptOutput
from pos_app.ui.sheets_view import export_to_file, read_only_table
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill

PAGE = 50
MAX_EXPORT_PAGES = 200  # 100,000 receipts: more is a query to narrow, not a file to write


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


class JournalDialog(QDialog):
    """The sales journal: a search row, a page of receipts, reprint and export."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.page: JournalPage | None = None
        self.query = JournalQuery()
        self.setWindowTitle(self.tr("Sales journal"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(980, 600)

        self.receipt_field = QLineEdit(self)
        self.receipt_field.setPlaceholderText(self.tr("Receipt number or its end"))
        self.member_field = QLineEdit(self)
        self.member_field.setPlaceholderText(self.tr("Member, mobile or card number"))
        self.amount_field = QLineEdit(self)
        self.amount_field.setPlaceholderText(self.tr("Amount, e.g. 12.50"))
        today = session.ctx.business_day()
        self.by_dates = QCheckBox(self.tr("Between"), self)
        self.from_edit = QDateEdit(_qdate(today), self)
        self.to_edit = QDateEdit(_qdate(today), self)
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.search_button = QPushButton(self.tr("Search (Enter)"), self)
        self.search_button.setProperty("primary", True)
        self.search_button.setAutoDefault(False)
        self.search_button.clicked.connect(self.search)
        for field in (self.receipt_field, self.member_field, self.amount_field):
            field.returnPressed.connect(self.search)

        grid = QGridLayout()
        grid.addWidget(QLabel(self.tr("Receipt"), self), 0, 0)
        grid.addWidget(self.receipt_field, 0, 1)
        grid.addWidget(QLabel(self.tr("Member"), self), 0, 2)
        grid.addWidget(self.member_field, 0, 3)
        grid.addWidget(QLabel(self.tr("Amount"), self), 0, 4)
        grid.addWidget(self.amount_field, 0, 5)
        dates = QHBoxLayout()
        dates.addWidget(self.by_dates)
        dates.addWidget(self.from_edit)
        dates.addWidget(QLabel("–", self))
        dates.addWidget(self.to_edit)
        dates.addStretch(1)
        dates.addWidget(self.search_button)
        grid.addLayout(dates, 1, 0, 1, 6)

        self.error_label = error_label(self)
        self.table = read_only_table(self)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.reprint())
        self.status_label = QLabel(self)
        self.status_label.setProperty("role", "muted")

        self.newer_button = QPushButton(self.tr("Newer"), self)
        self.newer_button.clicked.connect(lambda: self._turn(-1))
        self.older_button = QPushButton(self.tr("Older"), self)
        self.older_button.clicked.connect(lambda: self._turn(1))
        self.reprint_button = QPushButton(self.tr("Reprint"), self)
        self.reprint_button.clicked.connect(self.reprint)
        self.export_button = QPushButton(self.tr("Export…"), self)
        self.export_button.clicked.connect(self.export)
        close = QPushButton(self.tr("Close (Esc)"), self)
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        for button in (self.newer_button, self.older_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.reprint_button, self.export_button, close):
            button.setAutoDefault(False)
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- searching ---------------------------------------------------------------------------

    def _read_query(self) -> JournalQuery:
        amount = self.amount_field.text().strip()
        dated = self.by_dates.isChecked()
        return JournalQuery(
            receipt_no=self.receipt_field.text().strip() or None,
            member=self.member_field.text().strip() or None,
            amount_fen=parse_yuan(amount) if amount else None,
            date_from=self.from_edit.date().toPython() if dated else None,  # type: ignore[arg-type]
            date_to=self.to_edit.date().toPython() if dated else None,  # type: ignore[arg-type]
        )

    def search(self) -> None:
        """Search from the first (newest) page."""
        try:
            self.query = self._read_query()
        except DomainError as exc:
            self._show_error(exc)
            return
        self._load(0)

    def _turn(self, step: int) -> None:
        if self.page is not None:
            self._load(max(0, self.page.offset + step * PAGE))

    def _load(self, offset: int) -> None:
        ctx, actor, query = self.session.ctx, self.session.require_actor(), self.query
        self.search_button.setEnabled(False)
        (
            ServiceOp(
                self,
                lambda: sales_journal(ctx, actor, query, offset, PAGE),
                busy_text=self.tr("Searching…"),
            )
            .success(self.show_page)
            .failure(self._show_error)
            .finally_(lambda: self.search_button.setEnabled(True))
            .run()
        )

    def show_page(self, page: JournalPage) -> None:
        """Show a page of receipts."""
        self.error_label.hide()
        self.page = page
        en = self.session.lang.startswith("en")
        header = [
            self.tr("Receipt"),
            self.tr("Kind"),
            self.tr("Time"),
            self.tr("Cashier"),
            self.tr("Member"),
            self.tr("Total"),
            self.tr("Tenders"),
        ]
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setHorizontalHeaderLabels(header)
        self.table.setRowCount(len(page.lines))
        tz = self.session.ctx.tz
        for r, x in enumerate(page.lines):
            tenders = "/".join(TENDER_NAMES.get(t, (t, t))[1 if en else 0] for t in x.tenders)
            member = f"{x.member_no} {x.member_name} {x.member_mobile}" if x.member_no else ""
            values = [
                x.receipt_no,
                self.tr("Refund") if x.kind == "refund" else self.tr("Sale"),
                datetime.fromisoformat(x.at).astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                x.operator,
                member,
                format_fen(x.total_fen),
                tenders,
            ]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 5:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        if page.lines:
            self.table.selectRow(0)
        first = page.offset + 1 if page.lines else 0
        self.status_label.setText(
            fill(self.tr("Receipts %1–%2"), str(first), str(page.offset + len(page.lines)))
            if page.lines
            else self.tr("No receipt matches")
        )
        self._update_buttons()

    def _show_error(self, exc: BaseException) -> None:
        self.error_label.setText(describe_error(exc, self.session.lang))
        self.error_label.show()

    def _update_buttons(self) -> None:
        page = self.page
        self.newer_button.setEnabled(page is not None and page.offset > 0)
        self.older_button.setEnabled(page is not None and page.has_more)
        self.reprint_button.setEnabled(self.selected_receipt_no() is not None)
        self.export_button.setEnabled(page is not None and bool(page.lines))

    def selected_receipt_no(self) -> str | None:
        """The receipt number of the selected row."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or self.page is None:
            return None
        index = rows[0].row()
        return self.page.lines[index].receipt_no if index < len(self.page.lines) else None

    # -- reprint and export ------------------------------------------------------------------

    def reprint(self) -> None:
        """补打 the selected receipt (marked as a reprint and audited by the service)."""
        receipt_no = self.selected_receipt_no()
        if receipt_no is not None:
            ReceiptOutput.of(self.session).reprint(self, receipt_no, on_failure=self._show_error)

    def export(self) -> None:
        """Every receipt the search finds (not just this page) to an XLSX or CSV file."""
        ctx, actor, query = self.session.ctx, self.session.require_actor(), self.query

        def sheets() -> list[Sheet]:
            lines = []
            offset = 0
            for _ in range(MAX_EXPORT_PAGES):
                page = sales_journal(ctx, actor, query, offset, MAX_PAGE)
                lines.extend(page.lines)
                if not page.has_more:
                    break
                offset += MAX_PAGE
            return [journal_sheet(JournalPage(tuple(lines), 0, False), ctx.tz)]

        export_to_file(self, sheets, f"sales-journal-{ctx.business_day().isoformat()}.xlsx")


def open_journal(parent: QWidget, session: TillSession) -> JournalDialog:
    """Open the sales journal (window-modal, returns at once) showing today's receipts."""
    dialog = JournalDialog(session, parent)
    dialog.open()
    dialog.by_dates.setChecked(True)
    dialog.search()
    return dialog
