"""Keyboard-wedge scanners and card readers in the Qt app.

A wedge types what it reads as keystrokes into whatever has focus. `WedgeKeyFilter`, an
application-wide event filter, feeds every key press to a `WedgeCardSource` (the pure
detection lives in hardware/cards/wedge.py): it swallows the keys of a scan so they never land
in the focused field, holds a person's keys for a few milliseconds until it is clear they were
typed by hand, then re-delivers them to the widget they were meant for. A QTimer settles held
keys when no more come (the silence rule). Card events are emitted as `sig_card` on the GUI
thread, after the key handling has returned.

Key times come from the events' window-system timestamps, so keys that queue up while the GUI
thread is busy keep their real spacing; a scanner cannot be mistaken for a person (or the
other way round) because the app was slow.

A Chinese input method swallows a scanner's keys: call `disable_input_method()` on the fields
that take scans.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from shiboken6 import isValid

from hardware.cards.wedge import WedgeCardSource
from hardware.events import CardEvent, CardPresented, CardReadFailed

log = logging.getLogger(__name__)

# Keys that change the next key's text but type nothing: a scanner presses Shift for capitals
# and for % ^ ? in track data, so they must not end a burst.
MODIFIER_KEYS = frozenset(
    {
        Qt.Key.Key_Shift,
        Qt.Key.Key_Control,
        Qt.Key.Key_Alt,
        Qt.Key.Key_AltGr,
        Qt.Key.Key_Meta,
        Qt.Key.Key_CapsLock,
        Qt.Key.Key_NumLock,
    }
)
TERMINATOR_TEXT = {Qt.Key.Key_Return: "\r", Qt.Key.Key_Enter: "\r", Qt.Key.Key_Tab: "\t"}
SHORTCUT_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


@dataclass(frozen=True)
class _HeldEvent:
    """A copy of a held key press and the object it was for (Qt deletes the original)."""

    receiver: QObject
    event: QKeyEvent


def key_text(event: QKeyEvent) -> str:
    """What the detector gets for a key press: its text, "\\r" / "\\t" for Enter and Tab,
    "" for keys that do not type (arrows, F-keys, shortcuts, a held-down key repeating)."""
    if event.isAutoRepeat():
        return ""  # a key held down is a person
    key = Qt.Key(event.key())
    if key in TERMINATOR_TEXT and not event.modifiers() & SHORTCUT_MODIFIERS:
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and key == Qt.Key.Key_Tab:
            return ""  # Shift+Tab moves focus back: never a scanner's terminator
        return TERMINATOR_TEXT[key]
    if event.modifiers() & SHORTCUT_MODIFIERS:
        return ""
    text = event.text()
    return text if len(text) == 1 and text.isprintable() else ""


def disable_input_method(widget: QWidget) -> None:
    """Turn the input method (e.g. a Chinese IME) off on a widget that takes scans.

    Call it after setEchoMode/setReadOnly on a QLineEdit: those switch the input method back.
    """
    widget.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
    widget.setInputMethodHints(
        widget.inputMethodHints()
        | Qt.InputMethodHint.ImhLatinOnly
        | Qt.InputMethodHint.ImhNoPredictiveText
        | Qt.InputMethodHint.ImhNoAutoUppercase
    )
    if isinstance(widget, QLineEdit):
        widget.setInputMethodHints(widget.inputMethodHints() | Qt.InputMethodHint.ImhPreferLatin)


class WedgeKeyFilter(QObject):
    """Application-wide key filter that turns a wedge's keystrokes into card events."""

    sig_card = Signal(object)
    """A card was swiped or scanned through the keyboard (a CardPresented)."""

    sig_card_failed = Signal(object)
    """A swipe or scan through the keyboard could not be read (a CardReadFailed)."""

    _sig_event = Signal(object)  # from inside the key handling to the queued emit

    def __init__(
        self,
        source: WedgeCardSource,
        parent: QObject | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self._clock = clock
        self._offset = 0.0  # clock() minus the key-time clock, as of the last key
        self._replaying = False
        self._installed_on: QCoreApplication | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_timer)
        self._sig_event.connect(self._emit_event, Qt.ConnectionType.QueuedConnection)

    def install(self, app: QCoreApplication | None = None) -> None:
        """Start the source and watch every key press in the application."""
        app = app or QCoreApplication.instance()
        if app is None:
            raise RuntimeError("create the QApplication before installing the wedge filter")
        self.source.start(self._sig_event.emit)
        app.installEventFilter(self)
        self._installed_on = app

    def uninstall(self) -> None:
        """Stop watching keys; keys still held are delivered first."""
        self._timer.stop()
        if self._installed_on is not None:
            self._installed_on.removeEventFilter(self)
            self._installed_on = None
        self.source.stop()
        self._deliver_released()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Hold or swallow key presses as the wedge source decides; everything else passes."""
        if self._replaying or event.type() != QEvent.Type.KeyPress:
            return False
        if not isinstance(event, QKeyEvent) or not self._is_first_delivery(watched):
            return False
        if Qt.Key(event.key()) in MODIFIER_KEYS:
            return False
        try:
            held = self.source.feed_key(
                key_text(event), self._key_time(event), token=_HeldEvent(watched, event.clone())
            )
            self._deliver_released()
            self._schedule()
        except Exception:  # typing must keep working whatever goes wrong here
            log.exception("keyboard wedge filter failed; passing the key on")
            return False
        return held

    # -- inside -----------------------------------------------------------------------

    @staticmethod
    def _is_first_delivery(watched: QObject) -> bool:
        """A key press reaches the filter again for each parent it propagates to (and first
        for the window): handle it once, where it is delivered to the focus widget."""
        focus = QApplication.focusWidget()
        if focus is not None:
            return watched is focus
        return isinstance(watched, QWidget) and watched.isWindow()

    def _key_time(self, event: QKeyEvent) -> float:
        now = self._clock()
        stamp = event.timestamp()
        at = stamp / 1000.0 if stamp else now
        self._offset = now - at
        return at

    def _now(self) -> float:
        """The time now on the keys' clock."""
        return self._clock() - self._offset

    def _schedule(self) -> None:
        deadline = self.source.deadline
        if deadline is None:
            self._timer.stop()
            return
        wait_ms = max(0, math.ceil((deadline - self._now()) * 1000.0)) + 1
        self._timer.start(wait_ms)

    @Slot()
    def _on_timer(self) -> None:
        try:
            self.source.poll(self._now())
            self._deliver_released()
            self._schedule()
        except Exception:
            log.exception("keyboard wedge filter failed while settling keys")

    def _deliver_released(self) -> None:
        """Send a person's held-back keys, in order, to the widgets they were typed into."""
        for key in self.source.take_released():
            held = key.token
            if not isinstance(held, _HeldEvent) or not isValid(held.receiver):
                continue  # the widget is gone
            self._replaying = True
            try:
                QCoreApplication.sendEvent(held.receiver, held.event)
            finally:
                self._replaying = False

    @Slot(object)
    def _emit_event(self, event: CardEvent) -> None:
        if isinstance(event, CardPresented):
            self.sig_card.emit(event)
        elif isinstance(event, CardReadFailed):
            self.sig_card_failed.emit(event)
