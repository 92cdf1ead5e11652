"""The member desk's dialogs that act on one card: top up (储值) with the bonus previewed,
report lost (挂失), replace (换卡), cancel (注销), reset the PIN, issue a card to a member; and
the pieces every desk dialog shares (the frame, a PIN field, a card number from a tap).

Each dialog collects what the cashier types, runs one service on the database worker and
shows the services' refusal in its own red line, staying open so nothing typed is lost. A
cashier doing what needs a manager gets the approval dialog (`run_with_approval`); the
services decide who needs one. On success a dialog closes and emits `sig_done(result)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import (
    QChildEvent,
    QCoreApplication,
    QEvent,
    QObject,
    QRegularExpression,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeyEvent, QRegularExpressionValidator, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hardware.events import CardPresented, CardReadFailed
from pos_app.domain.card_lifecycle import CardMedia, mask_card_no
from pos_app.domain.errors import DomainError
from pos_app.domain.money import MAX_TOPUP_FEN, format_fen, parse_yuan
from pos_app.domain.permissions import Permission
from pos_app.domain.stored_value import CancelSettlement
from pos_app.services.auth import Actor, Approval
from pos_app.services.cards import (
    cancel_card,
    issue_card,
    preview_cancel,
    replace_card,
    reset_pin,
)
from pos_app.services.context import StoreContext
from pos_app.services.members import CardView, MemberView
from pos_app.services.stored_value import TOPUP_TENDERS, preview_bonus, top_up
from pos_app.ui.approval_dialog import ApprovalDialog, run_with_approval
from pos_app.ui.error_text import ERROR_STYLE, describe_error
from pos_app.ui.operations import ServiceOp
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill
from pos_app.ui.wedge_filter import disable_input_method

T = TypeVar("T")

PREVIEW_DELAY_MS = 200  # the bonus preview waits for a pause in typing
AMOUNT_PATTERN = r"[0-9]{0,9}([.][0-9]{0,2})?"
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


# -- Words the desk shows for the services' codes -------------------------------------------


def money(fen: int) -> str:
    """An amount as the till shows it: ¥12.30."""
    return format_fen(fen)


def state_text(state: str) -> str:
    """A card state in the UI's language."""
    names = {
        "in_stock": QCoreApplication.translate("CardText", "in stock"),
        "active": QCoreApplication.translate("CardText", "active"),
        "lost": QCoreApplication.translate("CardText", "lost"),
        "frozen": QCoreApplication.translate("CardText", "frozen"),
        "replaced": QCoreApplication.translate("CardText", "replaced"),
        "cancelled": QCoreApplication.translate("CardText", "cancelled"),
    }
    return names.get(state, state)


def media_text(media: str) -> str:
    """A card medium in the UI's language."""
    names = {
        "ic": QCoreApplication.translate("CardText", "IC card"),
        "magstripe": QCoreApplication.translate("CardText", "magnetic stripe"),
        "barcode": QCoreApplication.translate("CardText", "barcode / QR"),
        "virtual": QCoreApplication.translate("CardText", "virtual"),
    }
    return names.get(media, media)


def tender_text(tender: str) -> str:
    """A top-up or refund tender in the UI's language."""
    names = {
        "cash": QCoreApplication.translate("CardText", "Cash"),
        "bank": QCoreApplication.translate("CardText", "Bank card"),
        "wechat": QCoreApplication.translate("CardText", "WeChat Pay"),
        "alipay": QCoreApplication.translate("CardText", "Alipay"),
    }
    return names.get(tender, tender)


def pin_text(card: CardView) -> str:
    """Whether the card has a PIN, and whether wrong tries locked it."""
    if card.pin_locked:
        return QCoreApplication.translate("CardText", "locked")
    if card.pin_set:
        return QCoreApplication.translate("CardText", "set")
    return QCoreApplication.translate("CardText", "none")


def media_of_tap(event: CardPresented) -> str:
    """The card medium a reader's event stands for (a scanned QR is a printed code)."""
    return {"ic": "ic", "magstripe": "magstripe"}.get(event.kind, "barcode")


def pin_problem(first: str, second: str) -> str:
    """What is wrong with a PIN typed twice ("" when nothing is: both empty means no PIN)."""
    if not first and not second:
        return ""
    if not re.fullmatch(r"[0-9]{6}", first):
        return QCoreApplication.translate("CardText", "A card PIN is 6 digits")
    if first != second:
        return QCoreApplication.translate("CardText", "The two PINs differ: type them again")
    return ""


