"""Operators and passwords (操作员与密码), opened from Settings (F4).

Everyone changes their own password here (the current one, then the new one twice). An admin
also sees every operator — role, state, a lockout after wrong passwords — and adds one,
deactivates or reactivates one, or sets a new password for one (which lifts a lockout). The
services decide and record everything (`services/operators.py`); this dialog only collects
what is typed and runs the calls on the database worker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
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

from pos_app.domain.permissions import Permission, Role, role_allows
from pos_app.services.operators import (
    OperatorRow,
    change_password,
    deactivate_operator,
    list_operators,
    reactivate_operator,
    reset_password,
)
from pos_app.services.store_setup import add_operator
from pos_app.ui.error_text import ERROR_STYLE, describe_error
from pos_app.ui.operations import ServiceOp
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill

OK_STYLE = "color: #1a7f37;"
LOGIN, NAME, ROLE, STATE, CARD = range(5)


def _password_field(parent: QWidget) -> QLineEdit:
    field = QLineEdit(parent)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def _say(label: QLabel, text: str, style: str) -> None:
    label.setText(text)
    label.setStyleSheet(style)
    label.show()


class OperatorsDialog(QDialog):
    """One's own password for everyone; the operator list and its actions for admins."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.rows: list[OperatorRow] = []
        self.setWindowTitle(self.tr("Operators and passwords"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(720)
        actor = session.require_actor()
        self.is_admin = role_allows(Role(actor.role), Permission.OPERATOR_MANAGE)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        title = QLabel(self.tr("Operators and passwords"), self)
        title.setProperty("role", "title")
        layout.addWidget(title)
        layout.addWidget(self._make_password_box())
        self.operators_box = self._make_operators_box()
        self.operators_box.setVisible(self.is_admin)
        layout.addWidget(self.operators_box, 1)
        close_row = QHBoxLayout()
        close_row.addStretch(1)
        self.close_button = QPushButton(self.tr("Close (Esc)"), self)
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        close_row.addWidget(self.close_button)
        layout.addLayout(close_row)
        if self.is_admin:
            self.refresh()

    # -- building ----------------------------------------------------------------------------

    def _make_password_box(self) -> QGroupBox:
        box = QGroupBox(fill(self.tr("My password (%1)"), self.session.require_actor().login), self)
        form = QFormLayout(box)
        self.old_password_field = _password_field(box)
        self.new_password_field = _password_field(box)
        self.repeat_password_field = _password_field(box)
        form.addRow(self.tr("Current password"), self.old_password_field)
        form.addRow(self.tr("New password"), self.new_password_field)
        form.addRow(self.tr("New password again"), self.repeat_password_field)
        self.change_password_button = QPushButton(self.tr("Change my password"), box)
        self.change_password_button.setAutoDefault(False)
        self.change_password_button.clicked.connect(self.change_my_password)
        self.password_result = QLabel(box)
        self.password_result.setWordWrap(True)
        self.password_result.hide()
        row = QHBoxLayout()
        row.addWidget(self.change_password_button)
        row.addWidget(self.password_result, 1)
        form.addRow("", row)
        self.old_password_field.returnPressed.connect(self.new_password_field.setFocus)
        self.new_password_field.returnPressed.connect(self.repeat_password_field.setFocus)
        self.repeat_password_field.returnPressed.connect(self.change_my_password)
        return box

    def _make_operators_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Operators (admins)"), self)
        layout = QVBoxLayout(box)
        self.table = QTableWidget(0, 5, box)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Login"), self.tr("Name"), self.tr("Role"), self.tr("State"), self.tr("Card")]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)

        self.deactivate_button = QPushButton(self.tr("Deactivate"), box)
        self.deactivate_button.clicked.connect(self.deactivate_selected)
        self.reactivate_button = QPushButton(self.tr("Reactivate"), box)
        self.reactivate_button.clicked.connect(self.reactivate_selected)
        self.reset_password_field = _password_field(box)
        self.reset_password_field.setPlaceholderText(self.tr("New password for the operator"))
        self.reset_password_button = QPushButton(self.tr("Set password"), box)
        self.reset_password_button.clicked.connect(self.reset_selected_password)
        actions = QHBoxLayout()
        actions.addWidget(self.deactivate_button)
        actions.addWidget(self.reactivate_button)
        actions.addSpacing(16)
        actions.addWidget(self.reset_password_field, 1)
        actions.addWidget(self.reset_password_button)
        layout.addLayout(actions)

        self.add_login_field = QLineEdit(box)
        self.add_login_field.setPlaceholderText(self.tr("Login"))
        self.add_name_field = QLineEdit(box)
        self.add_name_field.setPlaceholderText(self.tr("Name"))
        self.add_role_combo = QComboBox(box)
        for role in Role:
            self.add_role_combo.addItem(self._role_text(role.value), role.value)
        self.add_password_field = _password_field(box)
        self.add_password_field.setPlaceholderText(self.tr("Password"))
        self.add_button = QPushButton(self.tr("Add operator"), box)
        self.add_button.clicked.connect(self.add_new_operator)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_login_field)
        add_row.addWidget(self.add_name_field)
        add_row.addWidget(self.add_role_combo)
        add_row.addWidget(self.add_password_field)
        add_row.addWidget(self.add_button)
        layout.addLayout(add_row)

        self.operators_result = QLabel(box)
        self.operators_result.setWordWrap(True)
        self.operators_result.hide()
        layout.addWidget(self.operators_result)
        for button in (self.deactivate_button, self.reactivate_button, self.reset_password_button):
            button.setAutoDefault(False)
            button.setEnabled(False)
        self.add_button.setAutoDefault(False)
        return box

    # -- texts -------------------------------------------------------------------------------

    def _role_text(self, role: str) -> str:
        return {
            Role.CASHIER.value: self.tr("Cashier"),
            Role.MANAGER.value: self.tr("Manager"),
            Role.ADMIN.value: self.tr("Admin"),
        }.get(role, role)

    def _state_text(self, row: OperatorRow) -> str:
        if not row.active:
            return self.tr("Deactivated")
        if row.locked_until:
            moment = datetime.fromisoformat(row.locked_until).astimezone(self.session.ctx.tz)
            return fill(self.tr("Locked until %1"), moment.strftime("%H:%M:%S"))
        return self.tr("Active")

    # -- the list ----------------------------------------------------------------------------

    def refresh(self, then: Callable[[], None] | None = None) -> None:
        """Read the operators again (after every change)."""
        ctx, actor = self.session.ctx, self.session.require_actor()

        def shown(rows: list[OperatorRow]) -> None:
            self._fill(rows)
            if then is not None:
                then()

        ServiceOp(self, lambda: list_operators(ctx, actor)).success(shown).failure(
            self._operators_failed
        ).run()

    def _fill(self, rows: list[OperatorRow]) -> None:
        selected = self.selected_login()
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            texts = (
                row.login,
                row.name,
                self._role_text(row.role),
                self._state_text(row),
                self.tr("Yes") if row.has_employee_card else "",
            )
            for column, text in enumerate(texts):
                self.table.setItem(i, column, QTableWidgetItem(text))
        if selected is not None:
            self.select_login(selected)
        self._update_buttons()

    def selected_login(self) -> str | None:
        """The login of the row selected, or None."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), LOGIN)
        return item.text() if item is not None else None

    def select_login(self, login: str) -> None:
        """Select the operator with this login in the list."""
        for i, row in enumerate(self.rows):
            if row.login == login:
                self.table.selectRow(i)
                return

    def _selected_row(self) -> OperatorRow | None:
        login = self.selected_login()
        return next((r for r in self.rows if r.login == login), None)

    def _update_buttons(self) -> None:
        row = self._selected_row()
        self.deactivate_button.setEnabled(row is not None and row.active)
        self.reactivate_button.setEnabled(row is not None and not row.active)
        self.reset_password_button.setEnabled(row is not None)

    # -- actions -----------------------------------------------------------------------------

    def change_my_password(self) -> None:
        """Change the signed-in operator's own password."""
        old = self.old_password_field.text()
        new = self.new_password_field.text()
        if new != self.repeat_password_field.text():
            _say(self.password_result, self.tr("The new passwords do not match"), ERROR_STYLE)
            self.repeat_password_field.setFocus()
            return
        ctx, actor = self.session.ctx, self.session.require_actor()
        self.change_password_button.setEnabled(False)

        def done(_none: None) -> None:
            for field in (
                self.old_password_field,
                self.new_password_field,
                self.repeat_password_field,
            ):
                field.clear()
            _say(self.password_result, self.tr("Your password was changed."), OK_STYLE)

        def failed(exc: BaseException) -> None:
            self.old_password_field.clear()
            self.old_password_field.setFocus()
            _say(self.password_result, describe_error(exc, self.session.lang), ERROR_STYLE)

        ServiceOp(self, lambda: change_password(ctx, actor, old, new)).success(done).failure(
            failed
        ).finally_(lambda: self.change_password_button.setEnabled(True)).run()

    def _run(self, work: Callable[[], Any], message: str, login: str) -> None:
        """An admin's action on one operator; the list is read again afterwards."""
        self.operators_box.setEnabled(False)

        def done(_result: object) -> None:
            self.refresh(lambda: self.select_login(login))
            _say(self.operators_result, message, OK_STYLE)

        ServiceOp(self, work).success(done).failure(self._operators_failed).finally_(
            lambda: self.operators_box.setEnabled(True)
        ).run()

    def _operators_failed(self, exc: BaseException) -> None:
        _say(self.operators_result, describe_error(exc, self.session.lang), ERROR_STYLE)

    def deactivate_selected(self) -> None:
        """Deactivate the operator selected: they can no longer sign in or approve."""
        login = self.selected_login()
        if login is None:
            return
        ctx, actor = self.session.ctx, self.session.require_actor()
        self._run(
            lambda: deactivate_operator(ctx, actor, login),
            fill(self.tr("%1 is deactivated."), login),
            login,
        )

    def reactivate_selected(self) -> None:
        """Let a deactivated operator sign in again."""
        login = self.selected_login()
        if login is None:
            return
        ctx, actor = self.session.ctx, self.session.require_actor()
        self._run(
            lambda: reactivate_operator(ctx, actor, login),
            fill(self.tr("%1 can sign in again."), login),
            login,
        )

    def reset_selected_password(self) -> None:
        """Give the operator selected a new password (and lift a lockout)."""
        login = self.selected_login()
        if login is None:
            return
        new = self.reset_password_field.text()
        ctx, actor = self.session.ctx, self.session.require_actor()
        self.reset_password_field.clear()
        self._run(
            lambda: reset_password(ctx, actor, login, new),
            fill(self.tr("%1 has a new password."), login),
            login,
        )

    def add_new_operator(self) -> None:
        """Add an operator with the login, name, role and password typed."""
        login = self.add_login_field.text().strip()
        name = self.add_name_field.text()
        role = str(self.add_role_combo.currentData())
        password = self.add_password_field.text()
        ctx, actor = self.session.ctx, self.session.require_actor()

        def added(_info: object) -> None:
            for field in (self.add_login_field, self.add_name_field):
                field.clear()
            self.refresh(lambda: self.select_login(login))
            _say(self.operators_result, fill(self.tr("%1 was added."), login), OK_STYLE)

        self.add_password_field.clear()
        self.operators_box.setEnabled(False)
        ServiceOp(self, lambda: add_operator(ctx, actor, login, name, role, password)).success(
            added
        ).failure(self._operators_failed).finally_(
            lambda: self.operators_box.setEnabled(True)
        ).run()


def open_operators_dialog(parent: QWidget, session: TillSession) -> OperatorsDialog:
    """Open the operators dialog (window-modal, returns at once)."""
    dialog = OperatorsDialog(session, parent)
    dialog.open()
    return dialog
