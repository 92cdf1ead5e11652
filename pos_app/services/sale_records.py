"""Writing a committed sale or refund (sale, lines, tenders, receipt document) and finding it
again by its receipt number, for refunds and reprints (补打)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db.counters import next_value
from db.engine import write_session
from db.models import Operator, Sale, SaleLine, SaleTender
from db.models import ReceiptDocument as ReceiptRow
from pos_app.domain.errors import NotFound
from pos_app.domain.permissions import Permission
from pos_app.domain.receipt import ReceiptDocument
from pos_app.services.audit import record
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext


def next_receipt_no(session: Session, till_id: str, day: date) -> str:
    """SH01-01-260302-0001: the till (store SH01, till 01), the business day, the day's
    running number on this till. Sales and refunds share the sequence, so a receipt number is
    never reused, and two tills of one store never give the same one."""
    number = next_value(session, f"receipt:{day.isoformat()}")
    return f"{till_id}-{day.strftime('%y%m%d')}-{number:04d}"


def operator_name(session: Session, operator_id: str | None) -> str | None:
    if operator_id is None:
        return None
    op = session.get(Operator, operator_id)
    return op.name if op else None


def local_time_text(ctx: StoreContext, moment_iso: str) -> str:
    return datetime.fromisoformat(moment_iso).astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class SaleRows:
    """Everything one sale or refund writes besides its ledger entries."""

    sale: dict[str, Any]
    lines: list[dict[str, Any]]
    tenders: list[dict[str, Any]]
    document: ReceiptDocument


def write_sale(session: Session, rows: SaleRows) -> None:
    """Insert the rows in bulk: a sale has up to hundreds of lines, and each ORM object would
    cost more than the commit itself."""
    session.execute(insert(Sale), [rows.sale])
    session.execute(insert(SaleLine), rows.lines)
    if rows.tenders:
        session.execute(insert(SaleTender), rows.tenders)
    session.execute(
        insert(ReceiptRow),
        [
            {
                "sale_id": rows.sale["id"],
                "document": json.dumps(
                    rows.document.to_dict(), ensure_ascii=False, separators=(",", ":")
                ),
            }
        ],
    )


def sale_by_receipt_no(session: Session, receipt_no: str) -> Sale:
    sale = session.scalars(select(Sale).where(Sale.receipt_no == receipt_no.strip())).first()
    if sale is None:
        raise NotFound(f"找不到小票：{receipt_no}", f"No receipt numbered {receipt_no}")
    return sale


def receipt_document(session: Session, sale_id: str) -> ReceiptDocument:
    row = session.get(ReceiptRow, sale_id)
    assert row is not None, sale_id
    return ReceiptDocument.from_dict(json.loads(row.document))


def reprint(ctx: StoreContext, actor: Actor, receipt_no: str) -> ReceiptDocument:
    """The receipt as it was printed, marked as a reprint (补打); every reprint is audited
    (a second copy of a receipt is how a refund gets claimed twice)."""
    with write_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE)
        sale = sale_by_receipt_no(s, receipt_no)
        record(s, ctx.now_iso(), actor.operator_id, "sale.reprint", target=sale.receipt_no)
        return replace(receipt_document(s, sale.id), reprint=True)
