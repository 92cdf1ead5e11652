"""The checkout screen (收银, PRODUCT §8): scan or search products, the cart with every
discount explained, the member panel, hold/recall, void, cancel, and on to payment.

Left: the scan field (always focused), the cart table, the sale's own adjustments (coupons,
抹零) and the totals. Right: the member panel and the big action buttons with their keys.

What the cashier types or scans into the field, on Enter:
    a product code or barcode     adds one (``3*V001`` adds three); goods sold by weight
                                  are weighed on the scale (``0.5*F005``: 0.5 kg typed)
    a scale label (条码秤)         the weighed line it carries
    11 digits                     the member with that mobile
    4 digits (not a product)      the members whose mobile ends so (a list if several)
    a coupon code                 the coupon, if the services accept it for this cart
    a card number                 the member holding the card
    anything else                 the product search, with the text
    nothing                       payment

Every change of the cart becomes a SaleRequest that the services price (`checkout.quote`)
off the GUI thread; each request is numbered and only the newest answer is shown. The screen
adds no business rule of its own: prices, discounts, limits and refusals are the services'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from hardware.events import CardPresented, CardReadFailed
from pos_app.domain.errors import DomainError, InvalidInput, NotFound
from pos_app.domain.money import format_fen
from pos_app.domain.permissions import Permission
from pos_app.domain.sale_request import (
    LineRequest,
    ManualRounding,
    OrderDiscount,
    SaleRequest,
    is_decimal,
    parse_quantity,
    split_quantity,
    typed_line,
)
from pos_app.domain.weighed_goods import milli_from_grams
from pos_app.services.auth import Actor, Approval
from pos_app.services.catalogue import ProductView, search_products, show_product
from pos_app.services.checkout import (
    Quote,
    SaleResult,
    approve_manual_changes,
    cancel_sale,
    check_void,
    quote,
    read_scale_label,
)
from pos_app.services.context import StoreContext
from pos_app.services.held_sales import HeldView, hold_sale
from pos_app.services.member_panel import MemberPanel, member_panel
from pos_app.services.members import MemberHit, find_members
from pos_app.ui.approval_dialog import run_with_approval
from pos_app.ui.cart_view import CartView, PendingLine, adjustment_text
from pos_app.ui.entry_dialog import EntryDialog
from pos_app.ui.error_text import describe_error
from pos_app.ui.held_sales_dialog import HeldSalesDialog
from pos_app.ui.member_panel import MemberPanelView, MemberPickDialog
from pos_app.ui.operations import ServiceOp
from pos_app.ui.order_discount_dialog import OrderDiscountDialog
from pos_app.ui.price_change_dialog import PriceChangeDialog
from pos_app.ui.product_search_dialog import ProductSearchDialog
from pos_app.ui.rounding_dialog import RoundingDialog
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill
from pos_app.ui.wedge_filter import disable_input_method
from pos_app.ui.weight_dialog import WeightDialog

log = logging.getLogger(__name__)

SCANNED_KINDS = ("barcode", "qr")  # scanner input on the card sources: like typed text
# A "-" on its own acts after this pause (a person typing "-3" is quicker than that).
MINUS_SETTLE_MS = 600


# -- What a scan or a typed text is (runs on the database worker) ---------------------------


@dataclass(frozen=True)
class ScanResult:
    """What the text in the scan field turned out to be."""

    kind: str  # product, member, members, no_member, coupon, search
    text: str
    qty: int = 1
    product: ProductView | None = None
    panel: MemberPanel | None = None
    hits: tuple[MemberHit, ...] = ()
    products: tuple[ProductView, ...] = ()
    code: str = ""
    line: LineRequest | None = None  # the line to add; None for a product to weigh or count


def resolve_scan(
    ctx: StoreContext, actor: Actor, text: str, cart: SaleRequest, *, typed: bool
) -> ScanResult:
    """Find what `text` names, asking the services in the order a till expects: a product,
    a member by mobile (11 digits) or by its last 4 digits, a coupon for this cart, a member
    card, and (typed text only) a product search. Nothing found: the product's NotFound."""
    # "3*V001", "0.5*F005": the number is read once the product is known (domain/sale_request).
    quantity, code = split_quantity(text)
    qty = parse_quantity(quantity) if quantity and not is_decimal(quantity) else 1
    LineRequest(code, qty)  # the services' limits on a quantity, before anything else
    try:
        product = show_product(ctx, actor, code)
    except NotFound as exc:
        missing = exc
    else:
        # Goods sold by weight take the typed number as their weight (none: the scale);
        # a decimal for goods sold by the piece is refused.
        line = None
        if quantity is not None or not product.sold_by_weight:
            line = typed_line(
                product.sku,
                quantity,
                name=product.name,
                unit=product.unit,
                sold_by_weight=product.sold_by_weight,
            )
        if not product.active:  # let checkout say why it cannot be sold
            probe = line or LineRequest(product.sku, weight_milli=1000)
            quote(ctx, actor, SaleRequest((probe,)))
        return ScanResult("product", text, qty, product=product, line=line)
    if quantity is not None:
        raise missing
    label_line = read_scale_label(ctx, actor, code)
    if label_line is not None:
        labelled = show_product(ctx, actor, label_line.code)
        return ScanResult("product", text, product=labelled, line=label_line)
    if code.isdigit() and len(code) == 11:
        return ScanResult("member", text, panel=member_panel(ctx, actor, mobile=code))
    if code.isdigit() and len(code) == 4:
        hits = tuple(find_members(ctx, actor, code))
        if len(hits) == 1:
            panel = member_panel(ctx, actor, member_no=hits[0].member_no)
            return ScanResult("member", text, panel=panel)
        return ScanResult("members" if hits else "no_member", text, hits=hits)
    if cart.lines and _accepted_coupon(ctx, actor, cart, code):
        return ScanResult("coupon", text, code=code)
    try:
        return ScanResult("member", text, panel=member_panel(ctx, actor, card_no=code))
    except (NotFound, InvalidInput):
        pass
    if typed:
        found = tuple(search_products(ctx, actor, text.strip()))
        if found:
            return ScanResult("search", text, products=found)
    raise missing


