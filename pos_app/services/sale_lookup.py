"""Finding a sale to return (退货): the original receipt and what is still returnable.

Read-only: unlike `sale_records.reprint`, looking a receipt up for a return marks nothing.
The till shows the receipt's lines with how many of each can still come back, so the
cashier picks lines and quantities before `sale_refund.refund_sale` decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from db.engine import read_session
from db.models import SaleLine
from pos_app.domain.errors import InvalidInput
from pos_app.domain.permissions import Permission
from pos_app.domain.receipt import ReceiptDocument
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.sale_records import receipt_document, sale_by_receipt_no
from pos_app.services.sale_refund import measure, returned_so_far


@dataclass(frozen=True)
class ReturnableLine:
    """One line of the original sale and how much of it can still be returned."""

    line_no: int
    sku: str
    name: str
    qty: int  # sold
    returnable_qty: int  # sold less what earlier returns took back
    unit_price_fen: int
    net_fen: int  # what the whole line cost after its discounts
    # Weighed goods: the weight sold and still returnable, in thousandths of the unit; the
    # line counts as one item (returnable_qty 1 while any of its weight is left).
    weight_milli: int | None = None
    returnable_weight_milli: int | None = None


@dataclass(frozen=True)
class SaleForReturn:
    """A sale as the returns desk sees it: the receipt as printed, and its lines."""

    receipt: ReceiptDocument
    lines: tuple[ReturnableLine, ...]
    refunded_fen: int  # already paid back by earlier returns

    @property
    def receipt_no(self) -> str:
        return self.receipt.receipt_no

    @property
    def anything_returnable(self) -> bool:
        return any(line.returnable_qty > 0 for line in self.lines)


def sale_for_return(ctx: StoreContext, actor: Actor, receipt_no: str) -> SaleForReturn:
    """The sale with this receipt number, for choosing what to return (writes nothing).

    Refuses a receipt that is itself a refund: a refund is not returned again."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE_REFUND)
        sale = sale_by_receipt_no(s, receipt_no)
        if sale.kind != "sale":
            raise InvalidInput("退货单不能再退货", "A refund receipt cannot be refunded")
        rows = s.scalars(
            select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.line_no)
        ).all()
        returned, refunded, _by_tender = returned_so_far(s, sale.id)
        left = {row.line_no: measure(row) - returned[row.line_no] for row in rows}
        return SaleForReturn(
            receipt=receipt_document(s, sale.id),
            lines=tuple(
                ReturnableLine(
                    line_no=row.line_no,
                    sku=row.sku,
                    name=row.name,
                    qty=row.qty,
                    returnable_qty=(
                        max(0, left[row.line_no])
                        if row.weight_milli is None
                        else int(left[row.line_no] > 0)
                    ),
                    unit_price_fen=row.unit_price_fen,
                    net_fen=row.net_fen,
                    weight_milli=row.weight_milli,
                    returnable_weight_milli=(
                        max(0, left[row.line_no]) if row.weight_milli is not None else None
                    ),
                )
                for row in rows
            ),
            refunded_fen=refunded,
        )