# -- Shared widgets --------------------------------------------------------------------------


class PinField(QLineEdit):
    """Six hidden digits (a card PIN); a Chinese input method cannot get in the way."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self.setMaxLength(6)
        self.setValidator(QRegularExpressionValidator(QRegularExpression("[0-9]{0,6}"), self))
        disable_input_method(self)


class CardNumberField(QWidget):
    """A card number: filled by a tap, swipe or scan while the dialog holds the reader, or
    typed; with the card's medium (set from the reader, or chosen)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number_field = QLineEdit(self)
        self.number_field.setMaxLength(32)
        self.number_field.setPlaceholderText(self.tr("Tap, swipe or type the card number"))
        disable_input_method(self.number_field)
        self.media_box = QComboBox(self)
        for media in CardMedia:
            self.media_box.addItem(media_text(media.value), media.value)
        self.media_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.number_field, 1)
        layout.addWidget(self.media_box)
        self.setFocusProxy(self.number_field)

    def fill_from(self, event: CardPresented) -> None:
        """Take the number and medium of a card the reader just read."""
        self.number_field.setText(event.number)
        self.media_box.setCurrentIndex(self.media_box.findData(media_of_tap(event)))

    def card_no(self) -> str:
        return self.number_field.text().strip()

    def media(self) -> str:
        return str(self.media_box.currentData())