def _accepted_coupon(ctx: StoreContext, actor: Actor, cart: SaleRequest, code: str) -> bool:
    """Whether checkout prices the cart with this coupon. A coupon it refuses for this cart
    (threshold not met, someone else's, used) raises that refusal; a code that is no coupon
    at all answers False."""
    try:
        quote(ctx, actor, replace(cart, coupon_codes=(*cart.coupon_codes, code)))
    except NotFound:
        return False
    except DomainError as refused:
        try:
            quote(ctx, actor, cart)
        except DomainError:
            return False  # the cart itself cannot be priced: the code says nothing
        raise refused from None
    return True


# -- The screen ------------------------------------------------------------------------------


class CheckoutScreen(QWidget):
    """收银: the cart, the member and the way to payment, all from the keyboard."""

    sig_member_loaded = Signal(object)
    """The member panel was filled (a MemberPanel) after a card, mobile or search."""

    sig_sale_completed = Signal(object)
    """A sale was paid and recorded (a SaleResult); the screen is ready for the next one."""

    sig_quote_changed = Signal(object)
    """The cart was priced again (a Quote, or None when the cart emptied or was refused)."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.lang = session.lang
        self._lines: list[LineRequest] = []
        self._names: dict[str, str] = {}
        self._ticked: tuple[str, ...] = ()  # coupons ticked in the member's wallet
        self._scanned_coupons: tuple[str, ...] = ()  # coupon codes scanned or typed
        self._panel: MemberPanel | None = None
        self._quote_seq = 0
        self._quoted_request: SaleRequest | None = None
        self._selected_sku: str | None = None
        self._displayed_total: int | None = None
        self.current_quote: Quote | None = None
        self.quote_error: BaseException | None = None
        self.held_dialog: HeldSalesDialog | None = None
        self.search_dialog: ProductSearchDialog | None = None
        self.pick_dialog: MemberPickDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self.tender_dialog: Any = None
        self.returns_dialog: Any = None
        self.entry_dialog: EntryDialog | None = None  # weight, 改价, 整单折扣, 抹零
        self._order_discount: OrderDiscount | None = None
        self._manual_rounding: ManualRounding | None = None
        # A manager's approval of the manual changes beyond the cashier's limits, given when
        # they were made; the sale is recorded with it.
        self._manual_approval: Approval | None = None

        self._build()
        self._make_shortcuts()
        session.sig_shift_changed.connect(self._on_shift_changed)
        session.sig_signed_in.connect(self._on_signed_in)
        session.sig_signed_out.connect(self._on_signed_out)
        session.devices.sig_card.connect(self._on_card)
        session.devices.sig_card_failed.connect(self._on_card_failed)
        self._on_shift_changed(session.shift)
        self._show_totals()

    # -- building ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.shift_hint = QLabel(self.tr("No shift open — open one under Shift (F3)"), self)
        self.shift_hint.setStyleSheet(
            "background: #fff4d6; color: #7a5200; border: 1px solid #d69e2e;"
            " border-radius: 4px; padding: 6px 10px; font-weight: bold;"
        )
        self.scan_field = QLineEdit(self)
        self._scan_placeholder = self.tr(
            "Scan or type a code (3*code for three), a mobile or a card — Enter"
        )
        self.scan_field.setPlaceholderText(self._scan_placeholder)
        self.scan_field.setStyleSheet("font-size: 16pt; min-height: 44px;")
        disable_input_method(self.scan_field)
        self.scan_field.returnPressed.connect(self._on_enter)
        self.scan_field.installEventFilter(self)
        self._minus_timer = QTimer(self)
        self._minus_timer.setSingleShot(True)
        self._minus_timer.setInterval(MINUS_SETTLE_MS)
        self._minus_timer.timeout.connect(self._minus_settled)

        self.cart_view = CartView(self.lang, self)
        self.cart_view.clicked.connect(self._on_row_clicked)
        self.empty_cart_label = QLabel(self.tr("The cart is empty: scan the first item."), self)
        self.empty_cart_label.setProperty("role", "muted")
        self.empty_cart_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sale_adjustments_label = QLabel(self)
        self.sale_adjustments_label.setWordWrap(True)
        self.sale_adjustments_label.setStyleSheet("color: #5b6673;")
        self.gross_label = QLabel(self)
        self.discount_label = QLabel(self)
        self.discount_label.setStyleSheet("color: #1a7f37; font-weight: bold;")
        self.items_label = QLabel(self)
        self.items_label.setProperty("role", "muted")
        self.total_label = QLabel(self)
        self.total_label.setProperty("role", "big")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        totals = QGridLayout()
        totals.addWidget(self.items_label, 0, 0)
        totals.addWidget(self.gross_label, 1, 0)
        totals.addWidget(self.discount_label, 2, 0)
        totals.addWidget(self.total_label, 0, 1, 3, 1)
        totals.setColumnStretch(1, 1)
        totals_frame = QFrame(self)
        totals_frame.setFrameShape(QFrame.Shape.StyledPanel)
        totals_frame.setLayout(totals)

        left = QVBoxLayout()
        left.addWidget(self.shift_hint)
        left.addWidget(self.scan_field)
        left.addWidget(self.cart_view, 1)
        left.addWidget(self.empty_cart_label, 1)
        left.addWidget(self.sale_adjustments_label)
        left.addWidget(totals_frame)

        self.member_view = MemberPanelView(self.lang, self)
        self.member_view.sig_coupons_changed.connect(self._on_coupons_ticked)
        self.buttons: dict[str, QPushButton] = {}
        actions: list[tuple[str, str, Callable[[], None]]] = [
            ("member", self.tr("Find member (F5)"), self.find_member),
            ("hold", self.tr("Hold (F6)"), self.hold),
            ("recall", self.tr("Recall (F7)"), self.recall),
            ("void", self.tr("Void line (F8)"), self.void_selected_line),
            ("returns", self.tr("Returns (F9)"), self.open_returns),
            ("reprint", self.tr("Reprint (F10)"), self.reprint_last),
            ("clear_member", self.tr("Clear member (F11)"), self.clear_member),
            ("price", self.tr("Change price (Ctrl+P)"), self.change_selected_price),
            ("order_discount", self.tr("Order discount (Ctrl+T)"), self.ask_order_discount),
            ("rounding", self.tr("Round off (Ctrl+R)"), self.ask_rounding),
            ("cancel", self.tr("Cancel sale (Esc)"), self.ask_cancel_sale),
        ]
        grid = QGridLayout()
        for n, (key, text, slot) in enumerate(actions):
            button = QPushButton(text, self)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumHeight(52)
            button.clicked.connect(lambda _=False, s=slot: self._from_button(s))
            grid.addWidget(button, n // 2, n % 2)
            self.buttons[key] = button
        self.buttons["cancel"].setProperty("danger", True)
        self.buttons["void"].setProperty("danger", True)
        self.pay_button = QPushButton(self)
        self.pay_button.setProperty("primary", True)
        self.pay_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pay_button.setMinimumHeight(72)
        self.pay_button.setStyleSheet("font-size: 18pt;")
        self.pay_button.clicked.connect(lambda: self._from_button(self.open_payment))

        right = QVBoxLayout()
        right.addWidget(self.member_view, 1)
        right.addLayout(grid)
        right.addWidget(self.pay_button)

        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    def _make_shortcuts(self) -> None:
        keys: list[tuple[str, Callable[[], None]]] = [
            ("F5", self.find_member),
            ("F6", self.hold),
            ("F7", self.recall),
            ("F8", self.void_selected_line),
            ("F9", self.open_returns),
            ("F10", self.reprint_last),
            ("F11", self.clear_member),
            ("Ctrl+P", self.change_selected_price),
            ("Ctrl+T", self.ask_order_discount),
            ("Ctrl+R", self.ask_rounding),
        ]
        keys += [(f"Ctrl+{n}", lambda i=n - 1: self._toggle_coupon(i)) for n in range(1, 10)]
        for key, slot in keys:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def _back_from_dialog(self, _result: int = 0) -> None:
        """A dialog closed: the till's window and its scan field get the keys back (once the
        dialog is gone, so the focus is not handed back to it)."""
        QTimer.singleShot(0, self._refocus)

    def _follow(self, dialog: object) -> None:
        """Another screen's dialog: the scan field takes the keys back when it closes."""
        finished = getattr(dialog, "finished", None)
        if finished is not None:
            finished.connect(self._back_from_dialog)

    def _refocus(self) -> None:
        if not self.isVisible() or self._dialog_open():
            return
        self.window().activateWindow()
        self.scan_field.setFocus()

    def _toggle_coupon(self, index: int) -> None:
        self.member_view.toggle_coupon(index)

    def _from_button(self, slot: Callable[[], None]) -> None:
        slot()
        if not self._dialog_open():
            self.scan_field.setFocus()

    # -- the screen's life -------------------------------------------------------------------

    def activate(self) -> None:
        """Shown: the cursor goes to the scan field."""
        self._on_shift_changed(self.session.shift)
        self.scan_field.setFocus()

    def deactivate(self) -> None:
        """Hidden: nothing to stop; the cart stays as it is."""

    @Slot(object)
    def _on_shift_changed(self, shift: object) -> None:
        self.shift_hint.setVisible(shift is None)

    @Slot(object)
    def _on_signed_in(self, _actor: object) -> None:
        self._clear_sale()

    @Slot()
    def _on_signed_out(self) -> None:
        self._clear_sale()

    def can_sign_out(self) -> bool:
        """False (with a note) while a sale is open: it must be paid, held or cancelled."""
        if self.cart_is_empty():
            return True
        self._message(
            self.tr("Finish, hold (F6) or cancel (Esc) the open sale before signing out."),
            "warning",
        )
        return False

    def _dialog_open(self) -> bool:
        return any(
            d is not None and isValid(d) and d.isVisible()
            for d in (
                self.held_dialog,
                self.search_dialog,
                self.pick_dialog,
                self.confirm_box,
                self.tender_dialog,
                self.returns_dialog,
                self.entry_dialog,
            )
        )

    # -- the cart's state --------------------------------------------------------------------

    def cart_is_empty(self) -> bool:
        """No lines in the cart."""
        return not self._lines

    def current_request(self) -> SaleRequest:
        """The cart as the services take it: lines, the member's card (or number), coupons."""
        panel = self._panel
        return SaleRequest(
            lines=tuple(self._lines),
            card_no=panel.presented_card_no if panel else None,
            member_no=panel.member.member_no if panel and not panel.presented_card_no else None,
            coupon_codes=self._ticked + self._scanned_coupons,
            order_discount=self._order_discount,
            manual_rounding=self._manual_rounding,
        )

    def _clear_sale(self) -> None:
        self._lines = []
        self._ticked = ()
        self._scanned_coupons = ()
        self._panel = None
        self._selected_sku = None
        self._order_discount = None
        self._manual_rounding = None
        self._manual_approval = None
        self.member_view.clear()
        self.scan_field.clear()
        self._requote()

    # -- the scan field ----------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if watched is self.scan_field and self._scan_key(event):
                return True
            if watched is self.tender_dialog and self._key_after_sale(event):
                return True
        return super().eventFilter(watched, event)

    def _sale_done_showing(self) -> bool:
        """The tender dialog is still up on its "Sale complete" page (the change to hand)."""
        dialog = self.tender_dialog
        return (
            dialog is not None
            and isValid(dialog)
            and dialog.isVisible()
            and dialog.sale_result is not None
        )

    def _end_shown_sale(self) -> None:
        """The next customer is here: put the finished sale's page away."""
        if self._sale_done_showing():
            self.tender_dialog.accept()
            self.window().activateWindow()
            self.scan_field.setFocus()

    def _key_after_sale(self, event: QKeyEvent) -> bool:
        """Keys typed on the "Sale complete" page (a scanner typing as a keyboard, or the
        cashier) go into the scan field behind it instead of being lost there; Enter then
        puts the page away and scans them, so the next customer's first item starts the next
        sale. The page stays up while they come, so no key falls between two windows."""
        if not self._sale_done_showing():
            return False
        key, text = event.key(), event.text()
        typed = self.scan_field.text()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and typed:
            self._end_shown_sale()
            self._on_enter()
            return True
        if key == Qt.Key.Key_Backspace and typed:
            self.scan_field.backspace()
            return True
        if key == Qt.Key.Key_Escape and typed:
            self.scan_field.clear()
            return True
        shortcut = event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        )
        if len(text) != 1 or not text.isprintable() or shortcut:
            return False
        self.scan_field.insert(text)
        return True

    def _scan_key(self, event: QKeyEvent) -> bool:
        """The keys the scan field lends to the cart; True when one was used."""
        key = event.key()
        empty = not self.scan_field.text()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.cart_view.move_selection(-1 if key == Qt.Key.Key_Up else 1)
            self._remember_selection()
            return True
        if key == Qt.Key.Key_Escape:
            if not empty:
                self.scan_field.clear()
                self.scan_field.setPlaceholderText(self._scan_placeholder)
            else:
                self.ask_cancel_sale()
            return True
        if not empty:
            return False
        if event.text() in ("+", "-") and self.cart_view.selected_row() is None:
            return False  # nothing to change: the sign starts typed text ("-3*V001", refused)
        if event.text() == "+":
            self.change_selected_qty(1)
            return True
        if event.text() == "-":
            # "-" alone takes one off the selected line, but it may also begin "-3*V001" (a
            # return typed as a sale, which must be refused, not become "one off, three on"):
            # it shows in the field and acts once nothing follows it, or on Enter.
            self._minus_timer.start()
            return False
        if key == Qt.Key.Key_Delete:
            self.void_selected_line()
            return True
        return False

    def _on_enter(self) -> None:
        text = self.scan_field.text().strip()
        self.scan_field.clear()
        self.scan_field.setPlaceholderText(self._scan_placeholder)
        if not text:
            self.open_payment()
            return
        if text == "-" and self._minus_timer.isActive():
            self._minus_timer.stop()
            self.change_selected_qty(-1)
            return
        self._scan(text, typed=True)

    def _minus_settled(self) -> None:
        """Nothing followed the "-": it was the key that takes one off the selected line."""
        if self.scan_field.text() == "-":
            self.scan_field.clear()
            self.change_selected_qty(-1)

    def add_code(self, code: str, qty: int = 1) -> None:
        """Add a product by SKU or barcode, as if it had been scanned."""
        self._scan(code if qty == 1 else f"{qty}*{code}", typed=False)

    def _scan(self, text: str, *, typed: bool) -> None:
        actor = self.session.actor
        if actor is None:
            return
        self._end_shown_sale()
        ctx, cart = self.session.ctx, self.current_request()
        (
            ServiceOp(self, lambda: resolve_scan(ctx, actor, text, cart, typed=typed))
            .success(self._on_scanned)
            .failure(self._on_scan_failed)
            .run()
        )

    def _on_scanned(self, result: ScanResult) -> None:
        self._clear_alert()
        if result.kind == "product" and result.product is not None:
            if result.line is None:
                self._weigh(result.product)
            else:
                self._add_line(result.product, result.line)
        elif result.kind == "member" and result.panel is not None:
            self._show_member(result.panel)
        elif result.kind == "members":
            self._pick_member(result.text, list(result.hits))
        elif result.kind == "no_member":
            self._message(fill(self.tr("No member's mobile ends in %1."), result.text), "warning")
        elif result.kind == "coupon":
            self._scanned_coupons = (*self._scanned_coupons, result.code)
            self._message(fill(self.tr("Coupon %1 added."), result.code))
            self._requote()
        elif result.kind == "search":
            self.open_product_search(result.text, list(result.products))

    def _on_scan_failed(self, exc: BaseException) -> None:
        self._show_error(exc)
        self.scan_field.setFocus()

    def _add_line(self, product: ProductView, line: LineRequest) -> None:
        name = product.name_en if self.lang == "en" and product.name_en else product.name
        self._names[product.sku] = name
        lines = list(self._lines)
        at = next((i for i, old in enumerate(lines) if old.code == product.sku), None)
        try:
            if at is None:
                lines.append(line)
            else:
                lines[at] = lines[at].merged(line)
        except DomainError as exc:  # the quantity would pass the services' limit
            self._show_error(exc)
            return
        self._lines = lines
        self._selected_sku = product.sku
        self._requote()

    # -- pricing -----------------------------------------------------------------------------

    def _requote(self) -> None:
        """Price the cart as it is now; only the newest answer is shown."""
        self._quote_seq += 1
        seq = self._quote_seq
        request = self.current_request()
        actor = self.session.actor
        if not request.lines or actor is None:
            self._set_quote(None, None)
            return
        ctx = self.session.ctx
        (
            ServiceOp(self, lambda: quote(ctx, actor, request))
            .success(lambda q: self._on_quote(seq, request, q))
            .failure(lambda exc: self._on_quote_failed(seq, exc))
            .run()
        )

    def _on_quote(self, seq: int, request: SaleRequest, result: Quote) -> None:
        if seq != self._quote_seq:
            return  # a newer change is being priced
        self._set_quote(result, request)

    def _on_quote_failed(self, seq: int, exc: BaseException) -> None:
        if seq != self._quote_seq:
            return
        self.current_quote = None
        self._quoted_request = None
        self.quote_error = exc
        self.cart_view.cart_model.show_pending(
            [
                PendingLine(line.code, self._names.get(line.code, line.code), line.qty)
                for line in self._lines
            ]
        )
        self._restore_selection()
        self._show_totals()
        self._show_error(exc)
        self.sig_quote_changed.emit(None)

    def _set_quote(self, result: Quote | None, request: SaleRequest | None) -> None:
        if self.quote_error is not None:
            self._clear_alert()  # the refusal shown for the cart no longer holds
        self.current_quote = result
        self._quoted_request = request
        self.quote_error = None
        if result is None:
            self.cart_view.cart_model.clear()
        else:
            self.cart_view.cart_model.show_quote(result, self._names)
        self._restore_selection()
        self._show_totals()
        self._show_on_display(result.total_fen if result else None)
        self.sig_quote_changed.emit(result)

    def _show_totals(self) -> None:
        q = self.current_quote
        empty = not self._lines
        self.cart_view.setVisible(not empty)
        self.empty_cart_label.setVisible(empty)
        items = sum(line.qty for line in self._lines)
        self.items_label.setText(fill(self.tr("%1 lines, %2 items"), len(self._lines), items))
        if q is None:
            dash = "—" if self._lines else format_fen(0)
            self.gross_label.setText(fill(self.tr("Gross %1"), dash))
            self.discount_label.setText("")
            self.total_label.setText(dash)
            self.sale_adjustments_label.setText("")
            self.sale_adjustments_label.hide()
            self.pay_button.setText(self.tr("Pay (Enter)"))
            self.pay_button.setEnabled(False)
            return
        self.gross_label.setText(fill(self.tr("Gross %1"), format_fen(q.gross_fen)))
        off = q.discount_fen + q.rounding_fen
        self.discount_label.setText(
            fill(self.tr("Discounts %1"), format_fen(-off)) if off else self.tr("No discounts")
        )
        self.total_label.setText(format_fen(q.total_fen))
        self.sale_adjustments_label.setText(
            "\n".join(
                f"{adjustment_text(a, self.lang)}  {format_fen(-a.amount_fen)}"
                for a in q.sale_adjustments
            )
        )
        self.sale_adjustments_label.setVisible(bool(q.sale_adjustments))
        self.pay_button.setText(fill(self.tr("Pay %1 (Enter)"), format_fen(q.total_fen)))
        self.pay_button.setEnabled(True)

    def _show_on_display(self, total_fen: int | None) -> None:
        """The total on the customer's pole display, when it changed; a display that fails
        never bothers the cashier (it is logged)."""
        if total_fen == self._displayed_total:
            return
        self._displayed_total = total_fen
        hub = self.session.devices
        line2 = format_fen(total_fen) if total_fen is not None else ""
        line1 = "TOTAL" if total_fen is not None else ""
        (
            ServiceOp(self, lambda: hub.show_on_display(line1, line2), kind="io")
            .failure(lambda exc: log.warning("pole display failed: %s", exc))
            .run()
        )

    # -- the selected line -------------------------------------------------------------------

    def _on_row_clicked(self) -> None:
        self._remember_selection()
        self.scan_field.setFocus()

    def _remember_selection(self) -> None:
        row = self.cart_view.selected_row()
        if row is not None and row.sku is not None:
            self._selected_sku = row.sku

    def _restore_selection(self) -> None:
        if not self.cart_view.select_sku(self._selected_sku):
            self.cart_view.select_last_line()
            self._remember_selection()

    def _selected_line(self) -> tuple[str, int] | None:
        """(sku, net amount) of the selected line, or None with a note why not."""
        row = self.cart_view.selected_row()
        if row is None:
            self._message(self.tr("Select a line first (Up/Down)."), "warning")
            return None
        if row.sku is None:
            self._message(self.tr("A free gift follows its promotion: it cannot be changed."))
            return None
        q = self.current_quote
        line = next((x for x in q.lines if x.sku == row.sku and not x.is_gift), None) if q else None
        if line is None:
            self._message(self.tr("The cart is being priced: try again in a moment."), "warning")
            return None
        return row.sku, line.gross_fen - sum(a.amount_fen for a in line.adjustments)

    def change_selected_qty(self, step: int) -> None:
        """+ adds one of the selected line; - takes one off (audited as a void of one)."""
        selected = self._selected_line()
        if selected is None:
            return
        sku, amount = selected
        at = next(i for i, line in enumerate(self._lines) if line.code == sku)
        if self._lines[at].weight_milli is not None:
            self._message(self.tr("A weighed line: void it (F8) and weigh again."), "warning")
            return
        qty = self._lines[at].qty
        if step > 0:
            self._set_qty(sku, qty + 1)
            return
        if qty <= 1:
            self._message(self.tr("One left: void the line with F8 or Delete."))
            return
        self._void(amount // qty, lambda: self._set_qty(sku, qty - 1))

    def _set_qty(self, sku: str, qty: int) -> None:
        try:
            changed = LineRequest(sku, qty)
        except DomainError as exc:
            self._show_error(exc)
            return
        self._lines = [changed if line.code == sku else line for line in self._lines]
        self._selected_sku = sku
        self._requote()

    # -- goods sold by weight ----------------------------------------------------------------

    def _weigh(self, product: ProductView) -> None:
        """A product sold by weight with no weight typed: the scale's settled weight, read off
        the GUI thread; no scale, or no settled weight, lets the cashier type it."""
        hub = self.session.devices
        if not hub.has_scale:
            self._ask_weight(product, self.tr("No scale at this till: type the weight."))
            return

        def weighed(grams: int) -> None:
            weight = milli_from_grams(grams, product.unit)
            self._add_line(product, LineRequest(product.sku, weight_milli=weight))

        (
            ServiceOp(self, lambda: hub.read_weight().grams, kind="io")
            .success(weighed)
            .failure(lambda exc: self._ask_weight(product, describe_error(exc, self.lang)))
            .run()
        )

    def _ask_weight(self, product: ProductView, reason: str) -> None:
        name = product.name_en if self.lang == "en" and product.name_en else product.name
        dialog = WeightDialog(self.lang, name, product.unit, reason, self)
        dialog.sig_entered.connect(
            lambda milli: self._add_line(product, LineRequest(product.sku, weight_milli=milli))
        )
        self._open_entry(dialog)

    def _open_entry(self, dialog: EntryDialog) -> None:
        dialog.finished.connect(self._back_from_dialog)
        self.entry_dialog = dialog
        dialog.open()

    # -- manual changes: 改价, 整单折扣, 抹零 ------------------------------------------------

    def change_selected_price(self) -> None:
        """Ctrl+P (改价): a new unit price for the selected line."""
        row = self.cart_view.selected_row()
        q = self.current_quote
        if row is None or row.sku is None or q is None:
            self._message(self.tr("Select a line first (Up/Down)."), "warning")
            return
        line = next(x for x in q.lines if x.sku == row.sku and not x.is_gift)
        at = next(i for i, x in enumerate(self._lines) if x.code == row.sku)
        dialog = PriceChangeDialog(
            self.lang,
            self._names.get(row.sku, line.name),
            line.unit_price_fen,
            line.unit or self.tr("piece"),
            self._lines[at].price_fen,
            self,
        )
        sku = row.sku

        def changed(price_fen: int) -> None:
            lines = [replace(x, price_fen=price_fen) if x.code == sku else x for x in self._lines]
            self._apply_manual(replace(self.current_request(), lines=tuple(lines)))

        dialog.sig_entered.connect(changed)
        self._open_entry(dialog)

    def ask_order_discount(self) -> None:
        """Ctrl+T (整单折扣): a percentage or an amount off the whole sale."""
        if self.cart_is_empty():
            self._message(self.tr("The cart is empty: scan an item first."), "warning")
            return
        dialog = OrderDiscountDialog(self.lang, parent=self)
        dialog.sig_entered.connect(
            lambda d: self._apply_manual(replace(self.current_request(), order_discount=d))
        )
        self._open_entry(dialog)

    def ask_rounding(self) -> None:
        """Ctrl+R (抹零): round the total down by hand."""
        if self.cart_is_empty():
            self._message(self.tr("The cart is empty: scan an item first."), "warning")
            return
        dialog = RoundingDialog(self.lang, self)
        dialog.sig_entered.connect(
            lambda r: self._apply_manual(replace(self.current_request(), manual_rounding=r))
        )
        self._open_entry(dialog)

    def _apply_manual(self, request: SaleRequest) -> None:
        """Price the cart with the change; beyond the cashier's limits a manager approves
        first. Only then does the change go on the cart."""
        ctx, actor = self.session.ctx, self.session.require_actor()

        def work(approval: Approval | None) -> tuple[Quote, Approval | None]:
            return approve_manual_changes(ctx, actor, request, approval), approval

        def applied(result: tuple[Quote, Approval | None]) -> None:
            _quote, approval = result
            if approval is not None:
                self._manual_approval = approval
            self._lines = list(request.lines)
            self._order_discount = request.order_discount
            self._manual_rounding = request.manual_rounding
            self._message(self.tr("Change applied."))
            self._requote()

        run_with_approval(
            self,
            self.session,
            Permission.SALE_OVER_LIMIT,
            work,
            applied,
            busy_text=self.tr("Checking…"),
            on_failure=self._show_error,
        )

    def void_selected_line(self) -> None:
        """F8 / Delete: take the selected line off; above the cashier's limit a manager
        approves. The services audit every void."""
        selected = self._selected_line()
        if selected is None:
            return
        sku, amount = selected
        self._void(amount, lambda: self._remove_line(sku))

    def _void(self, amount_fen: int, done: Callable[[], None]) -> None:
        ctx, actor = self.session.ctx, self.session.require_actor()

        def work(approval: Approval | None) -> None:
            check_void(ctx, actor, amount_fen, approval)

        run_with_approval(
            self,
            self.session,
            Permission.SALE_OVER_LIMIT,
            work,
            lambda _none: done(),
            busy_text=self.tr("Voiding…"),
        )

    def _remove_line(self, sku: str) -> None:
        lines = [line for line in self._lines if line.code != sku]
        if len(lines) == len(self._lines):
            return
        index = next(i for i, line in enumerate(self._lines) if line.code == sku)
        self._lines = lines
        neighbour = lines[min(index, len(lines) - 1)].code if lines else None
        self._selected_sku = neighbour
        self._message(self.tr("Line voided."))
        self._requote()
        self.scan_field.setFocus()

    # -- the member --------------------------------------------------------------------------

    @Slot(object)
    def _on_card(self, event: CardPresented) -> None:
        if not self.session.devices.cards_are_for(self) or self.session.actor is None:
            return
        if event.kind in SCANNED_KINDS:
            self._scan(event.number, typed=False)
        else:
            self.show_member_by_card(event.number)

    @Slot(object)
    def _on_card_failed(self, event: CardReadFailed) -> None:
        if self.session.devices.cards_are_for(self):
            self._message(event.reason(self.lang), "warning")

    def show_member_by_card(self, card_no: str) -> None:
        """Fill the member panel for a card number (swiped, tapped or scanned)."""
        self._load_member(lambda ctx, actor: member_panel(ctx, actor, card_no=card_no))

    def _load_member(
        self,
        fetch: Callable[[StoreContext, Actor], MemberPanel],
        coupons: tuple[str, ...] = (),
    ) -> None:
        actor = self.session.actor
        if actor is None:
            return
        ctx = self.session.ctx
        (
            ServiceOp(self, lambda: fetch(ctx, actor), busy_text=self.tr("Finding the member…"))
            .success(lambda panel: self._show_member(panel, coupons))
            .failure(self._on_scan_failed)
            .run()
        )

    def _show_member(self, panel: MemberPanel, coupons: tuple[str, ...] = ()) -> None:
        wallet = {c.code for c in panel.coupons}
        self._panel = panel
        self._ticked = tuple(c for c in coupons if c in wallet)
        self._scanned_coupons = tuple(c for c in coupons if c not in wallet)
        self.member_view.show_panel(panel, self._ticked)
        self.sig_member_loaded.emit(panel)
        self._requote()
        self.scan_field.setFocus()

    def clear_member(self) -> None:
        """F11: take the member (and their coupons) off the sale."""
        if self._panel is None:
            return
        self._panel = None
        self._ticked = ()
        self._scanned_coupons = ()
        self.member_view.clear()
        self._requote()

    def find_member(self) -> None:
        """F5: the scan field takes a mobile number (or its last 4 digits)."""
        self.scan_field.clear()
        self.scan_field.setPlaceholderText(
            self.tr("Type the member's mobile or its last 4 digits, then Enter")
        )
        self.scan_field.setFocus()

    def _pick_member(self, digits: str, hits: list[MemberHit]) -> None:
        dialog = MemberPickDialog(digits, hits, self)
        dialog.sig_picked.connect(self._member_picked)
        dialog.finished.connect(self._back_from_dialog)
        self.pick_dialog = dialog
        dialog.open()

    def _member_picked(self, member_no: str) -> None:
        self._load_member(lambda ctx, actor: member_panel(ctx, actor, member_no=member_no))

    def _on_coupons_ticked(self, codes: tuple[str, ...]) -> None:
        """A coupon was ticked or unticked: a new one is kept only if checkout accepts the
        cart with it (its threshold, its products); taking one off is always possible."""
        actor = self.session.actor
        if actor is None:
            return
        if set(codes) <= set(self._ticked):
            self._coupons_accepted(codes)
            return
        ctx = self.session.ctx
        request = replace(self.current_request(), coupon_codes=codes + self._scanned_coupons)
        (
            ServiceOp(self, lambda: quote(ctx, actor, request))
            .success(lambda _q: self._coupons_accepted(codes))
            .failure(self._coupons_refused)
            .run()
        )

    def _coupons_accepted(self, codes: tuple[str, ...]) -> None:
        self._ticked = codes
        self._requote()

    def _coupons_refused(self, exc: BaseException) -> None:
        self.member_view.set_ticked(self._ticked)
        self._show_error(exc)

    # -- hold, recall, cancel ----------------------------------------------------------------

    def hold(self) -> None:
        """F6 (挂单): put the cart aside to serve the next customer."""
        if self.cart_is_empty():
            self._message(self.tr("The cart is empty: there is nothing to hold."), "warning")
            return
        ctx, actor, request = self.session.ctx, self.session.require_actor(), self.current_request()
        (
            ServiceOp(self, lambda: hold_sale(ctx, actor, request), busy_text=self.tr("Holding…"))
            .success(self._held)
            .failure(self._on_scan_failed)
            .run()
        )

    def _held(self, view: HeldView) -> None:
        self._clear_sale()
        self._message(fill(self.tr("Sale held as %1. F7 recalls it."), view.label))

    def recall(self) -> None:
        """F7 (取单): the held carts; Enter takes one back."""
        if not self.cart_is_empty():
            self._message(
                self.tr("Hold (F6) or finish the open sale before recalling another."), "warning"
            )
            return
        if self.session.actor is None:
            return
        dialog = HeldSalesDialog(self.session, self)
        dialog.sig_recalled.connect(self._load_request)
        dialog.finished.connect(self._back_from_dialog)
        self.held_dialog = dialog
        dialog.open()

    def _load_request(self, request: SaleRequest) -> None:
        """A recalled cart: its lines, its member and its coupons come back."""
        self._lines = list(request.lines)
        self._order_discount = request.order_discount
        self._manual_rounding = request.manual_rounding
        self._selected_sku = None
        self._panel = None
        self._ticked = ()
        self._scanned_coupons = tuple(request.coupon_codes)
        self.member_view.clear()
        coupons = tuple(request.coupon_codes)
        if request.card_no:
            card_no = request.card_no
            self._load_member(lambda c, a: member_panel(c, a, card_no=card_no), coupons)
        elif request.member_no:
            member_no = request.member_no
            self._load_member(lambda c, a: member_panel(c, a, member_no=member_no), coupons)
        else:
            self._requote()

    def ask_cancel_sale(self) -> None:
        """Esc on an empty field: cancel the whole sale, after a confirmation."""
        if self.cart_is_empty():
            self.clear_member()
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("Cancel sale"))
        box.setText(fill(self.tr("Cancel this sale? Its %1 lines are removed."), len(self._lines)))
        yes = box.addButton(self.tr("Cancel the sale"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(self.tr("Keep selling"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(yes)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: self._cancel_sale() if button is yes else None)
        box.finished.connect(self._back_from_dialog)
        self.confirm_box = box
        box.open()

    def _cancel_sale(self) -> None:
        ctx, actor, request = self.session.ctx, self.session.require_actor(), self.current_request()
        (
            ServiceOp(self, lambda: cancel_sale(ctx, actor, request))
            .success(lambda _none: self._cancelled())
            .failure(self._on_scan_failed)
            .run()
        )

    def _cancelled(self) -> None:
        self._clear_sale()
        self._message(self.tr("Sale cancelled."))

    # -- payment and the other screens' dialogs ----------------------------------------------

    def open_payment(self) -> None:
        """Enter on an empty field / Pay: the tender dialog for the priced cart."""
        if self.cart_is_empty():
            self._message(self.tr("The cart is empty: scan an item first."), "warning")
            return
        request = self.current_request()
        q = self.current_quote
        if q is None or self._quoted_request != request:
            if self.quote_error is not None:
                self._show_error(self.quote_error)
            else:
                self._message(
                    self.tr("The cart is being priced: try again in a moment."), "warning"
                )
            return
        try:
            from pos_app.ui.tender_dialog import open_tender_dialog
        except ImportError:
            self._message(self.tr("Payment is not available in this version."), "warning")
            return
        self.tender_dialog = open_tender_dialog(
            self,
            self.session,
            request,
            q,
            self._panel,
            on_sold=self._on_sold,
            approval=self._manual_approval,
        )
        self._follow(self.tender_dialog)
        self.tender_dialog.installEventFilter(self)

    def _on_sold(self, result: SaleResult) -> None:
        """The sale is recorded: a fresh cart for the next customer."""
        self._clear_sale()
        self.sig_sale_completed.emit(result)
        self.scan_field.setFocus()

    def open_returns(self) -> None:
        """F9: returns and exchanges with the original receipt."""
        try:
            from pos_app.ui.returns_dialog import open_returns_dialog
        except ImportError:
            self._message(self.tr("Returns are not available in this version."), "warning")
            return
        self.returns_dialog = open_returns_dialog(self, self.session)
        self._follow(self.returns_dialog)

    def reprint_last(self) -> None:
        """F10 (补打): the last receipt again."""
        try:
            from pos_app.ui.receipt_output import reprint_last
        except ImportError:
            self._message(self.tr("Reprinting is not available in this version."), "warning")
            return
        self._follow(reprint_last(self, self.session))

    def open_product_search(self, text: str = "", results: list[ProductView] | None = None) -> None:
        """The product search, started with `text` (and its results, when known)."""
        dialog = ProductSearchDialog(self.session, text, results, self)
        dialog.sig_picked.connect(self.add_code)
        dialog.finished.connect(self._back_from_dialog)
        self.search_dialog = dialog
        dialog.open()

    # -- messages ----------------------------------------------------------------------------

    def _message(self, text: str, level: str = "info") -> None:
        window = self.window()
        if hasattr(window, "show_message"):
            window.show_message(text, level)

    def _show_error(self, exc: BaseException) -> None:
        window = self.window()
        if hasattr(window, "show_error"):
            window.show_error(exc)
        else:
            log.warning("checkout: %s", exc)

    def _clear_alert(self) -> None:
        window = self.window()
        if hasattr(window, "clear_alert"):
            window.clear_alert()
