"""The receipt as a document: what a printed or shown receipt says, independent of paper.

Checkout builds one from the committed sale; printers, the screen and `sale --json` render
it. Amounts are integer fen; texts come in Chinese and English so a reprint can be in either.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReceiptAdjustment:
    """One explained discount: which rule, how much (positive fen taken off)."""

    kind: str  # member_price, tier, promotion, coupon, rounding, gift
    rule: str  # the rule's code: tier code, promotion code, coupon code, rounding mode
    label_zh: str
    label_en: str
    amount_fen: int


@dataclass(frozen=True)
class ReceiptLine:
    line_no: int
    sku: str
    name: str
    qty: int  # negative on a refund
    unit_price_fen: int
    gross_fen: int  # qty × unit price
    net_fen: int  # after the line's discounts and its share of the sale's discounts
    adjustments: tuple[ReceiptAdjustment, ...] = ()
    weight_milli: int | None = None  # weighed goods: thousandths of `unit` (negative: refund)
    unit: str = ""  # the weight's unit, "kg" or "斤"


@dataclass(frozen=True)
class ReceiptTender:
    tender: str  # cash, bank, wechat, alipay, stored_value, points, count_card
    label_zh: str
    label_en: str
    amount_fen: int  # paid towards the total (for cash: given − change)
    reference: str | None = None
    detail_zh: str | None = None  # e.g. "本金 ¥80.00 赠送 ¥20.00", "2000 积分"
    detail_en: str | None = None


@dataclass(frozen=True)
class ReceiptMember:
    member_no: str
    name: str
    masked_mobile: str
    tier_name: str
    tier_name_en: str
    card_no_masked: str | None
    stored_value_fen: int | None  # left after the sale (principal + bonus)
    principal_fen: int | None
    bonus_fen: int | None
    points_earned: int
    points_balance: int
    tier_upgraded_to: str | None = None
    passes: tuple[str, ...] = ()  # e.g. "洗车10次卡 剩余 7 次"


@dataclass(frozen=True)
class ReceiptDocument:
    store_code: str
    store_name: str
    receipt_no: str  # also the text of the barcode / QR code
    kind: str  # sale, refund
    business_time: str  # local time as shown, "2026-03-02 10:00"
    operator_name: str
    lines: tuple[ReceiptLine, ...]
    gross_fen: int
    discount_fen: int
    rounding_fen: int
    total_fen: int
    tenders: tuple[ReceiptTender, ...]
    cash_given_fen: int = 0
    change_fen: int = 0
    sale_adjustments: tuple[ReceiptAdjustment, ...] = ()  # coupons and rounding on the sale
    coupons_used: tuple[str, ...] = ()  # "CODE 名称"
    member: ReceiptMember | None = None
    original_receipt_no: str | None = None  # on a refund
    approved_by_name: str | None = None
    reprint: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The till that gave the receipt ("SH01-01"); None on receipts kept from before tills
    # had ids.
    till_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReceiptDocument:
        def adjustments(rows: list[dict[str, Any]]) -> tuple[ReceiptAdjustment, ...]:
            return tuple(ReceiptAdjustment(**row) for row in rows)

        member = data.get("member")
        fields = dict(data)
        fields["lines"] = tuple(
            ReceiptLine(**{**line, "adjustments": adjustments(line["adjustments"])})
            for line in data["lines"]
        )
        fields["tenders"] = tuple(ReceiptTender(**t) for t in data["tenders"])
        fields["sale_adjustments"] = adjustments(data.get("sale_adjustments", []))
        fields["coupons_used"] = tuple(data.get("coupons_used", ()))
        fields["notes"] = tuple(data.get("notes", ()))
        fields["member"] = (
            ReceiptMember(**{**member, "passes": tuple(member.get("passes", ()))})
            if member
            else None
        )
        return cls(**fields)
