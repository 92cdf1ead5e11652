"""The Qt keyboard-wedge filter with real widgets: scans are swallowed, people's keys land."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before pytest-qt creates the QApplication

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QEvent, Qt  # noqa: E402
from PySide6.QtGui import QKeyEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget  # noqa: E402

from hardware.cards.wedge import WedgeCardSource  # noqa: E402
from hardware.events import CardPresented, CardReadFailed  # noqa: E402
from hardware.uri import parse_device_uri  # noqa: E402
from pos_app.ui.wedge_filter import WedgeKeyFilter, disable_input_method, key_text  # noqa: E402

SCANNER_MS = 4
PERSON_MS = 150
SHIFTED = set('%^?:+"~!@#$&*()_{}|<>ABCDEFGHIJKLMNOPQRSTUVWXYZ')


def qt_key(ch: str) -> int:
    if ch == "\r":
        return Qt.Key.Key_Return
    if ch == "\t":
        return Qt.Key.Key_Tab
    return ord(ch.upper()) if ch.isascii() else Qt.Key.Key_unknown


class Keys:
    """Key presses sent through the application, stamped with the times we choose."""

    def __init__(self, target: QWidget) -> None:
        self.target = target
        self.ms = 50_000_000

    def send(self, key: int, text: str, gap_ms: int, modifiers=Qt.KeyboardModifier.NoModifier):
        self.ms += gap_ms
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, modifiers, text)
            event.setTimestamp(self.ms)
            QApplication.sendEvent(self.target, event)

    def type(self, text: str, gap_ms: int, shift: bool = False) -> None:
        """Type `text`; with `shift`, press Shift before shifted characters as a scanner does."""
        for ch in text:
            mods = Qt.KeyboardModifier.NoModifier
            if shift and ch in SHIFTED:
                self.send(Qt.Key.Key_Shift, "", 1, Qt.KeyboardModifier.ShiftModifier)
                mods = Qt.KeyboardModifier.ShiftModifier
            self.send(qt_key(ch), ch, gap_ms, mods)


@pytest.fixture
def field(qtbot) -> Iterator[QLineEdit]:
    window = QWidget()  # the field's parent, to which keys it ignores propagate
    edit = QLineEdit(window)
    QVBoxLayout(window).addWidget(edit)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    yield edit
    window.close()


@pytest.fixture
def wedge(qapp) -> Iterator[WedgeKeyFilter]:
    source = WedgeCardSource(parse_device_uri("wedge:?gap_ms=20&silence_ms=80&min_len=3"))
    key_filter = WedgeKeyFilter(source)
    key_filter.install(qapp)
    yield key_filter
    key_filter.uninstall()


def cards(key_filter: WedgeKeyFilter) -> list[object]:
    got: list[object] = []
    key_filter.sig_card.connect(got.append)
    key_filter.sig_card_failed.connect(got.append)
    return got


def test_fast_keys_become_one_card_and_the_field_stays_empty(qtbot, field, wedge):
    got = cards(wedge)
    with qtbot.waitSignal(wedge.sig_card, timeout=2000) as blocker:
        Keys(field).type("6901234567892\r", SCANNER_MS)
    card = blocker.args[0]
    assert isinstance(card, CardPresented)
    assert (card.kind, card.number) == ("barcode", "6901234567892")
    assert card.reader == "wedge:?gap_ms=20&silence_ms=80&min_len=3"
    qtbot.wait(150)  # past the silence: nothing else may arrive
    assert field.text() == ""
    assert got == [card]


def test_a_scan_without_enter_ends_on_the_silence_timer(qtbot, field, wedge):
    with qtbot.waitSignal(wedge.sig_card, timeout=2000) as blocker:
        Keys(field).type("VIP-0001", SCANNER_MS)
    assert blocker.args[0].number == "VIP-0001"
    assert field.text() == ""


def test_slow_human_typing_lands_in_the_field_intact(qtbot, field, wedge):
    got = cards(wedge)
    Keys(field).type("hello 123", PERSON_MS)
    qtbot.waitUntil(lambda: field.text() == "hello 123", timeout=2000)
    qtbot.wait(150)
    assert field.text() == "hello 123" and got == []


def test_a_person_then_a_scanner(qtbot, field, wedge):
    keys = Keys(field)
    keys.type("ab", PERSON_MS)
    with qtbot.waitSignal(wedge.sig_card, timeout=2000) as blocker:
        keys.send(qt_key("1"), "1", PERSON_MS)  # the scanner starts well after the person
        keys.type("2345678\r", SCANNER_MS)
    assert blocker.args[0].number == "12345678"
    assert field.text() == "ab"


def test_the_person_s_enter_still_reaches_the_field(qtbot, field, wedge):
    pressed: list[str] = []
    field.returnPressed.connect(lambda: pressed.append(field.text()))
    Keys(field).type("42\r", PERSON_MS)
    qtbot.waitUntil(lambda: pressed == ["42"], timeout=2000)


def test_a_swipe_with_shift_presses_is_a_magstripe_card(qtbot, field, wedge):
    swipe = "%B6222020200112233445^LI/SI^2612101?;6222020200112233445=2612101?\r"
    with qtbot.waitSignal(wedge.sig_card, timeout=2000) as blocker:
        Keys(field).type(swipe, SCANNER_MS, shift=True)
    card = blocker.args[0]
    assert (card.kind, card.number) == ("magstripe", "6222020200112233445")
    assert field.text() == ""


def test_a_failed_swipe_is_reported_and_not_typed(qtbot, field, wedge):
    with qtbot.waitSignal(wedge.sig_card_failed, timeout=2000) as blocker:
        Keys(field).type("%E?;E?\r", SCANNER_MS, shift=True)
    assert isinstance(blocker.args[0], CardReadFailed)
    assert field.text() == ""


def test_after_uninstall_keys_go_straight_to_the_field(qtbot, field, wedge):
    wedge.uninstall()
    Keys(field).type("12345678", SCANNER_MS)
    assert field.text() == "12345678"  # at once: nothing held


def test_uninstall_delivers_keys_still_held(qtbot, field, wedge):
    Keys(field).type("123", SCANNER_MS)
    assert field.text() == ""
    wedge.uninstall()
    assert field.text() == "123"


def test_each_key_press_is_fed_once_though_it_propagates_and_is_replayed(
    qtbot, field, wedge, monkeypatch
):
    # A QLineEdit ignores Enter, so Qt hands it on to the window: the filter sees it twice
    # and must feed it once. Replayed (held-back) keys must not be fed again either.
    fed: list[str] = []
    feed_key = wedge.source.feed_key

    def counting(text, at, token=None):
        fed.append(text)
        return feed_key(text, at, token)

    monkeypatch.setattr(wedge.source, "feed_key", counting)
    window_keys: list[int] = []
    window = field.window()
    window.keyPressEvent = lambda event: window_keys.append(event.key())
    Keys(field).type("xy\r", PERSON_MS)
    qtbot.waitUntil(lambda: field.text() == "xy", timeout=2000)
    assert fed == ["x", "y", "\r"]
    assert window_keys == [Qt.Key.Key_Return]


def test_key_text():
    def event(key: int, text: str, mods=Qt.KeyboardModifier.NoModifier, repeat=False):
        return QKeyEvent(QEvent.Type.KeyPress, key, mods, text, repeat)

    assert key_text(event(Qt.Key.Key_A, "a")) == "a"
    assert key_text(event(Qt.Key.Key_Return, "\r")) == "\r"
    assert key_text(event(Qt.Key.Key_Enter, "\r", Qt.KeyboardModifier.KeypadModifier)) == "\r"
    assert key_text(event(Qt.Key.Key_Tab, "\t")) == "\t"
    assert key_text(event(Qt.Key.Key_Backtab, "", Qt.KeyboardModifier.ShiftModifier)) == ""
    assert key_text(event(Qt.Key.Key_C, "\x03", Qt.KeyboardModifier.ControlModifier)) == ""
    assert key_text(event(Qt.Key.Key_Left, "")) == ""
    assert key_text(event(Qt.Key.Key_A, "a", repeat=True)) == ""


def test_disable_input_method(qtbot):
    edit = QLineEdit()
    qtbot.addWidget(edit)
    assert edit.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
    disable_input_method(edit)
    assert not edit.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
    assert edit.inputMethodHints() & Qt.InputMethodHint.ImhLatinOnly
