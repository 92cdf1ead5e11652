"""Store figures as tables, each with an Export button: 负债 (liabilities on any day) and
销售分析 (categories, products and top sellers, discounts by kind, and per cashier).
Opened from the shift & reports screen (F3); managers only (the services say so)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pos_app.domain.permissions import Permission
from pos_app.services.auth import Approval
from pos_app.services.liabilities import liabilities
from pos_app.services.report_export import Sheet
from pos_app.services.report_printing import AnyReport, sheet_print_document
from pos_app.services.report_sheets import (
    analysis_sheets,
    figures_sheet,
    liabilities_sheet,
    range_sheets,
    staff_sheet,
)
from pos_app.services.reports import RangeReport, staff_report
from pos_app.services.sales_analysis import MAX_TOP, sales_analysis
from pos_app.ui.approval_dialog import run_with_approval
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.operations import ServiceOp
from pos_app.ui.sheets_view import SheetsView, export_to_file
from pos_app.ui.till_session import TillSession


def _date_edit(parent: QWidget, day: date) -> QDateEdit:
    edit = QDateEdit(QDate(day.year, day.month, day.day), parent)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


def _day(edit: QDateEdit) -> date:
    value = edit.date().toPython()
    assert isinstance(value, date)
    return value


class _FiguresDialog(QDialog):
    """A row of choices, a Show button, the tables, and Export."""

    def __init__(self, session: TillSession, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(860, 600)
        self.choices = QHBoxLayout()
        self.show_button = QPushButton(self.tr("Show (Enter)"), self)
        self.show_button.setProperty("primary", True)
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self.load)
        self.error_label = error_label(self)
        self.view = SheetsView(self)
        self.export_button = QPushButton(self.tr("Export…"), self)
        self.export_button.setAutoDefault(False)
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export)
        self.print_button = QPushButton(self.tr("Print"), self)
        self.print_button.setAutoDefault(False)
        self.print_button.setEnabled(False)
        self.print_button.clicked.connect(self.print_summary)
        close = QPushButton(self.tr("Close (Esc)"), self)
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        top = QHBoxLayout()
        top.addLayout(self.choices)
        top.addStretch(1)
        top.addWidget(self.show_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error_label)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    def work(self) -> Callable[[Approval | None], Sequence[Sheet]]:
        """The figures to read on the worker, given a manager's approval for a cashier."""
        raise NotImplementedError

    def file_name(self) -> str:
        raise NotImplementedError

    def load(self) -> None:
        """Compute the figures on the worker and show them."""
        self.show_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.show_button.setEnabled(True)
            self._failed(exc)

        def shown(sheets: Sequence[Sheet]) -> None:
            self.show_button.setEnabled(True)
            self._show(sheets)

        # Store figures are a manager's; a cashier sees them with a manager's approval.
        run_with_approval(
            self,
            self.session,
            Permission.REPORT_STORE,
            self.work(),
            shown,
            busy_text=self.tr("Reading the figures…"),
            on_failure=failed,
            on_cancel=lambda: self.show_button.setEnabled(True),
        )

    def _show(self, sheets: Sequence[Sheet]) -> None:
        self.error_label.hide()
        self.view.set_sheets(sheets)
        self.export_button.setEnabled(True)
        self.print_button.setEnabled(bool(sheets))

    def _failed(self, exc: BaseException) -> None:
        self.error_label.setText(describe_error(exc, self.session.lang))
        self.error_label.show()

    def print_summary(self) -> None:
        """The first table (the figures) on the till's receipt printer."""
        if not self.view.sheets:
            return
        hub, ctx, sheet = self.session.devices, self.session.ctx, self.view.sheets[0]
        printed_at = ctx.now().astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")

        def work() -> str:
            doc = sheet_print_document(ctx.store.name, printed_at, sheet, hub.settings.profile)
            return hub.print_document(doc)

        window = self.window()
        ServiceOp(self, work, kind="io", busy_text=self.tr("Printing…")).success(
            lambda _job: (
                window.show_message(self.tr("The report is printing."), "info")
                if hasattr(window, "show_message")
                else None
            )
        ).run()

    def export(self) -> None:
        """The tables shown, to an XLSX or CSV file."""
        sheets = list(self.view.sheets)
        export_to_file(self, lambda: sheets, self.file_name())


class LiabilitiesDialog(_FiguresDialog):
    """负债 at the end of a chosen day (today by default)."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(session, self.tr("Liabilities"), parent)
        self.day_edit = _date_edit(self, session.ctx.business_day())
        self.choices.addWidget(QLabel(self.tr("At the end of"), self))
        self.choices.addWidget(self.day_edit)

    def work(self) -> Callable[[Approval | None], Sequence[Sheet]]:
        ctx, actor, day = self.session.ctx, self.session.require_actor(), _day(self.day_edit)
        return lambda approval: [liabilities_sheet(liabilities(ctx, actor, day, approval))]

    def file_name(self) -> str:
        return f"liabilities-{_day(self.day_edit).isoformat()}.xlsx"


class SalesAnalysisDialog(_FiguresDialog):
    """销售分析 over chosen days: summary, categories, products (top N), discounts, cashiers."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(session, self.tr("Sales analysis"), parent)
        today = session.ctx.business_day()
        self.from_edit = _date_edit(self, today)
        self.to_edit = _date_edit(self, today)
        self.top_box = QSpinBox(self)
        self.top_box.setRange(0, MAX_TOP)
        self.top_box.setSpecialValueText(self.tr("all"))
        self.top_box.setValue(20)
        self.choices.addWidget(QLabel(self.tr("From"), self))
        self.choices.addWidget(self.from_edit)
        self.choices.addWidget(QLabel(self.tr("to"), self))
        self.choices.addWidget(self.to_edit)
        self.choices.addWidget(QLabel(self.tr("Top products"), self))
        self.choices.addWidget(self.top_box)

    def work(self) -> Callable[[Approval | None], Sequence[Sheet]]:
        ctx, actor = self.session.ctx, self.session.require_actor()
        first, last = _day(self.from_edit), _day(self.to_edit)
        top = self.top_box.value() or None

        def sheets(approval: Approval | None) -> list[Sheet]:
            analysis = sales_analysis(ctx, actor, first, last, top, approval)
            staff = staff_report(ctx, actor, first, last, approval)
            return [*analysis_sheets(analysis), staff_sheet(staff)]

        return sheets

    def file_name(self) -> str:
        return f"sales-{_day(self.from_edit).isoformat()}-{_day(self.to_edit).isoformat()}.xlsx"


def open_liabilities(parent: QWidget, session: TillSession) -> LiabilitiesDialog:
    dialog = LiabilitiesDialog(session, parent)
    dialog.open()
    dialog.load()
    return dialog


def open_sales_analysis(parent: QWidget, session: TillSession) -> SalesAnalysisDialog:
    dialog = SalesAnalysisDialog(session, parent)
    dialog.open()
    dialog.load()
    return dialog


def export_report(parent: QWidget, report: AnyReport, name: str) -> None:
    """A settlement report on screen (X, Z, day, period) to an XLSX or CSV file."""
    if isinstance(report, RangeReport):
        sheets = range_sheets(report)
    else:
        sheets = [figures_sheet(report.figures)]
    export_to_file(parent, lambda: sheets, f"{name}.xlsx")
