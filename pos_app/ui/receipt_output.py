"""What happens at the counter once a sale or a refund is committed: the cash drawer opens,
the pole display shows the total and the change, the receipt prints — and reprints (补打).

None of it can undo the sale: the sale was committed before any of this starts. A printer
out of paper or a drawer that does not open is a warning in the alert bar that says the sale
is recorded and how to get the receipt (F10 reprints). All device work runs on the io worker.

    print_after_sale(parent, session, result)   # after checkout.sell / sale_refund.refund_sale
    reprint_last(parent, session)               # F10: the last receipt again, marked 补打
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hardware.errors import DeviceError
from hardware.events import CardPresented, DeviceStatus
from hardware.printing.jobs import JobState, PrintJobInfo
from pos_app.domain.money import fen_to_yuan_text
from pos_app.domain.receipt import ReceiptDocument
from pos_app.services.checkout import SaleResult
from pos_app.services.sale_records import reprint as reprint_receipt
from pos_app.ui.alert_output import AlertBarOutput, main_window_of, refresh_status
from pos_app.ui.device_hub import DeviceHub
from pos_app.ui.error_text import describe_error, error_label
from pos_app.ui.operations import ServiceOp
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill
from pos_app.ui.wedge_filter import disable_input_method

log = logging.getLogger(__name__)

PRINT_WAIT_SECONDS = 10.0  # how long to wait for the printer's answer before saying "queued"
SCANNED_KINDS = ("barcode", "qr")  # a receipt's QR code read by a scanner on the card sources


@dataclass(frozen=True)
class PrintOutcome:
    """A receipt's print job as the printer left it, and the printer's state when the job
    did not print (it says why in the operator's language: out of paper, cover open…)."""

    job: PrintJobInfo
    printer: DeviceStatus | None = None

    @property
    def printed(self) -> bool:
        return self.job.state == JobState.PRINTED


@dataclass(frozen=True)
class DeviceOutcome:
    """What the devices did with a committed sale (each part None when not attempted)."""

    printed: PrintOutcome | None = None
    print_error: BaseException | None = None
    drawer_error: BaseException | None = None


def _pole_lines(doc: ReceiptDocument) -> tuple[str, str]:
    # Pole displays are ASCII by default (a Chinese font is an option): keep them ASCII.
    if doc.kind == "refund":
        return f"REFUND {fen_to_yuan_text(-doc.total_fen)}", ""
    change = f"CHANGE {fen_to_yuan_text(doc.change_fen)}" if doc.change_fen else "THANK YOU"
    return f"TOTAL {fen_to_yuan_text(doc.total_fen)}", change


def _run_devices(
    hub: DeviceHub, doc: ReceiptDocument, *, kick: bool, print_it: bool
) -> DeviceOutcome:
    """io worker: drawer first (the cashier needs it for the change now; behind a printing
    receipt it would wait), the pole display, then the receipt and its outcome."""
    drawer_error: BaseException | None = None
    if kick:
        try:
            hub.kick_drawer()
        except Exception as exc:  # a drawer that does not open is a warning, nothing more
            log.warning("cash drawer not opened: %s", exc)
            drawer_error = exc
    try:
        hub.show_on_display(*_pole_lines(doc))
    except Exception as exc:  # the pole display is a courtesy to the customer
        log.warning("pole display: %s", exc)
    if not print_it:
        return DeviceOutcome(drawer_error=drawer_error)
    try:
        printed = _print_and_wait(hub, doc)
    except Exception as exc:  # the sale stands whatever the printer does
        log.warning("receipt %s not printed: %s", doc.receipt_no, exc)
        return DeviceOutcome(print_error=exc, drawer_error=drawer_error)
    return DeviceOutcome(printed=printed, drawer_error=drawer_error)


def _print_and_wait(hub: DeviceHub, doc: ReceiptDocument, *, copy: bool = False) -> PrintOutcome:
    """io worker: queue the receipt (or its copy), wait for the outcome, and when it did not
    print ask the printer why."""
    job = hub.wait_for_job(hub.reprint(doc) if copy else hub.print_receipt(doc), PRINT_WAIT_SECONDS)
    if job.state == JobState.PRINTED:
        return PrintOutcome(job)
    try:
        status = hub.printer_status()
    except Exception:  # the reason is a courtesy; the job's own note remains
        log.warning("printer status after a failed job", exc_info=True)
        status = None
    return PrintOutcome(job, status)


class ReceiptOutput(AlertBarOutput):
    """The till's receipt output, one per session: prints, remembers the last receipt for
    F10, and tells the cashier in the alert bar what the printer did."""

    def __init__(self, session: TillSession) -> None:
        super().__init__(session)
        self.last_receipt_no: str | None = None

    # -- after a sale ------------------------------------------------------------------------

    def after_sale(self, parent: QWidget, result: SaleResult) -> None:
        """Drawer, pole display and receipt for a committed sale or refund."""
        self.last_receipt_no = result.receipt_no
        doc = result.receipt
        hub = self.session.devices
        kick = hub.has_drawer and any(t.tender == "cash" for t in doc.tenders)
        print_it = hub.has_printer
        window = main_window_of(parent)
        (
            ServiceOp(
                window,
                lambda: _run_devices(hub, doc, kick=kick, print_it=print_it),
                kind="io",
                busy_text=self.tr("Printing the receipt…"),
            )
            .success(lambda outcome: self._report_sale(window, doc, outcome, print_it))
            .failure(lambda exc: self.show(window, "warning", self._not_printed(doc, exc)))
            .run()
        )

    def _report_sale(
        self, window: QWidget | None, doc: ReceiptDocument, outcome: DeviceOutcome, print_it: bool
    ) -> None:
        texts: list[str] = []
        level = "info"
        if outcome.print_error is not None:
            texts.append(self._not_printed(doc, outcome.print_error))
            level = "warning"
        elif outcome.printed is not None and not outcome.printed.printed:
            texts.append(self._not_printed(doc, self._job_reason(outcome.printed)))
            level = "warning"
        elif outcome.printed is not None:
            texts.append(fill(self.tr("Receipt %1 printed"), doc.receipt_no))
        elif not print_it:
            texts.append(fill(self.tr("Receipt %1: no receipt printer is set up"), doc.receipt_no))
        if level == "warning":
            refresh_status(window)  # out of paper, offline: the status bar says so now
        if outcome.drawer_error is not None:
            reason = describe_error(outcome.drawer_error, self.session.lang)
            # The drawer's own refusals already say "drawer not opened: why".
            if not isinstance(outcome.drawer_error, DeviceError):
                reason = fill(self.tr("The cash drawer did not open: %1"), reason)
            texts.append(reason)
            level = "warning"
        self.show(window, level, "\n".join(texts))

    def _not_printed(self, doc: ReceiptDocument, reason: BaseException | str) -> str:
        text = reason if isinstance(reason, str) else describe_error(reason, self.session.lang)
        if doc.kind == "refund":
            return fill(
                self.tr("The refund is recorded. Receipt not printed: %1. Press F10 to reprint."),
                text,
            )
        return fill(
            self.tr("The sale is recorded. Receipt not printed: %1. Press F10 to reprint."), text
        )

    def _job_reason(self, outcome: PrintOutcome) -> str:
        printer = outcome.printer
        if printer is not None and not printer.ok:
            return printer.text(self.session.lang)
        job = outcome.job
        if job.state == JobState.UNCERTAIN:
            reason = self.tr("it may have stopped halfway")
        elif job.state == JobState.QUEUED:
            reason = self.tr("waiting for the printer")
        else:
            reason = self.tr("the printer gave up")
        # last_error is the spooler's own words (English); it says what the printer reported.
        return f"{reason} ({job.last_error})" if job.last_error else reason

    # -- reprint (补打) -----------------------------------------------------------------------

    def reprint(
        self,
        parent: QWidget,
        receipt_no: str,
        on_failure: Callable[[BaseException], None] | None = None,
        on_found: Callable[[], None] | None = None,
    ) -> None:
        """Reprint a receipt by its number: the services mark it as a reprint, then it
        prints. `on_failure(exc)` (default: the alert bar) hears a refused reprint;
        `on_found()` runs once the receipt was found (a dialog closes then)."""
        ctx, actor = self.session.ctx, self.session.require_actor()
        window = main_window_of(parent)
        hub = self.session.devices

        def found(doc: ReceiptDocument) -> None:
            if on_found is not None:
                on_found()
            self.last_receipt_no = doc.receipt_no
            (
                ServiceOp(
                    window,
                    lambda: _print_and_wait(hub, doc, copy=True),
                    kind="io",
                    busy_text=self.tr("Printing the receipt…"),
                )
                .success(lambda outcome: self._report_reprint(window, doc, outcome))
                .failure(lambda exc: self.show(window, "error", self._reprint_failed(doc, exc)))
                .run()
            )

        def failed(exc: BaseException) -> None:
            if on_failure is not None:
                on_failure(exc)
            elif window is not None and hasattr(window, "show_error"):
                window.show_error(exc)

        (
            ServiceOp(
                parent,
                lambda: reprint_receipt(ctx, actor, receipt_no),
                busy_text=self.tr("Finding the receipt…"),
            )
            .success(found)
            .failure(failed)
            .run()
        )

    def _report_reprint(
        self, window: QWidget | None, doc: ReceiptDocument, outcome: PrintOutcome
    ) -> None:
        if outcome.printed:
            self.show(window, "info", fill(self.tr("Receipt %1 reprinted"), doc.receipt_no))
        else:
            self.show(window, "warning", self._reprint_failed(doc, self._job_reason(outcome)))

    def _reprint_failed(self, doc: ReceiptDocument, reason: BaseException | str) -> str:
        text = reason if isinstance(reason, str) else describe_error(reason, self.session.lang)
        return fill(
            self.tr("Receipt %1 not reprinted: %2. Press F10 to try again."), doc.receipt_no, text
        )


class ReprintDialog(QDialog):
    """补打: type or scan a receipt number and print that receipt again."""

    def __init__(self, session: TillSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._busy = False
        self.setWindowTitle(self.tr("Reprint a receipt"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(480)

        title = QLabel(self.tr("Reprint a receipt"), self)
        title.setProperty("role", "title")
        hint = QLabel(
            self.tr("Type or scan the receipt number (on the receipt, under its QR code)."), self
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "muted")
        self.number_field = QLineEdit(self)
        self.number_field.setPlaceholderText(self.tr("for example SH01-01-260302-0001"))
        disable_input_method(self.number_field)
        self.error_label = error_label(self)
        self.reprint_button = QPushButton(self.tr("Reprint (Enter)"), self)
        self.reprint_button.setProperty("primary", True)
        self.reprint_button.setAutoDefault(False)
        self.reprint_button.clicked.connect(self.submit)
        cancel = QPushButton(self.tr("Cancel (Esc)"), self)
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.reprint_button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addWidget(self.number_field)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        session.devices.sig_card.connect(self._on_scan)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.session.devices.claim_cards(self)
        self.number_field.setFocus()

    def done(self, result: int) -> None:
        self.session.devices.release_cards(self)
        super().done(result)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
            return
        super().keyPressEvent(event)

    @Slot(object)
    def _on_scan(self, event: CardPresented) -> None:
        if not self.session.devices.cards_are_for(self) or event.kind not in SCANNED_KINDS:
            return
        self.number_field.setText(event.raw.strip())
        self.submit()

    def submit(self) -> None:
        """Reprint the receipt whose number is in the field."""
        number = self.number_field.text().strip()
        if self._busy:
            return
        if not number:
            self._show_error(self.tr("Type or scan a receipt number"))
            return
        self._busy = True
        self.reprint_button.setEnabled(False)
        self.error_label.hide()
        ReceiptOutput.of(self.session).reprint(
            self, number, on_failure=self._on_failed, on_found=self.accept
        )

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.reprint_button.setEnabled(True)
        self._show_error(describe_error(exc, self.session.lang))
        self.number_field.selectAll()
        self.number_field.setFocus()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()


def print_after_sale(parent: QWidget, session: TillSession, result: SaleResult) -> None:
    """After a committed sale or refund: open the drawer (cash), show the total and change on
    the pole display, print the receipt, and say in the alert bar how that went."""
    ReceiptOutput.of(session).after_sale(parent, result)


def reprint_last(parent: QWidget, session: TillSession) -> ReprintDialog | None:
    """F10: reprint the last receipt of this till (marked 补打); with none yet, open the
    reprint dialog to type or scan a receipt number (returned)."""
    output = ReceiptOutput.of(session)
    if output.last_receipt_no is None:
        return open_reprint_dialog(parent, session)
    output.reprint(parent, output.last_receipt_no)
    return None


def open_reprint_dialog(parent: QWidget, session: TillSession) -> ReprintDialog:
    """The reprint-by-number dialog (window-modal, returns at once)."""
    dialog = ReprintDialog(session, parent)
    dialog.open()
    return dialog


def last_receipt_no(session: TillSession) -> str | None:
    """The receipt this till printed last (what F10 reprints)."""
    return ReceiptOutput.of(session).last_receipt_no
