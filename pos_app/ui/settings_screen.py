"""Settings (F4): the store's name, the till's devices each with a test, the screen's
language, what installation this is (data folder, version, a check of the ledger), and its
backups.

Device settings are written to the installation's `settings.toml` after the same check the
app makes at start (`device_settings.settings_from_mapping`), so a typo in a device address
is refused here with its reason and nothing is saved. The tests use the devices as they
were opened at start.
"""

from __future__ import annotations

import importlib.metadata
import re
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from hardware.events import CardPresented, CardReadFailed, DeviceStatus
from hardware.printing.document import ENCODINGS, PAPER_WIDTHS, PrinterProfile
from hardware.printing.jobs import JOB_STATE_TEXT, JobState, PrintJobInfo
from hardware.printing.printer_test_page import printer_test_page
from pos_app.device_settings import SETTINGS_FILE, DeviceSettings, settings_from_mapping
from pos_app.domain.permissions import ROLE_RANK, Permission, Role, role_allows
from pos_app.services.cash_drawer import record_drawer_failure, record_drawer_open
from pos_app.services.store_check import StoreCheck, check_store
from pos_app.services.store_setup import MAX_STORE_NAME_CHARS, StoreInfo, update_store_info
from pos_app.settings_file import update_settings
from pos_app.ui.backup_box import BackupBox
from pos_app.ui.device_hub import DeviceHub
from pos_app.ui.error_text import ERROR_STYLE, describe_error
from pos_app.ui.operations import ServiceOp
from pos_app.ui.operators_dialog import OperatorsDialog, open_operators_dialog
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import LANGUAGES, fill

CARD_WAIT_SECONDS = 15
PRINT_WAIT_SECONDS = 10.0
DISPLAY_TEST = ("pos-app", "测试 TEST")
SHOWN_PROBLEMS = 5
DRAWER_TEST_REASON = "设置页测试钱箱 drawer test in Settings"  # kept in the audit trail
TEST_PAGE_TITLE = printer_test_page(PrinterProfile()).title  # how its jobs are named
FINAL_STATES = (JobState.PRINTED, JobState.FAILED, JobState.UNCERTAIN)
OK_STYLE = "color: #1a7f37;"
MUTED_STYLE = "color: #5b6673;"


def _press(button: QPushButton) -> None:
    """A key does what clicking the button does, and nothing while the button is disabled."""
    if button.isEnabled():
        button.click()


def _say(label: QLabel, text: str, style: str) -> None:
    label.setText(text)
    label.setStyleSheet(style)