class DeskDialog(QDialog):
    """The frame of the member desk's dialogs: a title, a line saying what this is about, a
    form, a red line for what went wrong, Cancel and the main button.

    Enter moves along `chain` (the fields in order) and confirms on the last one; Esc
    cancels, except while work is under way. A dialog with `takes_cards` holds the card
    reader while it is open, and `card_tapped` gets the cards read.
    """

    sig_done = Signal(object)
    """The dialog's work succeeded (its result); the dialog has closed."""

    takes_cards = False

    def __init__(
        self,
        session: TillSession,
        title: str,
        confirm_text: str,
        parent: QWidget | None = None,
        *,
        danger: bool = False,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.busy = False
        self.chain: list[QWidget] = []
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(620)

        self.title_label = QLabel(title, self)
        self.title_label.setProperty("role", "title")
        self.intro_label = QLabel(self)
        self.intro_label.setWordWrap(True)
        self.intro_label.hide()
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        self.confirm_button = QPushButton(confirm_text, self)
        self.confirm_button.setProperty("danger" if danger else "primary", True)
        self.confirm_button.setAutoDefault(False)
        self.confirm_button.clicked.connect(self.confirm)
        # PySide looks self.tr() up under the subclass's name: the frame's own words are
        # looked up under DeskDialog explicitly.
        self.cancel_button = QPushButton(
            QCoreApplication.translate("DeskDialog", "Cancel (Esc)"), self
        )
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addWidget(self.intro_label)
        layout.addLayout(self.form)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        layout.addLayout(buttons)

        session.devices.sig_card.connect(self._on_card)
        session.devices.sig_card_failed.connect(self._on_card_failed)

    # -- for subclasses ----------------------------------------------------------------------

    def set_intro(self, text: str) -> None:
        self.intro_label.setText(text)
        self.intro_label.setVisible(bool(text))

    def set_chain(self, *widgets: QWidget) -> None:
        """The fields Enter moves through, in order."""
        self.chain = list(widgets)
        for widget in widgets:
            target = widget.number_field if isinstance(widget, CardNumberField) else widget
            target.installEventFilter(self)
            # A refusal is about what was typed: once that changes, the red line would be
            # stale (saying "below the minimum" over an amount that is not), so it goes.
            if isinstance(target, QLineEdit):
                target.textEdited.connect(self._input_changed)
            elif isinstance(target, QComboBox):
                target.currentIndexChanged.connect(self._input_changed)

    def _input_changed(self, *_args: object) -> None:
        if not self.busy:
            self.show_problem("")

    def advance(self, widget: QWidget) -> None:
        """Enter in `widget`: on to the next field that takes input, or confirm on the last."""
        index = self.chain.index(widget)
        for following in self.chain[index + 1 :]:
            if following.isEnabled() and following.isVisible():
                following.setFocus()
                return
        self.confirm()

    def confirm(self) -> None:
        """The main button (or Enter on the last field)."""
        raise NotImplementedError

    def card_tapped(self, event: CardPresented) -> None:
        """A card was read while this dialog holds the reader."""

    def show_error(self, exc: BaseException) -> None:
        """A refusal (or any failure) in the dialog's red line."""
        self.show_problem(describe_error(exc, self.session.lang))

    def show_problem(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.confirm_button.setEnabled(not busy)

    @property
    def actor(self) -> Actor:
        return self.session.require_actor()

    @property
    def ctx(self) -> StoreContext:
        return self.session.ctx

    def run(
        self,
        work: Callable[[], T],
        on_success: Callable[[T], None],
        busy_text: str,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run one service on the database worker; failures go to the red line."""
        if self.busy:
            return
        self.set_busy(True)
        self.show_problem("")
        failed = on_failure or self.show_error

        def succeeded(result: T) -> None:
            self.set_busy(False)  # first: the next step may run another service
            on_success(result)

        def refused(exc: BaseException) -> None:
            self.set_busy(False)
            failed(exc)

        ServiceOp(self, work, busy_text=busy_text).success(succeeded).failure(refused).run()

    def run_approved(
        self,
        permission: Permission,
        work: Callable[[Approval | None], T],
        on_success: Callable[[T], None],
        busy_text: str,
    ) -> None:
        """Run a service that a cashier may need a manager's approval for."""
        if self.busy:
            return
        self.set_busy(True)
        self.show_problem("")

        def succeeded(result: T) -> None:
            self.set_busy(False)
            on_success(result)

        def failed(exc: BaseException) -> None:
            self.set_busy(False)
            self.show_error(exc)

        run_with_approval(
            self,
            self.session,
            permission,
            work,
            succeeded,
            busy_text=busy_text,
            on_failure=failed,
        )

    def finish(self, result: object) -> None:
        """The work is done: close and hand the result to the desk."""
        self.accept()
        self.sig_done.emit(result)

    # -- Qt ----------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self.takes_cards:
            self.session.devices.claim_cards(self)
        self.activateWindow()  # the keys go to the dialog at once, not to the screen behind
        if self.chain:
            self.chain[0].setFocus()

    def done(self, result: int) -> None:
        self.session.devices.release_cards(self)
        super().done(result)

    def reject(self) -> None:
        if self.busy:
            return  # the work runs to its end; its result must not land in a closed dialog
        super().reject()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in ENTER_KEYS
            and not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            owner = next(
                (
                    w
                    for w in self.chain
                    if w is watched
                    or (isinstance(w, CardNumberField) and w.number_field is watched)
                ),
                None,
            )
            if owner is not None:
                self.advance(owner)
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        # Enter outside the fields presses the main button, never Cancel by accident.
        if event.key() in ENTER_KEYS:
            if self.focusWidget() is self.cancel_button:
                self.reject()
            else:
                self.confirm()
            return
        super().keyPressEvent(event)

    def childEvent(self, event: QChildEvent) -> None:  # noqa: N802 (Qt's name)
        # run_with_approval says nothing when the manager's approval is cancelled: the
        # approval dialog opens as this dialog's child, so listen to it to be usable again.
        child = event.child()
        if event.type() == QEvent.Type.ChildPolished and isinstance(child, ApprovalDialog):
            child.sig_cancelled.connect(lambda: self.set_busy(False))
        super().childEvent(event)

    @Slot(object)
    def _on_card(self, event: CardPresented) -> None:
        if not self.takes_cards or not self.session.devices.cards_are_for(self) or self.busy:
            return
        self.card_tapped(event)

    @Slot(object)
    def _on_card_failed(self, event: CardReadFailed) -> None:
        if self.takes_cards and self.session.devices.cards_are_for(self):
            self.show_problem(event.reason(self.session.lang))


def card_summary(card: CardView) -> str:
    """ "88****01 — balance ¥550.00 (principal ¥500.00 + bonus ¥50.00)"."""
    return fill(
        QCoreApplication.translate("CardText", "Card %1 — balance %2 (principal %3 + bonus %4)"),
        mask_card_no(card.card_no),
        money(card.stored_value_fen),
        money(card.principal_fen),
        money(card.bonus_fen),
    )


# -- Top-up ----------------------------------------------------------------------------------


class TopUpDialog(DeskDialog):
    """充值: amount, tender (with a reference for non-cash), the bonus previewed as it is typed."""

    def __init__(
        self,
        session: TillSession,
        member: MemberView,
        card: CardView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(session, self.tr("Top up"), self.tr("Top up (Enter)"), parent)
        self.member = member
        self.card = card
        self._preview_seq = 0
        self.set_intro(f"{member.name} · {card_summary(card)}")

        self.amount_field = QLineEdit(self)
        self.amount_field.setPlaceholderText(self.tr("Amount in yuan, e.g. 500"))
        self.amount_field.setValidator(
            QRegularExpressionValidator(QRegularExpression(AMOUNT_PATTERN), self)
        )
        disable_input_method(self.amount_field)
        self.tender_box = QComboBox(self)
        for tender in TOPUP_TENDERS:
            self.tender_box.addItem(tender_text(tender), tender)
        # No tender until the cashier picks one: money taken by card or WeChat must never
        # be booked as cash because Enter came first.
        self.tender_box.setPlaceholderText(self.tr("Choose how it was paid (↑/↓)"))
        self.tender_box.setCurrentIndex(-1)
        self.reference_field = QLineEdit(self)
        self.reference_field.setPlaceholderText(self.tr("Payment reference (optional)"))
        disable_input_method(self.reference_field)
        self.preview_label = QLabel(self)
        self.preview_label.setWordWrap(True)
        self.preview_label.setStyleSheet("font-size: 14pt; font-weight: bold;")
        self.form.addRow(self.tr("Amount (¥)"), self.amount_field)
        self.form.addRow(self.tr("Paid by"), self.tender_box)
        self.form.addRow(self.tr("Reference"), self.reference_field)
        self.form.addRow(self.preview_label)
        self.set_chain(self.amount_field, self.tender_box, self.reference_field)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._preview)
        self.amount_field.textChanged.connect(self._amount_changed)
        self.tender_box.currentIndexChanged.connect(self._tender_changed)
        self._tender_changed()

    def advance(self, widget: QWidget) -> None:
        # Enter in the amount goes on to the tender (once one is picked, Enter there tops up
        # unless a reference can be typed); Enter on no tender asks for one.
        if widget is self.tender_box and self.tender() is None:
            self._ask_tender()
        elif widget is self.tender_box and not self.reference_field.isEnabled():
            self.confirm()
        else:
            super().advance(widget)

    def tender(self) -> str | None:
        """The tender picked, or None while none is."""
        data = self.tender_box.currentData()
        return None if self.tender_box.currentIndex() < 0 or data is None else str(data)

    def _ask_tender(self) -> None:
        self.show_problem(self.tr("Choose how the customer paid: cash, bank card, WeChat…"))
        self.tender_box.setFocus()

    def _tender_changed(self) -> None:
        tender = self.tender()
        self.reference_field.setEnabled(tender not in (None, "cash"))
        if tender in (None, "cash"):
            self.reference_field.clear()

    def _amount_changed(self) -> None:
        self._preview_seq += 1
        self.preview_label.setText("")
        self._preview_timer.start()

    def _preview(self) -> None:
        try:
            amount = parse_yuan(self.amount_field.text(), max_fen=MAX_TOPUP_FEN)
        except DomainError:
            return
        seq, ctx = self._preview_seq, self.ctx
        ServiceOp(self, lambda: preview_bonus(ctx, amount)).success(
            lambda bonus: self._show_preview(seq, amount, bonus)
        ).failure(self.show_error).run()

    def _show_preview(self, seq: int, amount: int, bonus: int) -> None:
        if seq != self._preview_seq:
            return  # the amount changed meanwhile; a newer preview is on its way
        after = money(self.card.stored_value_fen + amount + bonus)
        if bonus:
            text = fill(
                self.tr("Top up %1, bonus %2: balance after %3"), money(amount), money(bonus), after
            )
        else:
            text = fill(
                self.tr("Top up %1, no bonus for this amount: balance after %2"),
                money(amount),
                after,
            )
        self.preview_label.setText(text)

    def confirm(self) -> None:
        try:
            amount = parse_yuan(self.amount_field.text(), max_fen=MAX_TOPUP_FEN)
        except DomainError as exc:
            self.show_error(exc)
            self.amount_field.setFocus()
            return
        tender = self.tender()
        if tender is None:
            self._ask_tender()
            return
        reference = self.reference_field.text().strip() or None if tender != "cash" else None
        ctx, actor, card_no = self.ctx, self.actor, self.card.card_no
        self.run(
            lambda: top_up(ctx, actor, card_no, amount, tender, reference),
            self.finish,
            self.tr("Topping up…"),
        )


# -- A yes/no for one card action ------------------------------------------------------------


class ConfirmCardDialog(DeskDialog):
    """Asks before a card action (e.g. 挂失), then runs it."""

    def __init__(
        self,
        session: TillSession,
        title: str,
        message: str,
        confirm_text: str,
        work: Callable[[], Any],
        busy_text: str,
        parent: QWidget | None = None,
        *,
        danger: bool = True,
    ) -> None:
        super().__init__(session, title, confirm_text, parent, danger=danger)
        self._work = work
        self._busy_text = busy_text
        self.set_intro(message)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.confirm_button.setFocus()

    def confirm(self) -> None:
        self.run(self._work, self.finish, self._busy_text)


# -- Replace (换卡/补卡) ------------------------------------------------------------------------


class ReplaceCardDialog(DeskDialog):
    """Moves every balance and the PIN to a new card (tapped or typed); the old card dies."""

    takes_cards = True

    def __init__(
        self,
        session: TillSession,
        member: MemberView,
        card: CardView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(session, self.tr("Replace card"), self.tr("Replace card"), parent)
        self.member = member
        self.card = card
        self.set_intro(
            fill(
                self.tr(
                    "%1 · %2\nEverything on it moves to the new card; the old card stops "
                    "working for good. Tap or swipe the new card now."
                ),
                member.name,
                card_summary(card),
            )
        )
        self.new_card = CardNumberField(self)
        self.form.addRow(self.tr("New card"), self.new_card)
        self.set_chain(self.new_card)

    def card_tapped(self, event: CardPresented) -> None:
        self.new_card.fill_from(event)
        self.show_problem("")
        self.new_card.setFocus()

    def confirm(self) -> None:
        new_no, media = self.new_card.card_no(), self.new_card.media()
        if not new_no:
            self.show_problem(self.tr("Tap or swipe the new card, or type its number"))
            self.new_card.setFocus()
            return
        ctx, actor, old_no = self.ctx, self.actor, self.card.card_no
        self.run_approved(
            Permission.CARD_REPLACE,
            lambda approval: replace_card(ctx, actor, old_no, new_no, approval, media),
            self.finish,
            self.tr("Replacing the card…"),
        )


# -- Cancel (注销) -----------------------------------------------------------------------------


class CancelCardDialog(DeskDialog):
    """注销: shows the principal refunded less the fee and the bonus forfeited, then cancels."""

    def __init__(
        self,
        session: TillSession,
        member: MemberView,
        card: CardView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            session, self.tr("Cancel card"), self.tr("Cancel the card"), parent, danger=True
        )
        self.member = member
        self.card = card
        self.settlement: CancelSettlement | None = None
        self.set_intro(
            fill(
                self.tr("%1 · %2\nA cancelled card can never be used again."),
                member.name,
                card_summary(card),
            )
        )
        self.refund_label = QLabel("…", self)
        self.refund_label.setStyleSheet("font-size: 14pt; font-weight: bold;")
        self.fee_label = QLabel("…", self)
        self.bonus_label = QLabel("…", self)
        self.tender_box = QComboBox(self)
        for tender in TOPUP_TENDERS:
            self.tender_box.addItem(tender_text(tender), tender)
        # No tender until the cashier picks one: money taken by card or WeChat must never
        # be booked as cash because Enter came first.
        self.tender_box.setPlaceholderText(self.tr("Choose how it was paid (↑/↓)"))
        self.tender_box.setCurrentIndex(-1)
        self.form.addRow(self.tr("Principal refunded"), self.refund_label)
        self.form.addRow(self.tr("Cancellation fee"), self.fee_label)
        self.form.addRow(self.tr("Bonus forfeited"), self.bonus_label)
        self.form.addRow(self.tr("Refund paid by"), self.tender_box)
        self.set_chain(self.tender_box)
        self.set_busy(True)  # until the amounts are on screen
        ctx, actor, card_no = self.ctx, self.actor, card.card_no
        (
            ServiceOp(self, lambda: preview_cancel(ctx, actor, card_no))
            .success(self._show_settlement)
            .failure(self.show_error)
            .finally_(lambda: self.set_busy(False))
            .run()
        )

    def _show_settlement(self, settlement: CancelSettlement) -> None:
        self.settlement = settlement
        self.refund_label.setText(money(settlement.refund_fen))
        self.fee_label.setText(money(settlement.fee_fen))
        self.bonus_label.setText(money(settlement.forfeited_bonus_fen))

    def confirm(self) -> None:
        tender = str(self.tender_box.currentData())
        ctx, actor, card_no = self.ctx, self.actor, self.card.card_no
        self.run_approved(
            Permission.CARD_CANCEL,
            lambda approval: cancel_card(ctx, actor, card_no, approval, tender),
            self.finish,
            self.tr("Cancelling the card…"),
        )


# -- PIN reset ---------------------------------------------------------------------------------


class ResetPinDialog(DeskDialog):
    """A new six-digit PIN, typed twice; lifts the lock after wrong tries."""

    def __init__(
        self,
        session: TillSession,
        member: MemberView,
        card: CardView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(session, self.tr("Reset PIN"), self.tr("Reset PIN"), parent)
        self.card = card
        self.set_intro(
            fill(
                self.tr("%1 · card %2\nThe member types the new PIN on the keyboard or PIN pad."),
                member.name,
                mask_card_no(card.card_no),
            )
        )
        self.pin_field = PinField(self)
        self.again_field = PinField(self)
        self.form.addRow(self.tr("New PIN (6 digits)"), self.pin_field)
        self.form.addRow(self.tr("New PIN again"), self.again_field)
        self.set_chain(self.pin_field, self.again_field)

    def confirm(self) -> None:
        pin = self.pin_field.text()
        problem = pin_problem(pin, self.again_field.text())
        if problem or not pin:
            self.show_problem(problem or self.tr("Type the new PIN twice"))
            self.pin_field.clear()
            self.again_field.clear()
            self.pin_field.setFocus()
            return
        ctx, actor, card_no = self.ctx, self.actor, self.card.card_no
        self.run_approved(
            Permission.PIN_RESET,
            lambda approval: reset_pin(ctx, actor, card_no, pin, approval),
            self.finish,
            self.tr("Resetting the PIN…"),
        )


# -- Issue a card to a member ----------------------------------------------------------------


class IssueCardDialog(DeskDialog):
    """Gives an existing member a card (from stock or a new number), with an optional PIN."""

    takes_cards = True

    def __init__(
        self, session: TillSession, member: MemberView, parent: QWidget | None = None
    ) -> None:
        super().__init__(session, self.tr("Issue card"), self.tr("Issue card"), parent)
        self.member = member
        self.set_intro(
            fill(
                self.tr("%1 (%2) · tap or swipe the new card now."),
                member.name,
                member.member_no,
            )
        )
        self.card_field = CardNumberField(self)
        self.pin_field = PinField(self)
        self.again_field = PinField(self)
        self.form.addRow(self.tr("Card"), self.card_field)
        self.form.addRow(self.tr("PIN (optional, 6 digits)"), self.pin_field)
        self.form.addRow(self.tr("PIN again"), self.again_field)
        self.set_chain(self.card_field, self.pin_field, self.again_field)

    def card_tapped(self, event: CardPresented) -> None:
        self.card_field.fill_from(event)
        self.show_problem("")
        self.pin_field.setFocus()

    def advance(self, widget: QWidget) -> None:
        if widget is self.pin_field and not self.pin_field.text():
            self.confirm()  # no PIN: issue now
        else:
            super().advance(widget)

    def confirm(self) -> None:
        card_no, media = self.card_field.card_no(), self.card_field.media()
        if not card_no:
            self.show_problem(self.tr("Tap or swipe the card, or type its number"))
            self.card_field.setFocus()
            return
        problem = pin_problem(self.pin_field.text(), self.again_field.text())
        if problem:
            self.show_problem(problem)
            self.pin_field.clear()
            self.again_field.clear()
            self.pin_field.setFocus()
            return
        pin = self.pin_field.text() or None
        ctx, actor, member_no = self.ctx, self.actor, self.member.member_no
        self.run(
            lambda: issue_card(ctx, actor, member_no, card_no, media, pin),
            self.finish,
            self.tr("Issuing the card…"),
        )
