"""The demo's simulator panel (`pos-app demo`): tap a virtual card, scan a barcode, and see
the receipt the simulated printer printed.

A dock on the right of the window, shown only in the demo. Its buttons hand numbers to the
`sim:card` source, which reports them as a reader would (hub.sig_card), so the screens see
exactly what a real reader or scanner would give them. The cards and products listed are
taken from whatever store is open (the demo store or any other) once an operator signs in:
services need an operator, and the panel has none of its own.

Nothing here takes the focus from the checkout's scan field: the buttons do not take focus,
and after a code typed in the panel is sent, the focus goes back where it was. Ctrl+Shift+1
to 4 tap the first four cards, also while a dialog (approval, PIN) is open and the panel's
buttons cannot be clicked.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from hardware.events import CardKind
from hardware.printing.jobs import JobState, PrintJobInfo
from pos_app.domain.card_lifecycle import STATE_NAMES, CardState, mask_card_no
from pos_app.domain.errors import NotFound
from pos_app.domain.money import format_fen
from pos_app.services.auth import Actor
from pos_app.services.catalogue import list_products
from pos_app.services.context import StoreContext
from pos_app.services.members import show_member
from pos_app.ui.error_text import describe_error
from pos_app.ui.operations import ServiceOp
from pos_app.ui.receipt_viewer import ReceiptViewer
from pos_app.ui.till_session import TillSession
from pos_app.ui.wedge_filter import disable_input_method

PANEL_WIDTH = 320
MEMBERS_SEARCHED = 40  # the first members by number: the demo's sample cards are among them
MAX_CARDS = 6
MAX_PRODUCTS = 4
SHORTCUT_CARDS = 4  # Ctrl+Shift+1..4
# The reader a card's medium is read by: a virtual card is the member's QR code.
KIND_OF_MEDIA: dict[str, CardKind] = {
    "ic": "ic",
    "magstripe": "magstripe",
    "barcode": "barcode",
    "virtual": "qr",
}
# Ctrl+Shift+digit arrives as the shifted symbol on most keyboard layouts (US: !@#$).
_DIGIT_KEYS: dict[int, int] = {
    Qt.Key.Key_1.value: 0,
    Qt.Key.Key_2.value: 1,
    Qt.Key.Key_3.value: 2,
    Qt.Key.Key_4.value: 3,
    Qt.Key.Key_Exclam.value: 0,
    Qt.Key.Key_At.value: 1,
    Qt.Key.Key_NumberSign.value: 2,
    Qt.Key.Key_Dollar.value: 3,
}
_CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@dataclass(frozen=True)
class DemoCard:
    """A card the panel offers to tap. `state` is the card's state ("active", "lost", …)
    or "employee" for an operator's employee card (which has no balance)."""

    card_no: str
    kind: CardKind
    holder: str
    state: str
    stored_value_fen: int | None
    pin_set: bool


@dataclass(frozen=True)
class DemoProduct:
    """A product the panel offers to scan: its barcode (or SKU when it has none)."""

    code: str
    name: str
    name_en: str | None
    price_fen: int


def demo_cards(ctx: StoreContext, actor: Actor) -> list[DemoCard]:
    """A few cards of the store worth trying (db worker): one that simply pays, one with a
    PIN, the demo's employee cards (in the demo store), one reported lost (or otherwise
    blocked), and more that pay, in that order."""
    paying: list[DemoCard] = []
    with_pin: list[DemoCard] = []
    blocked: list[DemoCard] = []
    other: list[DemoCard] = []
    for n in range(1, MEMBERS_SEARCHED + 1):
        try:
            view = show_member(ctx, actor, member_no=f"{ctx.store.code}{n:07d}")
        except NotFound:
            break
        for card in view.cards:
            found = DemoCard(
                card.card_no,
                KIND_OF_MEDIA.get(card.media, "ic"),
                view.name,
                card.state,
                card.stored_value_fen,
                card.pin_set,
            )
            if card.state == CardState.LOST:
                blocked.insert(0, found)  # shows best what a blocked card does
            elif card.state != CardState.ACTIVE:
                blocked.append(found)
            elif card.pin_set:
                with_pin.append(found)
            elif card.stored_value_fen > 0 and card.media != "virtual":
                paying.append(found)
            else:
                other.append(found)
        if len(paying) >= 3 and with_pin and blocked:
            break
    paying += other
    # The first four have shortcuts (usable while a dialog waits for a card): a card that
    # pays, one with a PIN, and the employee cards that approve and sign in.
    employees = demo_employee_cards(ctx.store.code)
    chosen = paying[:1] + with_pin[:1] + employees + blocked[:1] + paying[1:] + with_pin[1:]
    return chosen[:MAX_CARDS]


