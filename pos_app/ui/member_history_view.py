"""消费/充值明细: a member's purchases, refunds and top-ups, newest first, a page at a time,
from the member desk. Export writes every line, not only the page shown."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from pos_app.services.member_history import MAX_PAGE, MemberHistory, member_history
from pos_app.services.report_export import Sheet
from pos_app.services.report_sheets import history_sheet
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.operations import ServiceOp
from pos_app.ui.sheets_view import export_to_file, fill_table, read_only_table
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill

PAGE = 30
MAX_EXPORT_PAGES = 500


class MemberHistoryDialog(QDialog):
    """One member's history; `key` is the member number (or a card or mobile number)."""

    def __init__(self, session: TillSession, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.key = key
        self.history: MemberHistory | None = None
        self.setWindowTitle(self.tr("Purchases and top-ups"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(860, 540)
        self.title_label = QLabel(self)
        self.title_label.setProperty("role", "title")
        self.error_label = error_label(self)
        self.table = read_only_table(self)
        self.newer_button = QPushButton(self.tr("Newer"), self)
        self.newer_button.clicked.connect(lambda: self._turn(-1))
        self.older_button = QPushButton(self.tr("Older"), self)
        self.older_button.clicked.connect(lambda: self._turn(1))
        self.export_button = QPushButton(self.tr("Export…"), self)
        self.export_button.clicked.connect(self.export)
        close = QPushButton(self.tr("Close (Esc)"), self)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.newer_button)
        buttons.addWidget(self.older_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        for button in (self.newer_button, self.older_button, self.export_button, close):
            button.setAutoDefault(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def load(self, offset: int = 0) -> None:
        """Read a page (from the newest) on the worker and show it."""
        ctx, actor, key = self.session.ctx, self.session.require_actor(), self.key
        (
            ServiceOp(
                self,
                lambda: member_history(ctx, actor, key, offset, PAGE),
                busy_text=self.tr("Reading the history…"),
            )
            .success(self.show_history)
            .failure(self._show_error)
            .run()
        )

    def _turn(self, step: int) -> None:
        if self.history is not None:
            self.load(max(0, self.history.offset + step * PAGE))

    def show_history(self, history: MemberHistory) -> None:
        """Show a page of the member's history."""
        self.history = history
        self.error_label.hide()
        self.title_label.setText(
            fill(self.tr("%1 (%2): purchases and top-ups"), history.name, history.member_no)
        )
        sheet = history_sheet(history, self.session.ctx.tz)
        en = self.session.lang.startswith("en")
        header = [h.split(" ", 1)[1 if en else 0] for h in sheet.header]
        fill_table(self.table, header, sheet.rows)
        self._update_buttons()

    def _show_error(self, exc: BaseException) -> None:
        self.error_label.setText(describe_error(exc, self.session.lang))
        self.error_label.show()

    def _update_buttons(self) -> None:
        h = self.history
        self.newer_button.setEnabled(h is not None and h.offset > 0)
        self.older_button.setEnabled(h is not None and h.has_more)
        self.export_button.setEnabled(h is not None and bool(h.lines))

    def export(self) -> None:
        """The member's whole history to an XLSX or CSV file."""
        ctx, actor, key = self.session.ctx, self.session.require_actor(), self.key

        def sheets() -> list[Sheet]:
            lines = []
            offset = 0
            last: MemberHistory | None = None
            for _ in range(MAX_EXPORT_PAGES):
                last = member_history(ctx, actor, key, offset, MAX_PAGE)
                lines.extend(last.lines)
                if not last.has_more:
                    break
                offset += MAX_PAGE
            assert last is not None
            whole = MemberHistory(last.member_no, last.name, tuple(lines), 0, False)
            return [history_sheet(whole, ctx.tz)]

        member_no = self.history.member_no if self.history else "member"
        export_to_file(self, sheets, f"history-{member_no}.xlsx")


def open_member_history(parent: QWidget, session: TillSession, key: str) -> MemberHistoryDialog:
    """Open a member's history (window-modal, returns at once) at the newest page."""
    dialog = MemberHistoryDialog(session, key, parent)
    dialog.open()
    dialog.load()
    return dialog
