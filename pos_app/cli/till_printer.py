"""`--print`: send a receipt to the till's own printer (settings.toml `[devices] printer`).

The sale is committed before anything is printed; a printer that is off or out of paper
leaves the receipt in the print spool of the data folder (it goes out with the next receipt
printed there) or marks it uncertain for a 补打, and the command still succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from hardware.errors import DeviceError, DeviceUnavailable
from hardware.printing.document import PrintDocument, PrinterProfile
from hardware.printing.jobs import JOB_STATE_TEXT, JobState
from hardware.registry import open_printer
from pos_app.cli.invocation import Invocation
from pos_app.device_settings import SPOOL_FILE, load_device_settings
from pos_app.domain.receipt import ReceiptDocument
from pos_app.services.auth import Actor
from pos_app.services.receipt_printing import receipt_print_document, wait_for_outcome
from pos_app.services.vouchers import voucher_for, voucher_print_document

SIM_PNG_DIR = "sim-printer"  # where sim:printer writes what it "prints", in the data folder
WAIT_SECONDS = 10.0

PRINT = click.option(
    "--print",
    "to_printer",
    is_flag=True,
    help="同时在本机小票打印机打印（settings.toml） Also print on the till's receipt printer",
)


def print_on_till(inv: Invocation, doc: ReceiptDocument) -> dict[str, Any]:
    """Print `doc` on the configured printer and wait briefly for the outcome; returns what
    happened for the command's output. Refuses only when no printer is configured."""
    settings = load_device_settings(inv.data_dir)
    return _print(
        inv, lambda profile: receipt_print_document(doc, profile, inv.lang, settings.logo)
    )


def print_voucher_on_till(
    inv: Invocation, actor: Actor, entry_id: str, *, cash_fen: int = 0
) -> dict[str, Any]:
    """Print the voucher (凭证) of a top-up, its refund or a card operation, and open the
    cash drawer first when cash changed hands (`cash_fen`), as the till's screens do."""
    voucher = voucher_for(inv.store(), actor, entry_id)
    return _print(
        inv,
        lambda profile: voucher_print_document(voucher, profile, inv.lang),
        kick=cash_fen > 0,
    )


def _print(
    inv: Invocation, make: Callable[[PrinterProfile], PrintDocument], *, kick: bool = False
) -> dict[str, Any]:
    settings = load_device_settings(inv.data_dir)
    if not settings.printer:
        raise DeviceUnavailable(
            f"没有配置小票打印机：在 {settings.source} 的 [devices] 中设置 printer",
            f"No receipt printer is configured: set printer under [devices] in {settings.source}",
        )
    printer = open_printer(
        settings.printer,
        settings.profile,
        inv.data_dir / SPOOL_FILE,
        png_dir=inv.data_dir / SIM_PNG_DIR,
    )
    drawer: str | None = None
    try:
        if kick and settings.drawer:
            try:  # the drawer first: the cash is counted out now; a refusal is only a note
                printer.kick(settings.drawer_pin)
                drawer = "opened"
            except DeviceError as exc:
                drawer = "not_opened"
                inv.out.note(exc.message(inv.lang))
        job_id = printer.print(make(settings.profile))
        info = wait_for_outcome(printer, job_id, WAIT_SECONDS)
    finally:
        printer.close()
    zh, en = JOB_STATE_TEXT[info.state]
    if info.state != JobState.PRINTED:
        inv.out.note(
            f"小票未打印（{zh}）：{info.last_error or '-'}；交易已完成，可用 pos-app reprint 补打"
            if inv.lang != "en"
            else f"Receipt not printed ({en}): {info.last_error or '-'}; the sale stands, "
            "reprint it with pos-app reprint"
        )
    else:
        inv.out.note(f"小票已打印 Receipt printed on {settings.printer}")
    result: dict[str, Any] = {
        "printer": settings.printer,
        "job_id": job_id,
        "state": str(info.state),
    }
    if drawer is not None:
        result["drawer"] = drawer
    return result