def demo_employee_cards(store_code: str) -> list[DemoCard]:
    """The demo's employee cards (manager first, then cashier) in the demo store; none in
    any other. A store keeps only a hash of an employee card's number, so only the demo,
    which prints its cards' numbers, can offer them."""
    try:
        from pos_app.demo_store import DEMO_EMPLOYEE_CARDS, DEMO_LOGINS, DEMO_STORE_CODE
    except ImportError:  # a build without the demo's employee cards
        return []
    if store_code != DEMO_STORE_CODE:
        return []
    names = {login.login: login.name for login in DEMO_LOGINS}
    return [
        DemoCard(card_no, "ic", names.get(login, login), "employee", None, False)
        for login, card_no in DEMO_EMPLOYEE_CARDS
    ]


def demo_products(ctx: StoreContext, actor: Actor) -> list[DemoProduct]:
    """One product with a barcode from each category, up to MAX_PRODUCTS (db worker)."""
    chosen: list[DemoProduct] = []
    categories: set[str] = set()
    for product in list_products(ctx, actor, limit=300):
        if (
            not product.active
            or product.kind != "goods"
            or product.price_fen == 0  # a free gift: nothing to see at the till
            or product.category in categories
        ):
            continue
        categories.add(product.category)
        code = product.barcodes[0] if product.barcodes else product.sku
        chosen.append(DemoProduct(code, product.name, product.name_en, product.price_fen))
        if len(chosen) >= MAX_PRODUCTS:
            break
    return chosen


