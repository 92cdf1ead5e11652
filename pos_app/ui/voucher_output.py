"""What happens at the counter once cash or stored value moved without a sale: the drawer
opens for cash, and the voucher (凭证) prints — 充值凭证, 退充值凭证, 退卡凭证, 换卡凭证,
收入/支出凭证.

As with receipts (`receipt_output`), none of it can undo the operation, which was committed
first: a printer out of paper or a drawer that does not open is a warning in the alert bar.
The voucher is read back from the ledger on the database worker; the devices run on the io
worker.

    print_voucher(parent, session, entry_id, cash_fen)   # after a top-up, a card cancel, …
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from hardware.errors import DeviceError
from hardware.printing.jobs import JobState
from pos_app.domain.voucher import Voucher, voucher_title
from pos_app.services.vouchers import voucher_for, voucher_print_document
from pos_app.ui.alert_output import AlertBarOutput, main_window_of, refresh_status
from pos_app.ui.device_hub import DeviceHub
from pos_app.ui.error_text import describe_error
from pos_app.ui.operations import ServiceOp
from pos_app.ui.receipt_output import PRINT_WAIT_SECONDS
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import fill

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoucherOutcome:
    printed: bool | None = None  # None: no printer set up
    print_error: str | None = None
    drawer_error: BaseException | None = None


def _run_devices(hub: DeviceHub, voucher: Voucher, *, kick: bool) -> VoucherOutcome:
    """io worker: the drawer first (the cash is counted out now), then the voucher."""
    drawer_error: BaseException | None = None
    if kick:
        try:
            hub.kick_drawer()
        except Exception as exc:  # a drawer that does not open is a warning, nothing more
            log.warning("cash drawer not opened: %s", exc)
            drawer_error = exc
    if not hub.has_printer:
        return VoucherOutcome(drawer_error=drawer_error)
    try:
        doc = voucher_print_document(voucher, hub.settings.profile, hub.lang)
        job = hub.wait_for_job(hub.print_document(doc), PRINT_WAIT_SECONDS)
    except Exception as exc:  # the operation stands whatever the printer does
        log.warning("voucher %s not printed: %s", voucher.voucher_no, exc)
        return VoucherOutcome(False, describe_error(exc, hub.lang), drawer_error)
    if job.state == JobState.PRINTED:
        return VoucherOutcome(True, None, drawer_error)
    return VoucherOutcome(False, job.last_error or str(job.state), drawer_error)


class VoucherOutput(AlertBarOutput):
    """The till's voucher output, one per session; says in the alert bar what happened."""

    def __init__(self, session: TillSession) -> None:
        super().__init__(session)
        self.last_voucher: Voucher | None = None

    def after(self, parent: QWidget, entry_id: str, cash_fen: int = 0) -> None:
        """The operation recorded as `entry_id` is committed: open the drawer when cash
        changed hands (`cash_fen` > 0) and print its voucher."""
        ctx, actor = self.session.ctx, self.session.require_actor()
        window = main_window_of(parent)
        (
            ServiceOp(window, lambda: voucher_for(ctx, actor, entry_id))
            .success(lambda voucher: self._devices(window, voucher, cash_fen))
            .failure(
                lambda exc: self.show(window, "warning", describe_error(exc, self.session.lang))
            )
            .run()
        )

    def _devices(self, window: QWidget | None, voucher: Voucher, cash_fen: int) -> None:
        self.last_voucher = voucher
        hub = self.session.devices
        kick = cash_fen > 0 and hub.has_drawer
        ServiceOp(
            window,
            lambda: _run_devices(hub, voucher, kick=kick),
            kind="io",
            busy_text=self.tr("Printing the voucher…"),
        ).success(lambda outcome: self._report(window, voucher, outcome)).run()

    def _report(self, window: QWidget | None, voucher: Voucher, outcome: VoucherOutcome) -> None:
        title = voucher_title(voucher.kind, self.session.lang)
        texts: list[str] = []
        level = "info"
        if outcome.printed:
            # Printed as expected: the operation's own message stays in the alert bar.
            self.sig_outcome.emit(level, fill(self.tr("%1 %2 printed"), title, voucher.voucher_no))
        elif outcome.printed is False:
            texts.append(
                fill(
                    self.tr("%1 %2 not printed: %3. The operation is recorded."),
                    title,
                    voucher.voucher_no,
                    outcome.print_error or "",
                )
            )
            level = "warning"
            refresh_status(window)
        if outcome.drawer_error is not None:
            reason = describe_error(outcome.drawer_error, self.session.lang)
            if not isinstance(outcome.drawer_error, DeviceError):
                reason = fill(self.tr("The cash drawer did not open: %1"), reason)
            texts.append(reason)
            level = "warning"
        self.show(window, level, "\n".join(texts))


def print_voucher(parent: QWidget, session: TillSession, entry_id: str, cash_fen: int = 0) -> None:
    """After a committed top-up, top-up refund, card cancellation or replacement, or cash
    paid in or out: the drawer for cash, then the voucher."""
    VoucherOutput.of(session).after(parent, entry_id, cash_fen)
