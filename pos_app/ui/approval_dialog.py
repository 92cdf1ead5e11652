"""A manager's approval on the spot (店长授权): login and password, or a tap of the manager's
employee card, for one privileged action a cashier started.

    run_with_approval(self, session, Permission.PIN_RESET,
                      lambda approval: reset_pin(ctx, actor, card_no, pin, approval),
                      self._on_pin_reset)

runs the work; only when the services answer that a manager must approve does the dialog
open, and once a manager approved the work runs again with the approval. The services decide
who needs an approval and check it; the dialog only collects it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from hardware.events import CardPresented, CardReadFailed
from pos_app.domain.errors import ApprovalRequired
from pos_app.domain.permissions import PERMISSION_NAMES, Permission
from pos_app.services.auth import Approval
from pos_app.services.employee_cards import approve_by_card
from pos_app.services.sign_in import approve
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.operations import ServiceOp, report_failure
from pos_app.ui.till_session import TillSession

T = TypeVar("T")

_open_dialogs: list[ApprovalDialog] = []  # newest last; tests find the open one here


def current_approval_dialog() -> ApprovalDialog | None:
    """The approval dialog on screen now, if any (the newest one)."""
    live = [d for d in _open_dialogs if isValid(d) and d.isVisible()]
    return live[-1] if live else None


def permission_text(permission: Permission, lang: str) -> str:
    """What is being approved, in the services' language ("zh" or "en")."""
    zh, en = PERMISSION_NAMES.get(permission, (permission.value, permission.value))
    return en if lang == "en" else zh


