"""Printing a receipt: the receipt document laid out for the till's printer, then queued.

Printing happens only after the sale's COMMIT and never decides anything about the sale: a
printer that is off or out of paper leaves the job in the spooler (or marked uncertain, to
be reprinted by a person), and the sale stands.
"""

from __future__ import annotations

import time

from hardware.interfaces import ReceiptPrinter
from hardware.printing.document import Block, Logo, PrintDocument, PrinterProfile, QrCode, TextLine
from hardware.printing.jobs import JobState, PrintJobInfo
from pos_app.domain.receipt import ReceiptDocument
from pos_app.domain.receipt_text import render_text
from pos_app.domain.text_width import display_width, wrap

# GBK/GB18030 printer fonts garble "¥" (U+00A5); the full-width sign prints everywhere.
PRINTER_CURRENCY = "￥"


def receipt_print_document(
    doc: ReceiptDocument, profile: PrinterProfile, lang: str = "zh", logo: str = ""
) -> PrintDocument:
    """The receipt as print blocks for `profile`'s paper: an optional logo, the store name
    large, the text of `render_text` at the paper's columns, and the receipt number as a QR
    code a scanner reads back for a return or a reprint."""
    doc = _full_width_yuan(doc)
    text = render_text(doc, profile.columns, lang, currency=PRINTER_CURRENCY)
    lines = text.rstrip("\n").split("\n")
    # render_text starts with the store name centred and ends with the receipt number alone.
    name_lines = len(wrap(doc.store_name.strip() or " ", profile.columns))
    body = lines[name_lines:-1]
    blocks: list[Block] = [Logo(logo)] if logo else []
    big = display_width(doc.store_name) * 2 <= profile.columns
    blocks.append(TextLine(doc.store_name.strip(), align="center", bold=True, double=big))
    blocks += [TextLine(line) for line in body]
    blocks.append(QrCode(doc.receipt_no))
    blocks.append(TextLine(doc.receipt_no, align="center"))
    return PrintDocument(blocks=tuple(blocks), title=doc.receipt_no)


def _full_width_yuan(doc: ReceiptDocument) -> ReceiptDocument:
    """The document with "¥" made "￥" in every text (tender details such as "本金 ¥40.00",
    coupon labels), before layout, so lines are measured as they will print."""
    data = doc.to_dict()

    def swap(value: object) -> object:
        if isinstance(value, str):
            return value.replace("¥", PRINTER_CURRENCY)
        if isinstance(value, list | tuple):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    return ReceiptDocument.from_dict(swap(data))  # type: ignore[arg-type]


def print_receipt(
    printer: ReceiptPrinter,
    doc: ReceiptDocument,
    profile: PrinterProfile,
    lang: str = "zh",
    logo: str = "",
) -> str:
    """Queue the receipt on `printer`; returns the print job's id at once."""
    return printer.print(receipt_print_document(doc, profile, lang, logo))


def wait_for_outcome(printer: ReceiptPrinter, job_id: str, timeout: float) -> PrintJobInfo:
    """The job once it printed, failed or became uncertain — or once a first try found the
    printer not ready (it stays queued): a command says so at once instead of waiting out
    the spooler's retries."""
    deadline = time.monotonic() + timeout
    while True:
        info = printer.wait(job_id, min(0.1, max(0.0, deadline - time.monotonic())))
        if info.state != JobState.QUEUED or info.attempts > 0 or time.monotonic() >= deadline:
            return info
