"""Signing in at the till (login and password, or a tap of the employee card) and the lock
screen that only the same operator can lift.

After sign-in the till needs the operator's own shift to sell: when none is open the cashier
opens one with the float in the drawer (or chooses "Later"); when another cashier's is open,
they count the drawer to hand it over first.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hardware.events import CardPresented, CardReadFailed
from pos_app.domain.errors import AuthenticationFailed
from pos_app.services.auth import Actor
from pos_app.services.context import StoreContext
from pos_app.services.employee_cards import sign_in_by_card
from pos_app.services.shifts import ShiftView, current_shift
from pos_app.services.sign_in import sign_in
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.open_shift_dialog import OpenShiftDialog
from pos_app.ui.operations import ServiceOp
from pos_app.ui.till_session import TillSession

PANEL_WIDTH = 460


def _with_shift(ctx: StoreContext, actor: Actor) -> tuple[Actor, ShiftView | None]:
    """The signed-in operator and the shift that is open, if any (on the database worker)."""
    return actor, current_shift(ctx, actor)


def _centered(screen: QWidget, panel: QFrame) -> None:
    """`panel` in the middle of `screen`, at a width a person reads at a glance."""
    panel.setFixedWidth(PANEL_WIDTH)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(panel)
    row.addStretch(1)
    outer = QVBoxLayout(screen)
    outer.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(2)


class SignInScreen(QWidget):
    """Login and password, or a tap of the employee card; then on to a shift."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.open_shift_dialog: OpenShiftDialog | None = None
        self._busy = False

        panel = QFrame(self)
        self.store_label = QLabel(session.ctx.store.name, panel)
        self.store_label.setProperty("role", "big")
        self.store_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.store_label.setWordWrap(True)
        heading = QLabel(self.tr("Sign in to the till"), panel)
        heading.setProperty("role", "muted")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.login_field = QLineEdit(panel)
        self.login_field.setPlaceholderText(self.tr("Login"))
        self.password_field = QLineEdit(panel)
        self.password_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_field.setPlaceholderText(self.tr("Password"))
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow(self.tr("Login"), self.login_field)
        form.addRow(self.tr("Password"), self.password_field)
        self.sign_in_button = QPushButton(self.tr("Sign in"), panel)
        self.sign_in_button.setProperty("primary", True)
        self.sign_in_button.setMinimumHeight(56)
        self.sign_in_button.clicked.connect(self.sign_in_by_password)
        self.card_hint = QLabel(self.tr("or tap your employee card"), panel)
        self.card_hint.setProperty("role", "muted")
        self.card_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error_label = error_label(panel, centered=True)

        layout = QVBoxLayout(panel)
        layout.setSpacing(14)
        layout.addWidget(self.store_label)
        layout.addWidget(heading)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addWidget(self.sign_in_button)
        layout.addWidget(self.card_hint)
        layout.addWidget(self.error_label)
        _centered(self, panel)

        self.login_field.returnPressed.connect(self._login_entered)
        self.password_field.returnPressed.connect(self.sign_in_by_password)
        session.devices.sig_card.connect(self._on_card)
        session.devices.sig_card_failed.connect(self._on_card_failed)

    def activate(self) -> None:
        """Shown: empty fields, the cursor in the login."""
        self.login_field.clear()
        self.password_field.clear()
        self.error_label.hide()
        self.login_field.setFocus()

    def _login_entered(self) -> None:
        if self.login_field.text().strip():
            self.password_field.setFocus()

    def sign_in_by_password(self) -> None:
        """Check the typed login and password on the database worker."""
        login = self.login_field.text().strip()
        password = self.password_field.text()
        if not login:
            self._say(self.tr("Type your login"))
            self.login_field.setFocus()
            return
        if not password:
            self._say(self.tr("Type your password"))
            self.password_field.setFocus()
            return
        ctx = self.session.ctx
        self._start(lambda: _with_shift(ctx, sign_in(ctx, login, password)))

    @Slot(object)
    def _on_card(self, event: CardPresented) -> None:
        if not self.session.devices.cards_are_for(self) or self._busy:
            return
        ctx, number = self.session.ctx, event.number
        self._start(lambda: _with_shift(ctx, sign_in_by_card(ctx, number)))

    @Slot(object)
    def _on_card_failed(self, event: CardReadFailed) -> None:
        if self.session.devices.cards_are_for(self):
            self._say(event.reason(self.session.lang))

    def _start(self, work: Callable[[], tuple[Actor, ShiftView | None]]) -> None:
        if self._busy or self.open_shift_dialog is not None:
            return  # one sign-in at a time: a second card tap must not open a second dialog
        self._busy = True
        self.sign_in_button.setEnabled(False)
        self.error_label.hide()
        (
            ServiceOp(self, work, busy_text=self.tr("Signing in…"))
            .success(self._signed_in)
            .failure(self._refused)
            .finally_(self._not_busy)
            .run()
        )

    def _not_busy(self) -> None:
        self._busy = False
        self.sign_in_button.setEnabled(True)

    def _signed_in(self, result: tuple[Actor, ShiftView | None]) -> None:
        actor, shift = result
        self.password_field.clear()
        if shift is not None and shift.opened_by == actor.login:
            self.session.signed_in(actor, shift)
            return
        # No shift, or another cashier's: this operator never sells into someone else's
        # drawer; they hand it over with a count (交接班) and open their own.
        dialog = OpenShiftDialog(self.session, actor, self, held=shift)
        dialog.sig_done.connect(lambda opened: self._shift_chosen(actor, opened))
        self.open_shift_dialog = dialog
        dialog.open()

    def _shift_chosen(self, actor: Actor, shift: ShiftView | None) -> None:
        self.open_shift_dialog = None
        self.session.signed_in(actor, shift)

    def _refused(self, exc: BaseException) -> None:
        self._say(describe_error(exc, self.session.lang))
        self.password_field.clear()
        if isinstance(exc, AuthenticationFailed) and self.login_field.text().strip():
            self.password_field.setFocus()
        else:
            self.login_field.setFocus()

    def _say(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()


class LockScreen(QWidget):
    """The till is locked: only the operator who locked it unlocks it (password or card);
    anyone may sign them out so that another operator can take over."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._busy = False

        panel = QFrame(self)
        title = QLabel(self.tr("Till locked"), panel)
        title.setProperty("role", "big")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.locked_by_label = QLabel(panel)
        self.locked_by_label.setProperty("role", "title")
        self.locked_by_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.locked_by_label.setWordWrap(True)
        self.password_field = QLineEdit(panel)
        self.password_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_field.setPlaceholderText(self.tr("Password"))
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow(self.tr("Password"), self.password_field)
        self.unlock_button = QPushButton(self.tr("Unlock"), panel)
        self.unlock_button.setProperty("primary", True)
        self.unlock_button.setMinimumHeight(56)
        self.unlock_button.clicked.connect(self.unlock_by_password)
        self.card_hint = QLabel(self.tr("or tap your employee card"), panel)
        self.card_hint.setProperty("role", "muted")
        self.card_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error_label = error_label(panel, centered=True)
        self.sign_out_button = QPushButton(self.tr("Sign out (another operator takes over)"), panel)
        self.sign_out_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.sign_out_button.clicked.connect(self.session.sign_out)

        layout = QVBoxLayout(panel)
        layout.setSpacing(14)
        layout.addWidget(title)
        layout.addWidget(self.locked_by_label)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addWidget(self.unlock_button)
        layout.addWidget(self.card_hint)
        layout.addWidget(self.error_label)
        layout.addSpacing(16)
        layout.addWidget(self.sign_out_button)
        _centered(self, panel)

        self.password_field.returnPressed.connect(self.unlock_by_password)
        session.devices.sig_card.connect(self._on_card)
        session.devices.sig_card_failed.connect(self._on_card_failed)

    def activate(self) -> None:
        """Shown: who locked the till, an empty password field with the cursor in it."""
        actor = self.session.actor
        self.locked_by_label.setText(
            self.tr("Locked by %1").replace("%1", actor.name) if actor is not None else ""
        )
        self.password_field.clear()
        self.error_label.hide()
        self.password_field.setFocus()

    def unlock_by_password(self) -> None:
        """Check the locked operator's password on the database worker."""
        actor = self.session.actor
        password = self.password_field.text()
        if actor is None:
            return
        if not password:
            self._say(self.tr("Type your password"))
            self.password_field.setFocus()
            return
        ctx, login = self.session.ctx, actor.login
        self._start(lambda: sign_in(ctx, login, password))

    @Slot(object)
    def _on_card(self, event: CardPresented) -> None:
        if not self.session.devices.cards_are_for(self) or self._busy:
            return
        if self.session.actor is None:
            return
        ctx, number = self.session.ctx, event.number
        self._start(lambda: sign_in_by_card(ctx, number))

    @Slot(object)
    def _on_card_failed(self, event: CardReadFailed) -> None:
        if self.session.devices.cards_are_for(self):
            self._say(event.reason(self.session.lang))

    def _start(self, work: Callable[[], Actor]) -> None:
        self._busy = True
        self.unlock_button.setEnabled(False)
        self.error_label.hide()
        (
            ServiceOp(self, work, busy_text=self.tr("Checking…"))
            .success(self._checked)
            .failure(self._refused)
            .finally_(self._not_busy)
            .run()
        )

    def _not_busy(self) -> None:
        self._busy = False
        self.unlock_button.setEnabled(True)

    def _checked(self, who: Actor) -> None:
        locked_by = self.session.actor
        if locked_by is None or not self.session.locked:
            return  # signed out meanwhile
        if who.operator_id != locked_by.operator_id:
            self._say(
                self.tr("Only %1 can unlock this till. To take over, sign %1 out first.").replace(
                    "%1", locked_by.name
                )
            )
            self.password_field.clear()
            self.password_field.setFocus()
            return
        self.password_field.clear()
        self.session.set_locked(False)

    def _refused(self, exc: BaseException) -> None:
        self._say(describe_error(exc, self.session.lang))
        self.password_field.clear()
        self.password_field.setFocus()

    def _say(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()