class ApprovalDialog(QDialog):
    """Asks a manager for their login and password, or a tap of their employee card."""

    sig_approved = Signal(object)
    """A manager approved (the Approval); the dialog has closed."""

    sig_cancelled = Signal()
    """The cashier backed out (Cancel or Esc); nothing was approved."""

    def __init__(
        self, session: TillSession, permission: Permission, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.permission = permission
        self.approval: Approval | None = None
        self._busy = False
        self._finished = False
        self.setWindowTitle(self.tr("Manager approval"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(460)

        title = QLabel(self.tr("Manager approval"), self)
        title.setProperty("role", "title")
        self.what_label = QLabel(
            self.tr("A manager must approve: %1").replace(
                "%1", permission_text(permission, session.lang)
            ),
            self,
        )
        self.what_label.setWordWrap(True)
        self.login_field = QLineEdit(self)
        self.login_field.setPlaceholderText(self.tr("Manager's login"))
        self.password_field = QLineEdit(self)
        self.password_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_field.setPlaceholderText(self.tr("Password"))
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow(self.tr("Login"), self.login_field)
        form.addRow(self.tr("Password"), self.password_field)
        self.card_hint = QLabel(self.tr("or tap a manager's employee card"), self)
        self.card_hint.setProperty("role", "muted")
        self.error_label = error_label(self)

        self.approve_button = QPushButton(self.tr("Approve"), self)
        self.approve_button.setProperty("primary", True)
        self.approve_button.setAutoDefault(False)
        self.approve_button.clicked.connect(self._approve_by_password)
        self.cancel_button = QPushButton(self.tr("Cancel (Esc)"), self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.approve_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(self.what_label)
        layout.addLayout(form)
        layout.addWidget(self.card_hint)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)

        # Enter in the login moves on to the password; Enter in the password approves.
        self.login_field.returnPressed.connect(self.password_field.setFocus)
        self.password_field.returnPressed.connect(self._approve_by_password)
        session.devices.sig_card.connect(self._on_card)
        session.devices.sig_card_failed.connect(self._on_card_failed)
        _open_dialogs.append(self)

    # -- showing and closing -----------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.session.devices.claim_cards(self)
        self.login_field.setFocus()

    def done(self, result: int) -> None:
        """Close (approved or cancelled); the screens behind get the card reader back."""
        self.session.devices.release_cards(self)
        if self._finished:
            return
        self._finished = True
        if self in _open_dialogs:
            _open_dialogs.remove(self)
        super().done(result)
        if result == QDialog.DialogCode.Accepted and self.approval is not None:
            self.sig_approved.emit(self.approval)
        else:
            self.sig_cancelled.emit()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.session.devices.release_cards(self)
        super().closeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        # Enter must not press a button by accident: the fields decide what Enter does.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return
        super().keyPressEvent(event)

    # -- approving ---------------------------------------------------------------------------

    def _approve_by_password(self) -> None:
        if self._busy:
            return
        login = self.login_field.text().strip()
        password = self.password_field.text()
        if not login:
            self._show_error(self.tr("Type the manager's login"))
            self.login_field.setFocus()
            return
        if not password:
            self._show_error(self.tr("Type the manager's password"))
            self.password_field.setFocus()
            return
        ctx, permission = self.session.ctx, self.permission
        self._run(lambda: approve(ctx, login, password, permission))

    @Slot(object)
    def _on_card(self, event: CardPresented) -> None:
        if not self.session.devices.cards_are_for(self) or self._busy:
            return
        ctx, permission, number = self.session.ctx, self.permission, event.number
        self._run(lambda: approve_by_card(ctx, number, permission))

    @Slot(object)
    def _on_card_failed(self, event: CardReadFailed) -> None:
        if self.session.devices.cards_are_for(self):
            self._show_error(event.reason(self.session.lang))

    def _run(self, work: Callable[[], Approval]) -> None:
        self._busy = True
        self.approve_button.setEnabled(False)
        self.error_label.hide()
        (
            ServiceOp(self, work, busy_text=self.tr("Checking the approval…"))
            .success(self._on_approved)
            .failure(self._on_refused)
            .finally_(self._not_busy)
            .run()
        )

    def _not_busy(self) -> None:
        self._busy = False
        self.approve_button.setEnabled(True)

    def _on_approved(self, approval: Approval) -> None:
        self.approval = approval
        self.accept()

    def _on_refused(self, exc: BaseException) -> None:
        self._show_error(describe_error(exc, self.session.lang))
        self.password_field.clear()
        self.password_field.setFocus()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()


def ask_approval(
    parent: QWidget,
    session: TillSession,
    permission: Permission,
    on_approved: Callable[[Approval], None],
    on_cancel: Callable[[], None] | None = None,
) -> ApprovalDialog:
    """Open the approval dialog (window-modal, returns at once); `on_approved(approval)` runs
    once a manager approved, `on_cancel()` if the cashier backed out."""
    dialog = ApprovalDialog(session, permission, parent)
    dialog.sig_approved.connect(on_approved)
    if on_cancel is not None:
        dialog.sig_cancelled.connect(on_cancel)
    dialog.open()
    return dialog


def run_with_approval(
    parent: QWidget,
    session: TillSession,
    permission: Permission,
    work: Callable[[Approval | None], T],
    on_success: Callable[[T], None],
    *,
    busy_text: str = "",
    on_failure: Callable[[BaseException], None] | None = None,
    on_cancel: Callable[[], None] | None = None,
) -> None:
    """Run `work(None)` on the database worker; if the services answer that a manager must
    approve, ask for the approval and run `work(approval)`. `on_success(result)` gets the
    result; a cancelled approval calls `on_cancel` (if given) and nothing else; other failures
    go to `on_failure` (default: the window's alert bar)."""

    def failed(exc: BaseException, approval: Approval | None) -> None:
        if isinstance(exc, ApprovalRequired) and approval is None and isValid(parent):
            ask_approval(parent, session, permission, attempt, on_cancel)
        elif on_failure is not None:
            on_failure(exc)
        else:
            report_failure(parent, exc)

    def attempt(approval: Approval | None) -> None:
        (
            ServiceOp(parent, lambda: work(approval), busy_text=busy_text)
            .success(on_success)
            .failure(lambda exc: failed(exc, approval))
            .run()
        )

    attempt(None)
