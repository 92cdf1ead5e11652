"""The demo's simulator panel: it lists the store's cards and products, taps and scans them
through the simulated reader, and shows the picture of the last printed receipt."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit

from hardware.events import CardPresented
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services.checkout import sell
from pos_app.services.shifts import open_shift
from pos_app.ui.sim_panel import SimPanel, demo_employee_cards
from tests.ui.conftest import LOST_CARD, MEMBER_CARD, Till


def _panel(till: Till) -> SimPanel:
    panel = till.window.sim_panel
    assert isinstance(panel, SimPanel)
    return panel


def _listed(till: Till) -> SimPanel:
    """Signed in as the cashier, with the panel's cards and products loaded."""
    till.sign_in_as("cashier")
    panel = _panel(till)
    till.qtbot.waitUntil(lambda: len(panel.cards) > 0 and len(panel.products) > 0)
    till.qtbot.waitUntil(lambda: till.session.devices.sim_card_source() is not None)
    return panel


def test_only_the_demo_has_the_panel(make_till) -> None:
    assert not hasattr(make_till().window, "sim_panel")


def test_lists_the_stores_cards_with_balance_pin_and_state(make_till) -> None:
    till = make_till(demo=True, language="en")
    panel = _panel(till)
    assert "Sign in" in panel.cards_note.text() and not panel.cards
    panel = _listed(till)
    assert [c.card_no for c in panel.cards] == [MEMBER_CARD, LOST_CARD]
    zhang, li = panel.cards
    assert (zhang.holder, zhang.stored_value_fen, zhang.pin_set) == ("张三", 55_000, True)
    assert (li.holder, li.state) == ("李四", "lost")
    rows = [b.parentWidget() for b in panel.card_buttons]
    texts = [r.findChildren(type(panel.cards_note))[0].text() for r in rows]
    assert "88****01" in texts[0] and "¥550.00" in texts[0] and "PIN" in texts[0]
    assert MEMBER_CARD not in texts[0]  # masked on screen
    assert "reported lost" in texts[1]
    assert panel.card_buttons[0].text() == "Tap 1"
    assert [b.text() for b in panel.product_buttons][:2] == [
        "Nongfu Spring water 550ml  ¥2.00",  # one product with a barcode per category
        "Fuji apples  ¥12.80",
    ]


def test_tap_button_presents_the_card_on_the_simulated_reader(make_till) -> None:
    till = make_till(demo=True)
    panel = _listed(till)
    assert panel.card_buttons[0].focusPolicy() == Qt.FocusPolicy.NoFocus
    hub = till.session.devices
    with till.qtbot.waitSignal(hub.sig_card, timeout=3000) as blocker:
        till.qtbot.mouseClick(panel.card_buttons[1], Qt.MouseButton.LeftButton)
    event = blocker.args[0]
    assert isinstance(event, CardPresented)
    assert (event.number, event.kind) == (LOST_CARD, "ic")


def test_ctrl_shift_digit_taps_a_card_from_anywhere_in_the_window(make_till) -> None:
    till = make_till(demo=True)
    _listed(till)
    hub = till.session.devices
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    with till.qtbot.waitSignal(hub.sig_card, timeout=3000) as blocker:
        till.qtbot.keyClick(
            till.window.checkout_screen,
            Qt.Key.Key_1,
            ctrl_shift,
        )
    assert blocker.args[0].number == MEMBER_CARD

    # Also over a window-modal dialog (an approval waiting for a card), where the panel's
    # buttons cannot be clicked.
    dialog = QDialog(till.window.checkout_screen)
    dialog.open()
    till.qtbot.waitUntil(dialog.isVisible)
    with till.qtbot.waitSignal(hub.sig_card, timeout=3000) as blocker:
        till.qtbot.keyClick(dialog, Qt.Key.Key_At, ctrl_shift)  # Shift+2 on a US keyboard
    assert blocker.args[0].number == LOST_CARD
    dialog.reject()


def test_scan_buttons_and_the_code_field_send_barcodes(make_till) -> None:
    till = make_till(demo=True)
    panel = _listed(till)
    hub = till.session.devices
    with till.qtbot.waitSignal(hub.sig_card, timeout=3000) as blocker:
        till.qtbot.mouseClick(panel.product_buttons[0], Qt.MouseButton.LeftButton)
    assert (blocker.args[0].number, blocker.args[0].kind) == ("6921168509256", "barcode")

    # Typed in the panel: Enter scans it, and the focus goes back where it was.
    other = QLineEdit(till.window.checkout_screen)
    other.show()
    other.setFocus()
    till.qtbot.waitUntil(other.hasFocus)
    panel.code_field.setFocus()
    till.qtbot.waitUntil(panel.code_field.hasFocus)
    till.qtbot.keyClicks(panel.code_field, "V001")
    with till.qtbot.waitSignal(hub.sig_card, timeout=3000) as blocker:
        till.qtbot.keyClick(panel.code_field, Qt.Key.Key_Return)
    assert (blocker.args[0].number, blocker.args[0].kind) == ("V001", "barcode")
    assert panel.code_field.text() == ""
    till.qtbot.waitUntil(other.hasFocus)


def test_shows_the_picture_of_the_last_printed_receipt(make_till) -> None:
    till = make_till(demo=True)
    panel = _panel(till)
    viewer = panel.receipt_viewer
    assert viewer.pixmap().isNull() and not viewer.full_button.isEnabled()
    store = till.store
    open_shift(store.ctx, store.cashier, 0)
    result = sell(
        store.ctx,
        store.cashier,
        SaleRequest(
            lines=(LineRequest("V001"), LineRequest("6921168509256", 2)),
            tenders=(TenderRequest("cash", 2000),),
        ),
    )
    till.printer_sink()  # the printer is open
    hub = till.session.devices
    with till.qtbot.waitSignal(viewer.sig_shown, timeout=5000) as shown:
        hub.print_receipt(result.receipt)
    assert shown.args[0].endswith(".png")
    full = viewer.pixmap()
    assert not full.isNull() and full.width() == 576  # 80 mm paper: 576 dots
    shown_width = viewer.image_label.pixmap().width()
    assert 0 < shown_width <= viewer.scroll_area.viewport().width()
    assert viewer.full_button.isEnabled()
    viewer.open_full_size()
    assert viewer._full_dialog is not None and viewer._full_dialog.isVisible()
    assert viewer._full_label is not None and viewer._full_label.pixmap().width() == 576
    viewer._full_dialog.close()

    # Two receipts in a row: the panel ends on the second, also when its file comes late.
    first = viewer.shown_path
    pictures = till.session.devices.sim_printer_dir()
    hub.print_receipt(result.receipt)
    hub.print_receipt(result.receipt)
    till.qtbot.waitUntil(lambda: len(list(pictures.glob("*.png"))) == 3, timeout=5000)
    newest = max(pictures.glob("*.png"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    till.qtbot.waitUntil(lambda: viewer.shown_path == newest, timeout=5000)
    assert newest != first


def test_the_demo_store_offers_its_employee_cards_and_no_other_store_does() -> None:
    cards = demo_employee_cards("DEMO01")
    assert [(c.holder, c.state) for c in cards][:1] == [("李店长", "employee")]  # approves
    assert all(c.card_no and c.stored_value_fen is None for c in cards)
    assert demo_employee_cards("SH01") == []
