"""The till's window: a top bar (store, operator, shift), an alert bar for what went wrong,
the screens (sign-in, lock, checkout, member desk, shift, settings) and a status bar with the
state of the printer, the card reader and sync.

F1–F4 switch between the work screens, F12 locks the till. Screens are QWidgets made with
the session; when one is shown its `activate()` (if any) puts the focus where the cashier
expects it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hardware.events import DeviceStatus
from pos_app.domain.permissions import ROLE_NAMES
from pos_app.ui.backup_schedule import BackupScheduler
from pos_app.ui.error_text import describe_error
from pos_app.ui.operations import ServiceOp
from pos_app.ui.sync_indicator import SyncIndicator
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill

if TYPE_CHECKING:
    from pos_app.ui.till_app import TillController

STATUS_POLL_MS = 10_000
ALERT_SECONDS = {"info": 6, "warning": 12, "error": 0}  # 0: stays until dismissed or replaced


class AlertBar(QFrame):
    """A strip under the top bar: what happened and what to do. Errors stay until the next
    action or the ✕; notes go away by themselves."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("✕", self)
        close.setFlat(True)
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.setAccessibleName(self.tr("Dismiss"))
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_text(self, text: str, level: str) -> None:
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.show()
        seconds = ALERT_SECONDS.get(level, 0)
        if seconds:
            self._timer.start(seconds * 1000)
        else:
            self._timer.stop()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class MainWindow(QMainWindow):
    """The till's one window."""

    def __init__(self, session: TillSession) -> None:
        super().__init__()
        self.session = session
        self.controller: TillController | None = None  # the controller that made this window
        self._discarded = False
        self.setWindowTitle(self.tr("pos-app — member-card till"))
        self.resize(1280, 800)
        self.setMinimumSize(1024, 700)

        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._make_top_bar())
        self.alert_bar = AlertBar(central)
        outer.addWidget(self.alert_bar)
        self.stack = QStackedWidget(central)
        outer.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._make_screens()
        self._make_status_bar()
        self._make_shortcuts()

        session.sig_signed_in.connect(self._on_signed_in)
        session.sig_signed_out.connect(self._on_signed_out)
        session.sig_locked.connect(self._on_locked)
        session.sig_shift_changed.connect(self._update_top_bar)
        session.devices.sig_status.connect(self._on_device_status)
        self._status_timer = QTimer(self)
        self._status_timer.timeout.connect(self.refresh_device_status)
        self._status_timer.start(STATUS_POLL_MS)
        self._clock_timer = QTimer(self)
        self._clock_timer.timeout.connect(self._tick)
        self._clock_timer.start(1000)
        self.backup_scheduler = BackupScheduler(self, session)
        self._tick()
        self._update_top_bar()
        self.show_screen(self.sign_in_screen)

    # -- building ----------------------------------------------------------------------------

    def _make_top_bar(self) -> QWidget:
        """Two strips: who and when (store, operator, shift, clock, lock, sign out), then the
        work screens — apart, so neither is squeezed on a narrow till screen."""
        holder = QWidget(self)
        rows = QVBoxLayout(holder)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(0)
        bar = QFrame(holder)
        bar.setObjectName("topBar")
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(12, 4, 12, 4)
        self.store_label = QLabel(bar)
        self.store_label.setText(self.session.ctx.store.name)
        self.operator_label = QLabel(bar)
        self.shift_label = QLabel(bar)
        self.clock_label = QLabel(bar)
        self.lock_button = QPushButton(self.tr("Lock (F12)"), bar)
        self.lock_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.lock_button.clicked.connect(self.lock)
        self.sign_out_button = QPushButton(self.tr("Sign out"), bar)
        self.sign_out_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.sign_out_button.clicked.connect(self.sign_out)
        layout.addWidget(self.store_label)
        layout.addStretch(1)
        for widget in (self.operator_label, self.shift_label, self.clock_label):
            layout.addWidget(widget)
            layout.addSpacing(12)
        layout.addWidget(self.lock_button)
        layout.addWidget(self.sign_out_button)
        self.nav_buttons = QButtonGroup(self)
        self.nav_buttons.setExclusive(True)
        self.nav_bar = QFrame(holder)
        self.nav_bar.setObjectName("navBar")
        nav = QHBoxLayout(self.nav_bar)
        nav.setContentsMargins(8, 4, 8, 4)
        rows.addWidget(bar)
        rows.addWidget(self.nav_bar)
        return holder

    def _make_screens(self) -> None:
        # Imported here: each screen module is large, and the window is their only user.
        from pos_app.ui.checkout_screen import CheckoutScreen
        from pos_app.ui.member_desk import MemberDeskScreen
        from pos_app.ui.settings_screen import SettingsScreen
        from pos_app.ui.shift_screen import ShiftScreen
        from pos_app.ui.sign_in_screen import LockScreen, SignInScreen

        s = self.session
        self.sign_in_screen = SignInScreen(s, self)
        self.lock_screen = LockScreen(s, self)
        self.checkout_screen = CheckoutScreen(s, self)
        self.member_desk = MemberDeskScreen(s, self)
        self.shift_screen = ShiftScreen(s, self)
        self.settings_screen = SettingsScreen(s, self)
        for screen in (
            self.sign_in_screen,
            self.lock_screen,
            self.checkout_screen,
            self.member_desk,
            self.shift_screen,
            self.settings_screen,
        ):
            self.stack.addWidget(screen)
        self.work_screens: list[tuple[QWidget, str, str]] = [
            (self.checkout_screen, self.tr("Checkout"), "F1"),
            (self.member_desk, self.tr("Members"), "F2"),
            (self.shift_screen, self.tr("Shift && reports"), "F3"),
            (self.settings_screen, self.tr("Settings"), "F4"),
        ]
        layout = self.nav_bar.layout()
        for index, (screen, title, key) in enumerate(self.work_screens):
            button = QPushButton(f"{title} ({key})", self.nav_bar)
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, w=screen: self.show_screen(w))
            self.nav_buttons.addButton(button, index)
            layout.addWidget(button)
        layout.addStretch(1)
        if s.demo:
            from pos_app.ui.sim_panel import SimPanel

            self.sim_panel = SimPanel(s, self)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.sim_panel)

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.busy_label = QLabel(bar)
        self.printer_label = QLabel(bar)
        self.reader_label = QLabel(bar)
        self.till_label = QLabel(fill(self.tr("Till %1"), self.session.ctx.till_id), bar)
        self.sync_label = SyncIndicator(
            self.session.ctx.tz, self.session.lang, self.session.ctx.now, bar
        )
        self.sync_label.sig_sync_now.connect(self.session.sync_now)
        self.session.sig_sync_status.connect(self.sync_label.show_status)
        if self.session.sync_report is not None:
            self.sync_label.show_status(*self.session.sync_report)
        bar.addWidget(self.busy_label, 1)
        for label in (self.printer_label, self.reader_label, self.till_label, self.sync_label):
            bar.addPermanentWidget(label)
        self._device_text: dict[str, str] = {}
        self._show_device("printer", None)
        self._show_device("card_source", None)

    def _make_shortcuts(self) -> None:
        for index, (_screen, _title, key) in enumerate(self.work_screens):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda i=index: self._nav_key(i))
        lock = QShortcut(QKeySequence("F12"), self)
        lock.activated.connect(self.lock)

    # -- screens -----------------------------------------------------------------------------

    def show_screen(self, screen: QWidget) -> None:
        """Bring `screen` to the front and let it put the focus where it belongs."""
        if self.stack.currentWidget() is not screen:
            current = self.stack.currentWidget()
            leave = getattr(current, "deactivate", None)
            if callable(leave):
                leave()
        self.stack.setCurrentWidget(screen)
        for index, (work, _title, _key) in enumerate(self.work_screens):
            button = self.nav_buttons.button(index)
            if button is not None:
                button.setChecked(work is screen)
        working = self.session.actor is not None and not self.session.locked
        self.nav_bar.setVisible(working)
        self.lock_button.setVisible(working)
        self.sign_out_button.setVisible(self.session.actor is not None)
        activate = getattr(screen, "activate", None)
        if callable(activate):
            activate()

    def _nav_key(self, index: int) -> None:
        if self.session.actor is None or self.session.locked:
            return
        self.show_screen(self.work_screens[index][0])

    @Slot(object)
    def _on_signed_in(self, _actor: object) -> None:
        self.alert_bar.hide()
        self._update_top_bar()
        self.show_screen(self.checkout_screen)
        # Sign-in may end in a dialog (the shift's float): once it has closed, the window
        # takes the keyboard back, so the first scan lands in the checkout's field.
        QTimer.singleShot(0, self._take_keyboard)

    def _take_keyboard(self) -> None:
        if self.isVisible() and QApplication.activeModalWidget() is None:
            self.activateWindow()  # the focus goes back to where the screen put it

    @Slot()
    def _on_signed_out(self) -> None:
        self._update_top_bar()
        self.show_screen(self.sign_in_screen)

    @Slot(bool)
    def _on_locked(self, locked: bool) -> None:
        self.show_screen(self.lock_screen if locked else self.checkout_screen)

    def lock(self) -> None:
        """Lock the till (F12): only the same operator's password or card unlocks it."""
        if self.session.actor is not None and not self.session.locked:
            self.session.set_locked(True)

    def sign_out(self) -> None:
        can_leave = getattr(self.checkout_screen, "can_sign_out", None)
        if callable(can_leave) and not can_leave():
            return
        self.session.sign_out()

    def _update_top_bar(self, *_args: object) -> None:
        actor = self.session.actor
        if actor is None:
            self.operator_label.setText("")
            self.shift_label.setText("")
            return
        zh, en = ROLE_NAMES[actor.role]
        role = en if self.session.lang == "en" else zh
        self.operator_label.setText(f"{actor.name} ({role})")
        shift = self.session.shift
        self.shift_label.setText(
            fill(self.tr("Shift open since %1"), local_time(self.session, shift.opened_at))
            if shift is not None
            else self.tr("No shift open")
        )

    def _tick(self) -> None:
        # The store's time, not the computer's zone: what the receipts and reports say.
        now = self.session.ctx.now().astimezone(self.session.ctx.tz)
        self.clock_label.setText(now.strftime("%Y-%m-%d %H:%M"))

    # -- alerts and busy notes (used by ServiceOp and the screens) ----------------------------

    def show_error(self, exc: BaseException) -> None:
        """What went wrong, in the UI's language, in the alert bar."""
        self.alert_bar.show_text(describe_error(exc, self.session.lang), "error")
        QApplicationBeep.beep()

    def show_message(self, text: str, level: str = "info") -> None:
        """A note (info), a warning or an error in the alert bar."""
        self.alert_bar.show_text(text, level)

    def clear_alert(self) -> None:
        self.alert_bar.hide()

    def show_busy(self, text: str) -> None:
        self.busy_label.setText(f"⏳ {text}")
        self.setCursor(Qt.CursorShape.BusyCursor)

    def hide_busy(self) -> None:
        self.busy_label.setText("")
        self.unsetCursor()

    # -- device status -----------------------------------------------------------------------

    def refresh_device_status(self) -> None:
        """Ask every device for its state, off the GUI thread; results arrive as sig_status."""
        hub = self.session.devices
        ServiceOp(self, hub.statuses, kind="io").failure(lambda _exc: None).run()

    @Slot(object)
    def _on_device_status(self, status: DeviceStatus) -> None:
        if status.role in ("printer", "card_source"):
            self._show_device(status.role, status)

    def _show_device(self, role: str, status: DeviceStatus | None) -> None:
        label = self.printer_label if role == "printer" else self.reader_label
        name = self.tr("Printer") if role == "printer" else self.tr("Card reader")
        if status is None:
            label.setText(f"{name}: {self.tr('not set up')}")
            label.setStyleSheet("color: #5b6673;")
            return
        ok = status.ok
        label.setText(f"● {name}: {status.text(self.session.lang)}")
        label.setToolTip(status.uri)
        label.setStyleSheet("color: #1a7f37;" if ok else "color: #c62828; font-weight: bold;")

    def discard(self) -> None:
        """Close for good without asking (replaced by a window in another language)."""
        self._discarded = True
        self._status_timer.stop()
        self.close()
        self.deleteLater()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if self._discarded:
            event.accept()
            return
        can_leave = getattr(self.checkout_screen, "can_sign_out", None)
        if self.session.actor is not None and callable(can_leave) and not can_leave():
            event.ignore()
            return
        event.accept()


def local_time(session: TillSession, moment_iso: str) -> str:
    """A stored UTC time as the store's local HH:MM."""
    moment = datetime.fromisoformat(moment_iso).astimezone(session.ctx.tz)
    return moment.strftime("%H:%M")


class QApplicationBeep:
    """The alert's sound, apart so tests can silence it."""

    enabled = True

    @classmethod
    def beep(cls) -> None:
        if cls.enabled:
            from PySide6.QtWidgets import QApplication

            QApplication.beep()