def app_version() -> str:
    """The installed pos-app's version ("unknown" when run from a bare source tree)."""
    try:
        return importlib.metadata.version("pos-app")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class CardTestDialog(QDialog):
    """Waits up to 15 s for a card on any reader and shows what was read (masked)."""

    def __init__(self, hub: DeviceHub, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.lang = lang
        self.setWindowTitle(self.tr("Test the card readers"))
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        self.prompt_label = QLabel(self.tr("Tap, swipe or scan a card now."), self)
        self.prompt_label.setProperty("role", "title")
        self.prompt_label.setWordWrap(True)
        layout.addWidget(self.prompt_label)
        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)
        layout.addWidget(self.result_label)
        buttons = QDialogButtonBox(self)
        self.close_button = buttons.addButton(
            self.tr("Close"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.close_button.clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.remaining = CARD_WAIT_SECONDS
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        hub.sig_card.connect(self._on_card)
        hub.sig_card_failed.connect(self._on_failed)
        self._show_remaining()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.hub.claim_cards(self)
        self._timer.start()
        self.close_button.setFocus()

    def done(self, result: int) -> None:
        """Closing (Esc, Close): the card events go back to the screens."""
        self._timer.stop()
        self.hub.release_cards(self)
        super().done(result)

    def _tick(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self._timer.stop()
            _say(
                self.result_label,
                fill(
                    self.tr("No card was read in %1 seconds: check the reader and try again."),
                    CARD_WAIT_SECONDS,
                ),
                ERROR_STYLE,
            )
            return
        self._show_remaining()

    def _show_remaining(self) -> None:
        _say(
            self.result_label,
            fill(self.tr("Waiting for a card… (%1 s)"), self.remaining),
            MUTED_STYLE,
        )

    def _on_card(self, event: CardPresented) -> None:
        if not self.hub.cards_are_for(self):
            return
        self._timer.stop()
        kinds = {
            "ic": self.tr("IC card"),
            "magstripe": self.tr("Magnetic stripe"),
            "barcode": self.tr("Barcode"),
            "qr": self.tr("QR code"),
        }
        _say(
            self.result_label,
            fill(
                self.tr("Read: %1 %2\nReader: %3"),
                kinds.get(event.kind, event.kind),
                event.masked,
                event.reader,
            ),
            OK_STYLE,
        )

    def _on_failed(self, event: CardReadFailed) -> None:
        if not self.hub.cards_are_for(self):
            return
        _say(
            self.result_label,
            fill(self.tr("The card could not be read: %1"), event.reason(self.lang)),
            ERROR_STYLE,
        )


class SettingsScreen(QWidget):
    """The store, the devices, the language and the installation."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.card_dialog: CardTestDialog | None = None
        self.operators_dialog: OperatorsDialog | None = None
        self._card_status: dict[str, DeviceStatus] = {}
        self._test_job: str | None = None
        self._jobs_seen: dict[str, PrintJobInfo] = {}  # the spooler's news may come first
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        content = QWidget(scroll)
        self.content = content
        layout = QVBoxLayout(content)
        layout.setContentsMargins(16, 12, 16, 12)
        title = QLabel(self.tr("Settings"), content)
        title.setProperty("role", "title")
        layout.addWidget(title)
        layout.addWidget(self._make_store_box(content))
        layout.addWidget(self._make_operators_box(content))
        layout.addWidget(self._make_devices_box(content))
        row = QHBoxLayout()
        row.addWidget(self._make_language_box(content), 1)
        row.addWidget(self._make_about_box(content), 2)
        layout.addLayout(row)
        self.backup_box = BackupBox(session, content)
        layout.addWidget(self.backup_box)
        layout.addStretch(1)
        scroll.setWidget(content)
        outer.addWidget(scroll)

        save_key = QShortcut(QKeySequence("Ctrl+S"), self)
        save_key.setContext(Qt.ShortcutContext.WindowShortcut)
        save_key.activated.connect(lambda: _press(self.save_devices_button))
        session.devices.sig_status.connect(self._on_status)
        session.devices.sig_job.connect(self._on_job)
        session.sig_signed_in.connect(lambda _actor: self._update_rights())
        self._load_devices(session.devices.settings)
        self._update_rights()

    # -- building ----------------------------------------------------------------------------

    def _make_store_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox(self.tr("Store"), parent)
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        store = self.session.ctx.store
        row.addWidget(QLabel(self.tr("Store code"), box))
        self.store_code_label = QLabel(store.code, box)
        self.store_code_label.setStyleSheet("font-weight: bold;")
        row.addWidget(self.store_code_label)
        row.addSpacing(24)
        row.addWidget(QLabel(self.tr("Store name (on receipts)"), box))
        self.store_name_field = QLineEdit(store.name, box)
        self.store_name_field.setMaxLength(MAX_STORE_NAME_CHARS)
        row.addWidget(self.store_name_field, 1)
        self.save_store_button = QPushButton(self.tr("Save the name"), box)
        self.save_store_button.clicked.connect(self.save_store_name)
        row.addWidget(self.save_store_button)
        layout.addLayout(row)
        self.store_result = QLabel(box)
        self.store_result.setWordWrap(True)
        self.store_result.hide()
        layout.addWidget(self.store_result)
        return box

    def _make_operators_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox(self.tr("Operators"), parent)
        row = QHBoxLayout(box)
        note = QLabel(
            self.tr(
                "Change your own password; admins also add, deactivate and reactivate "
                "operators and set new passwords."
            ),
            box,
        )
        note.setProperty("role", "muted")
        note.setWordWrap(True)
        self.operators_button = QPushButton(self.tr("Operators and passwords…"), box)
        self.operators_button.clicked.connect(self.open_operators)
        self.operators_button.setMinimumWidth(170)
        row.addWidget(note, 1)
        row.addWidget(self.operators_button)
        return box

    def open_operators(self) -> None:
        """The operators dialog: one's own password; the list for admins."""
        self.operators_dialog = open_operators_dialog(self, self.session)

    def _make_devices_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox(self.tr("Devices"), parent)
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.card_sources_field = QLineEdit(box)
        self.card_sources_field.setPlaceholderText("pcsc:, wedge, sim:card")
        self.card_sources_field.setToolTip(self.tr("Device addresses, separated by commas"))
        self.card_status = self._status_label(box)
        self.card_test_button = QPushButton(self.tr("Read a card"), box)
        self.card_test_button.clicked.connect(self.test_card_reader)
        form.addRow(
            self.tr("Card readers"),
            self._device_row(self.card_sources_field, self.card_status, self.card_test_button),
        )
        self.printer_field = QLineEdit(box)
        self.printer_field.setPlaceholderText("tcp://192.168.1.50:9100")
        self.printer_status = self._status_label(box)
        self.print_test_button = QPushButton(self.tr("Print a test page"), box)
        self.print_test_button.clicked.connect(self.test_printer)
        form.addRow(
            self.tr("Receipt printer"),
            self._device_row(self.printer_field, self.printer_status, self.print_test_button),
        )
        self.paper_combo = QComboBox(box)
        for mm in PAPER_WIDTHS:
            self.paper_combo.addItem(fill(self.tr("%1 mm"), mm), mm)
        self.encoding_combo = QComboBox(box)
        for encoding in ENCODINGS:
            self.encoding_combo.addItem(encoding, encoding)
        self.image_check = QCheckBox(
            self.tr("Print as a picture (printer has no Chinese font)"), box
        )
        paper_row = QHBoxLayout()
        paper_row.addWidget(QLabel(self.tr("Paper"), box))
        paper_row.addWidget(self.paper_combo)
        paper_row.addSpacing(12)
        paper_row.addWidget(QLabel(self.tr("Encoding"), box))
        paper_row.addWidget(self.encoding_combo)
        paper_row.addSpacing(12)
        paper_row.addWidget(self.image_check)
        paper_row.addStretch(1)
        form.addRow("", paper_row)
        self.drawer_check = QCheckBox(self.tr("A cash drawer hangs on the printer"), box)
        self.pin_combo = QComboBox(box)
        for pin in (2, 5):
            self.pin_combo.addItem(fill(self.tr("Pin %1"), pin), pin)
        self.drawer_status = self._status_label(box)
        self.drawer_test_button = QPushButton(self.tr("Open the drawer"), box)
        self.drawer_test_button.clicked.connect(self.test_drawer)
        self.drawer_test_button.setMinimumWidth(170)
        drawer_row = QHBoxLayout()
        drawer_row.addWidget(self.drawer_check)
        drawer_row.addWidget(self.pin_combo)
        drawer_row.addWidget(self.drawer_status, 1)
        drawer_row.addWidget(self.drawer_test_button)
        form.addRow(self.tr("Cash drawer"), drawer_row)
        self.display_field = QLineEdit(box)
        self.display_field.setPlaceholderText("serial:/dev/ttyUSB1?baud=9600")
        self.display_status = self._status_label(box)
        self.display_test_button = QPushButton(self.tr("Show on the display"), box)
        self.display_test_button.clicked.connect(self.test_display)
        form.addRow(
            self.tr("Pole display"),
            self._device_row(self.display_field, self.display_status, self.display_test_button),
        )
        self.save_devices_button = QPushButton(self.tr("Save devices (Ctrl+S)"), box)
        self.save_devices_button.setProperty("primary", True)
        self.save_devices_button.clicked.connect(self.save_devices)
        self.devices_result = QLabel(box)
        self.devices_result.setWordWrap(True)
        note = QLabel(
            self.tr("The test buttons use the devices as they were opened when the app started."),
            box,
        )
        note.setProperty("role", "muted")
        note.setWordWrap(True)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_devices_button)
        save_row.addWidget(self.devices_result, 1)
        form.addRow("", save_row)
        form.addRow("", note)
        return box

    def _status_label(self, parent: QWidget) -> QLabel:
        label = QLabel(parent)
        label.setMinimumWidth(180)
        label.setWordWrap(True)
        return label

    def _device_row(self, field: QWidget, status: QLabel, button: QPushButton) -> QHBoxLayout:
        button.setMinimumWidth(170)
        row = QHBoxLayout()
        row.addWidget(field, 3)
        row.addWidget(status, 2)
        row.addWidget(button)
        return row

    def _make_language_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox(self.tr("Language"), parent)
        layout = QVBoxLayout(box)
        self.language_combo = QComboBox(box)
        for code, name in LANGUAGES.items():
            self.language_combo.addItem(name, code)
        self.language_combo.setCurrentIndex(
            max(0, self.language_combo.findData(self.session.language))
        )
        self.language_combo.activated.connect(self._language_chosen)
        self.language_result = QLabel(box)
        self.language_result.setWordWrap(True)
        layout.addWidget(self.language_combo)
        layout.addWidget(self.language_result)
        layout.addStretch(1)
        return box

    def _make_about_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox(self.tr("This till"), parent)
        form = QFormLayout(box)
        self.data_dir_label = QLabel(str(self.session.data_dir), box)
        self.data_dir_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.data_dir_label.setWordWrap(True)
        form.addRow(self.tr("Data folder"), self.data_dir_label)
        self.version_label = QLabel(app_version(), box)
        form.addRow(self.tr("Version"), self.version_label)
        self.verify_button = QPushButton(self.tr("Verify the ledger"), box)
        self.verify_button.clicked.connect(self.verify)
        self.verify_result = QLabel(box)
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.verify_button, self.verify_result)
        return box

    # -- state -------------------------------------------------------------------------------

    def activate(self) -> None:
        """Shown (F4): fresh device states, the focus on the first thing one may change."""
        self._update_rights()
        hub = self.session.devices
        ServiceOp(self, hub.statuses, kind="io").failure(lambda _exc: None).run()
        self.backup_box.refresh()
        target = self.printer_field if self.printer_field.isEnabled() else self.language_combo
        target.setFocus()

    def _rank(self) -> int:
        actor = self.session.actor
        return ROLE_RANK[Role(actor.role)] if actor is not None else -1

    def _update_rights(self) -> None:
        """Who may change what: the store's name admins, devices managers and admins; the
        services and the settings check refuse anyway."""
        admin = self._rank() >= ROLE_RANK[Role.ADMIN]
        manager = self._rank() >= ROLE_RANK[Role.MANAGER]
        self.store_name_field.setEnabled(admin)
        self.save_store_button.setEnabled(admin)
        for widget in (
            self.card_sources_field,
            self.printer_field,
            self.paper_combo,
            self.encoding_combo,
            self.image_check,
            self.drawer_check,
            self.pin_combo,
            self.display_field,
            self.save_devices_button,
        ):
            widget.setEnabled(manager)
        # Opening the drawer outside a sale (开钱箱) is allowed by the operator's role and
        # recorded by the services before the drawer is kicked.
        actor = self.session.actor
        self.drawer_test_button.setEnabled(
            actor is not None and role_allows(Role(actor.role), Permission.DRAWER_OPEN)
        )
        if not admin:
            self.store_name_field.setToolTip(self.tr("Only an admin can change the store's name"))

    def _load_devices(self, settings: DeviceSettings) -> None:
        self.card_sources_field.setText(", ".join(settings.card_sources))
        self.printer_field.setText(settings.printer)
        self.paper_combo.setCurrentIndex(max(0, self.paper_combo.findData(settings.paper_mm)))
        self.encoding_combo.setCurrentIndex(max(0, self.encoding_combo.findData(settings.encoding)))
        self.image_check.setChecked(settings.image)
        self.drawer_check.setChecked(settings.drawer)
        self.pin_combo.setCurrentIndex(max(0, self.pin_combo.findData(settings.drawer_pin)))
        self.display_field.setText(settings.display)
        not_set = self.tr("not set up")
        for label, configured in (
            (self.card_status, bool(settings.card_sources)),
            (self.printer_status, bool(settings.printer)),
            (self.display_status, bool(settings.display)),
        ):
            if not configured:
                _say(label, not_set, MUTED_STYLE)

    def _on_status(self, status: DeviceStatus) -> None:
        lang = self.session.lang
        if status.role == "card_source":
            self._card_status[status.uri] = status
            statuses = list(self._card_status.values())
            text = "; ".join(f"{s.uri}: {s.text(lang)}" for s in statuses)
            ok = all(s.ok for s in statuses)
            _say(self.card_status, f"● {text}", OK_STYLE if ok else ERROR_STYLE)
            return
        label = {"printer": self.printer_status, "display": self.display_status}.get(status.role)
        if label is not None:
            _say(label, f"● {status.text(lang)}", OK_STYLE if status.ok else ERROR_STYLE)
            label.setToolTip(status.uri)

    def _failed(self, label: QLabel) -> Any:
        return lambda exc: _say(label, describe_error(exc, self.session.lang), ERROR_STYLE)

    # -- store -------------------------------------------------------------------------------

    def save_store_name(self) -> None:
        """An admin renames the store (receipts and reports from now on)."""
        ctx, actor = self.session.ctx, self.session.require_actor()
        name = self.store_name_field.text()
        self.save_store_button.setEnabled(False)
        ServiceOp(self, lambda: update_store_info(ctx, actor, name)).success(
            self._store_saved
        ).failure(self._store_failed).finally_(self._update_rights).run()

    def _store_failed(self, exc: BaseException) -> None:
        self.store_result.show()
        _say(self.store_result, describe_error(exc, self.session.lang), ERROR_STYLE)

    def _store_saved(self, info: StoreInfo) -> None:
        self.store_name_field.setText(info.name)
        self.store_result.show()
        _say(
            self.store_result, self.tr("Saved: receipts and reports now carry this name."), OK_STYLE
        )
        store_label = getattr(self.window(), "store_label", None)
        if isinstance(store_label, QLabel):
            store_label.setText(info.name)

    # -- devices -----------------------------------------------------------------------------

    def device_values(self) -> dict[str, Any]:
        """The `[devices]` values as the form holds them."""
        sources = [s.strip() for s in re.split(r"[,\n]", self.card_sources_field.text())]
        return {
            "card_sources": [s for s in sources if s],
            "printer": self.printer_field.text().strip(),
            "paper_mm": int(self.paper_combo.currentData()),
            "encoding": str(self.encoding_combo.currentData()),
            "image": self.image_check.isChecked(),
            "drawer": self.drawer_check.isChecked(),
            "drawer_pin": int(self.pin_combo.currentData()),
            "display": self.display_field.text().strip(),
        }

    def save_devices(self) -> None:
        """Check the device settings as the app does at start, then write them; a bad
        address is refused with its reason and nothing is written."""
        values = self.device_values()
        data_dir = self.session.data_dir
        source = str(data_dir / SETTINGS_FILE)

        def check_and_write() -> None:
            settings_from_mapping(values, source)
            update_settings(data_dir, "devices", values)

        self.save_devices_button.setEnabled(False)
        ServiceOp(self, check_and_write, busy_text=self.tr("Saving…")).success(
            lambda _none: _say(
                self.devices_result,
                self.tr("Saved. Devices are reopened on the next start of the app."),
                OK_STYLE,
            )
        ).failure(self._failed(self.devices_result)).finally_(self._update_rights).run()

    def test_card_reader(self) -> None:
        """Wait for a card and show what the readers make of it."""
        dialog = CardTestDialog(self.session.devices, self.session.lang, self)
        dialog.finished.connect(lambda _r: self._back_from_dialog(self.card_test_button))
        self.card_dialog = dialog
        dialog.open()

    def _back_from_dialog(self, focus: QWidget) -> None:
        self.window().activateWindow()
        focus.setFocus()

    def test_printer(self) -> None:
        """Print the test page and say how it went."""
        hub, ctx = self.session.devices, self.session.ctx
        now = ctx.now().astimezone(ctx.tz)
        page = printer_test_page(hub.settings.profile, now)

        def print_and_wait() -> PrintJobInfo:
            return hub.wait_for_job(hub.print_document(page), PRINT_WAIT_SECONDS)

        _say(self.printer_status, self.tr("Printing the test page…"), MUTED_STYLE)
        self.print_test_button.setEnabled(False)
        ServiceOp(self, print_and_wait, kind="io").success(self._printed).failure(
            self._failed(self.printer_status)
        ).finally_(lambda: self.print_test_button.setEnabled(True)).run()

    def _on_job(self, job: PrintJobInfo) -> None:
        if job.title != TEST_PAGE_TITLE:
            return
        self._jobs_seen[job.job_id] = job
        if job.job_id == self._test_job:
            self._show_job(job)

    def _printed(self, job: PrintJobInfo) -> None:
        self._test_job = job.job_id
        seen = self._jobs_seen.get(job.job_id)
        self._show_job(seen if seen is not None and seen.state in FINAL_STATES else job)

    def _show_job(self, job: PrintJobInfo) -> None:
        zh, en = JOB_STATE_TEXT[job.state]
        state = en if self.session.lang == "en" else zh
        ok = job.state == JobState.PRINTED
        text = fill(self.tr("Test page: %1"), state)
        if job.last_error and not ok:
            text = f"{text} ({job.last_error})"
        _say(self.printer_status, text, OK_STYLE if ok else ERROR_STYLE)

    def test_drawer(self) -> None:
        """Open the cash drawer now: recorded first (who, why: 开钱箱), then kicked."""
        hub = self.session.devices
        if not hub.has_drawer:
            _say(self.drawer_status, self.tr("No cash drawer is set up"), ERROR_STYLE)
            return
        ctx, actor = self.session.ctx, self.session.require_actor()
        self.drawer_test_button.setEnabled(False)

        def kick_failed(exc: BaseException) -> None:
            # The trail said "opened": say that it did not (on the database worker).
            ServiceOp(
                self, lambda: record_drawer_failure(ctx, actor, DRAWER_TEST_REASON, str(exc))
            ).failure(lambda _exc: None).run()
            self._failed(self.drawer_status)(exc)

        def kick() -> None:
            ServiceOp(self, hub.kick_drawer, kind="io").success(
                lambda _none: _say(self.drawer_status, self.tr("The drawer opened"), OK_STYLE)
            ).failure(kick_failed).finally_(self._update_rights).run()

        ServiceOp(self, lambda: record_drawer_open(ctx, actor, DRAWER_TEST_REASON)).success(
            lambda _none: kick()
        ).failure(self._drawer_refused).run()

    def _drawer_refused(self, exc: BaseException) -> None:
        self._failed(self.drawer_status)(exc)
        self._update_rights()

    def test_display(self) -> None:
        """Show a test line on the pole display."""
        hub = self.session.devices
        if not hub.settings.display:
            _say(self.display_status, self.tr("No pole display is set up"), ERROR_STYLE)
            return
        line1, line2 = DISPLAY_TEST
        ServiceOp(self, lambda: hub.show_on_display(line1, line2), kind="io").success(
            lambda _none: _say(
                self.display_status,
                fill(self.tr("Sent to the display: %1"), f"{line1} / {line2}"),
                OK_STYLE,
            )
        ).failure(self._failed(self.display_status)).run()

    # -- language and the installation -------------------------------------------------------

    def _language_chosen(self, index: int) -> None:
        """A language was picked: all or nothing. With a sale open (the window cannot be
        rebuilt under it) or the file not written, nothing changes: not the file, not the
        session and its device texts, not the box."""
        language = str(self.language_combo.itemData(index))
        if language == self.session.language:
            return
        if self._sale_open():
            self._show_current_language()
            _say(
                self.language_result,
                self.tr(
                    "A sale is open on the checkout: finish, hold (F6) or cancel it first. "
                    "The language was not changed."
                ),
                ERROR_STYLE,
            )
            return
        data_dir = self.session.data_dir
        ServiceOp(self, lambda: update_settings(data_dir, "app", {"language": language})).success(
            lambda _path: self._language_saved(language)
        ).failure(self._language_not_saved).run()

    def _sale_open(self) -> bool:
        checkout = getattr(self.window(), "checkout_screen", None)
        return checkout is not None and not checkout.cart_is_empty()

    def _show_current_language(self) -> None:
        self.language_combo.setCurrentIndex(
            max(0, self.language_combo.findData(self.session.language))
        )

    def _language_not_saved(self, exc: BaseException) -> None:
        self._show_current_language()
        self._failed(self.language_result)(exc)

    def _language_saved(self, language: str) -> None:
        _say(
            self.language_result,
            fill(
                self.tr("Saved: %1. The whole screen changes at the latest on the next start."),
                LANGUAGES[language],
            ),
            OK_STYLE,
        )
        self.session.set_language(language)

    def verify(self) -> None:
        """Check the database, the sealed chain and every balance; problems pause value
        moves until a manager acts (services/store_check). On the background worker: a
        large ledger takes a while, and the till keeps selling meanwhile."""
        ctx = self.session.ctx
        self.verify_button.setEnabled(False)
        _say(self.verify_result, self.tr("Verifying…"), MUTED_STYLE)
        ServiceOp(
            self,
            lambda: check_store(ctx),
            kind="background",
            busy_text=self.tr("Verifying the ledger…"),
        ).success(self._verified).failure(self._failed(self.verify_result)).finally_(
            lambda: self.verify_button.setEnabled(True)
        ).run()

    def _verified(self, check: StoreCheck) -> None:
        report = check.report
        if report.ok:
            _say(
                self.verify_result,
                fill(
                    self.tr("The ledger checks out: %1 entries, %2 cards, %3 members."),
                    report.entries,
                    report.cards,
                    report.members,
                ),
                OK_STYLE,
            )
            return
        problems = "\n".join(f"{p.where}: {p.message}" for p in report.problems[:SHOWN_PROBLEMS])
        paused = (
            self.tr(
                "Payments, top-ups, points and refunds are paused until a manager restores a "
                "backup or acknowledges the problems (pos-app verify --acknowledge)."
            )
            if check.alarm is not None and check.alarm.is_open
            else self.tr("A manager acknowledged these problems; the till records again.")
        )
        _say(
            self.verify_result,
            fill(
                self.tr("The ledger has %1 problems; call support:\n%2\n%3"),
                report.problem_count,
                problems,
                paused,
            ),
            ERROR_STYLE,
        )