class SimPanel(QDockWidget):
    """The demo's simulated devices, beside the till."""

    sig_presented = Signal(str, str)
    """The panel handed a code to the simulated reader (number, kind)."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.cards: list[DemoCard] = []
        self.products: list[DemoProduct] = []
        self.card_buttons: list[QPushButton] = []
        self.product_buttons: list[QPushButton] = []
        self._return_focus: QWidget | None = None
        self._members_listed = False  # the member cards need a signed-in operator
        self.setObjectName("simPanel")
        self.setWindowTitle(self.tr("Simulator (demo)"))
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumWidth(PANEL_WIDTH)
        self.setStyleSheet(
            "#simPanel QPushButton { min-height: 34px; padding: 2px 8px; }"
            "#simPanel QPushButton#scanButton { text-align: left; }"
            "#simPanel QLabel[role='section'] { font-weight: bold; margin-top: 6px; }"
        )

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._make_devices_part())
        splitter.addWidget(self._make_receipt_part())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([500, 300])
        self.setWidget(splitter)

        hub = session.devices
        hub.sig_job.connect(self._on_job)
        session.sig_signed_in.connect(self._on_signed_in)
        app = QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)
            if isinstance(app, QApplication):
                app.focusChanged.connect(self._on_focus_changed)
        self.receipt_viewer.watch(hub.sim_printer_dir)
        if session.actor is not None:  # a window built again (language change) after sign-in
            self.reload()
        else:  # the employee cards sign in: they are there before anyone is signed in
            ctx = session.ctx
            (
                ServiceOp(self, lambda: demo_employee_cards(ctx.store.code))
                .success(self._show_employee_cards)
                .failure(self._on_load_failed)
                .run()
            )

    # -- building ----------------------------------------------------------------------------

    def _make_devices_part(self) -> QWidget:
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget(scroll)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 4, 8, 4)

        layout.addWidget(self._section(self.tr("Tap a card"), body))
        self.cards_box = QWidget(body)
        self.cards_layout = QVBoxLayout(self.cards_box)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.setSpacing(4)
        layout.addWidget(self.cards_box)
        self.cards_note = self._muted(self.tr("Sign in to list the store's member cards."), body)
        layout.addWidget(self.cards_note)

        layout.addWidget(self._section(self.tr("Scan a barcode"), body))
        row = QHBoxLayout()
        self.code_field = QLineEdit(body)
        self.code_field.setPlaceholderText(self.tr("Scan this code (Enter)"))
        self.code_field.setToolTip(
            self.tr("A product barcode or SKU, or a card number: Enter scans it as a barcode")
        )
        disable_input_method(self.code_field)
        self.code_field.returnPressed.connect(self.scan_typed)
        self.card_typed_button = QPushButton(self.tr("Tap as card"), body)
        self.card_typed_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.card_typed_button.setToolTip(self.tr("Tap the typed number as an IC card"))
        self.card_typed_button.clicked.connect(self.tap_typed)
        row.addWidget(self.code_field, 1)
        row.addWidget(self.card_typed_button)
        layout.addLayout(row)
        self.products_box = QWidget(body)
        self.products_layout = QVBoxLayout(self.products_box)
        self.products_layout.setContentsMargins(0, 0, 0, 0)
        self.products_layout.setSpacing(4)
        layout.addWidget(self.products_box)
        layout.addStretch(1)
        scroll.setWidget(body)
        return scroll

    def _make_receipt_part(self) -> QWidget:
        part = QWidget(self)
        layout = QVBoxLayout(part)
        layout.setContentsMargins(8, 0, 8, 4)
        self.status_label = self._muted("", part)  # what was sent last, or why not
        layout.addWidget(self.status_label)
        layout.addWidget(self._section(self.tr("Last receipt"), part))
        self.receipt_viewer = ReceiptViewer(part)
        layout.addWidget(self.receipt_viewer, 1)
        return part

    def _section(self, text: str, parent: QWidget) -> QLabel:
        label = QLabel(text, parent)
        label.setProperty("role", "section")
        return label

    def _muted(self, text: str, parent: QWidget) -> QLabel:
        label = QLabel(text, parent)
        label.setProperty("role", "muted")
        label.setWordWrap(True)
        return label

    # -- loading what to offer (db worker) ----------------------------------------------------

    @Slot(object)
    def _on_signed_in(self, _actor: object) -> None:
        if not self._members_listed:
            self.reload()

    def reload(self) -> None:
        """List the store's cards and products again (needs a signed-in operator)."""
        actor = self.session.actor
        if actor is None:
            return
        ctx = self.session.ctx
        (
            ServiceOp(self, lambda: demo_cards(ctx, actor))
            .success(self._show_cards)
            .failure(self._on_load_failed)
            .run()
        )
        (
            ServiceOp(self, lambda: demo_products(ctx, actor))
            .success(self._show_products)
            .failure(self._on_load_failed)
            .run()
        )

    def _on_load_failed(self, exc: BaseException) -> None:
        self.status_label.setText(describe_error(exc, self.session.lang))

    def _show_employee_cards(self, cards: list[DemoCard]) -> None:
        if not self._members_listed:
            self._list_cards(cards)

    def _show_cards(self, cards: list[DemoCard]) -> None:
        self._members_listed = True
        self._list_cards(cards)
        self.cards_note.setText("" if cards else self.tr("This store has no member cards yet."))
        self.cards_note.setVisible(not cards)

    def _list_cards(self, cards: list[DemoCard]) -> None:
        self.cards = cards
        self.card_buttons = []
        _clear(self.cards_layout)
        for index, card in enumerate(cards):
            self.cards_layout.addWidget(self._card_row(index, card))

    def _card_row(self, index: int, card: DemoCard) -> QWidget:
        row = QFrame(self.cards_box)
        row.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(6, 2, 4, 2)
        text = QLabel(row)
        holder = html.escape(card.holder)
        text.setText(f"<b>{holder}</b> {mask_card_no(card.card_no)}<br>{self._details(card)}")
        text.setWordWrap(True)  # a narrow panel wraps the line instead of growing
        layout.addWidget(text, 1)
        button = QPushButton(self.tr("Tap"), row)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        if index < SHORTCUT_CARDS:
            button.setText(self.tr("Tap %1").replace("%1", str(index + 1)))
            button.setToolTip(self.tr("Ctrl+Shift+%1").replace("%1", str(index + 1)))
        button.clicked.connect(lambda _=False, i=index: self.tap_card(i))
        self.card_buttons.append(button)
        layout.addWidget(button)
        return row

    def _details(self, card: DemoCard) -> str:
        """Balance, PIN and state, as small grey text."""
        parts: list[str] = []
        if card.state == "employee":
            parts.append(self.tr("employee card"))
        else:
            if card.stored_value_fen is not None and card.state == CardState.ACTIVE:
                parts.append(format_fen(card.stored_value_fen))
            if card.pin_set:
                parts.append(self.tr("PIN"))
            if card.state != CardState.ACTIVE:
                zh, en = STATE_NAMES.get(CardState(card.state), (card.state, card.state))
                parts.append(f"<span style='color:#c62828'>{en if self._en else zh}</span>")
        return f"<span style='color:#5b6673'>{' · '.join(parts)}</span>"

    @property
    def _en(self) -> bool:
        return self.session.lang == "en"

    def _show_products(self, products: list[DemoProduct]) -> None:
        self.products = products
        self.product_buttons = []
        _clear(self.products_layout)
        for index, product in enumerate(products):
            name = product.name_en if self._en and product.name_en else product.name
            button = QPushButton(f"{name}  {format_fen(product.price_fen)}", self.products_box)
            button.setObjectName("scanButton")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            # A long name is cut at the panel's edge rather than widening the panel.
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            button.setToolTip(
                self.tr("Scan %1 (%2)").replace("%1", product.code).replace("%2", name)
            )
            button.clicked.connect(lambda _=False, i=index: self.scan_product(i))
            self.product_buttons.append(button)
            self.products_layout.addWidget(button)

    # -- what the buttons do ------------------------------------------------------------------

    def tap_card(self, index: int) -> None:
        """Tap the listed card `index` on the simulated reader."""
        if 0 <= index < len(self.cards):
            card = self.cards[index]
            self.present(card.card_no, card.kind)

    def scan_product(self, index: int) -> None:
        """Scan the listed product `index`'s barcode."""
        if 0 <= index < len(self.products):
            self.present(self.products[index].code, "barcode")

    def scan_typed(self) -> None:
        """Scan what was typed in the code field as a barcode (Enter)."""
        code = self.code_field.text().strip()
        if code:
            self.present(code, "barcode")
            self.code_field.clear()
        self._give_focus_back()

    def tap_typed(self) -> None:
        """Tap what was typed in the code field as an IC card."""
        code = self.code_field.text().strip()
        if code:
            self.present(code, "ic")
            self.code_field.clear()
        self._give_focus_back()

    def present(self, number: str, kind: CardKind) -> bool:
        """Hand `number` to the simulated reader, which reports it as `kind`."""
        source = self.session.devices.sim_card_source()
        if source is None:
            self.status_label.setText(self.tr("The simulated card reader is not open yet."))
            return False
        source.present(number, kind=kind)
        shown = number if kind == "barcode" else mask_card_no(number)
        sent = self.tr("Sent %1 (%2)").replace("%1", shown)
        self.status_label.setText(sent.replace("%2", self._kind_text(kind)))
        self.sig_presented.emit(number, kind)
        return True

    def _kind_text(self, kind: str) -> str:
        names = {
            "ic": self.tr("IC card"),
            "magstripe": self.tr("magnetic stripe"),
            "barcode": self.tr("barcode"),
            "qr": self.tr("QR code"),
        }
        return names.get(kind, kind)

    # -- focus: the panel never keeps it ------------------------------------------------------

    @Slot(QWidget, QWidget)
    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        # Someone clicked into the panel's code field: remember where the focus came from.
        inside = new is not None and self.isAncestorOf(new)
        if inside and old is not None and not self.isAncestorOf(old):
            self._return_focus = old

    def _give_focus_back(self) -> None:
        target = self._return_focus
        if target is not None and isValid(target) and target.isVisible():
            target.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self.code_field.hasFocus():
            self.code_field.clearFocus()

    # -- events ------------------------------------------------------------------------------

    @Slot(object)
    def _on_job(self, job: PrintJobInfo) -> None:
        if job.state == JobState.PRINTED:
            self.receipt_viewer.look_for_new()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Ctrl+Shift+1..4 anywhere in the app, also over a window-modal dialog (a QShortcut
        of a window behind a modal dialog does not fire)."""
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            index = _DIGIT_KEYS.get(event.key())
            if (
                index is not None
                and event.modifiers() & _CTRL_SHIFT == _CTRL_SHIFT
                and not event.isAutoRepeat()
                and self._same_app_window(watched)
            ):
                self.tap_card(index)
                return True
        return False

    def _same_app_window(self, watched: QObject) -> bool:
        """The key went to this till's window or one of its dialogs (not an old window
        waiting to be deleted after a change of language)."""
        if not isinstance(watched, QWidget) or not isValid(self):
            return False
        owner = self.parentWidget()
        top = owner.window() if owner is not None else self.window()
        widget: QWidget | None = watched.window()
        while widget is not None:
            if widget is top:
                return True
            parent = widget.parentWidget()
            widget = parent.window() if parent is not None else None
        return False


def _clear(layout: QLayout) -> None:
    """Take every widget out of `layout` (to list new ones)."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()
