"""What a till asks checkout to do: the cart's lines, the member, coupons and tenders.

Plain data, so a cart can be held (挂单) as JSON and recalled, and the CLI, the UI and the
tests build the same request.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from pos_app.domain.errors import InvalidInput
from pos_app.domain.typed_numbers import ascii_numerals, parse_whole_number

TENDERS = ("cash", "bank", "wechat", "alipay", "stored_value", "points", "count_card")
TENDER_NAMES = {
    "cash": ("现金", "Cash"),
    "bank": ("银行卡", "Bank card"),
    "wechat": ("微信支付", "WeChat Pay"),
    "alipay": ("支付宝", "Alipay"),
    "stored_value": ("储值卡", "Stored value"),
    "points": ("积分抵扣", "Points"),
    "count_card": ("次卡/时卡", "Service card"),
}
MAX_QTY = 9999


@dataclass(frozen=True)
class LineRequest:
    code: str  # SKU or barcode
    qty: int = 1

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise InvalidInput("商品编码不能为空", "A product code is required")
        if not 1 <= self.qty <= MAX_QTY:
            raise InvalidInput(
                f"数量必须在 1 到 {MAX_QTY} 之间：{self.qty}",
                f"A quantity is between 1 and {MAX_QTY}: {self.qty}",
            )


@dataclass(frozen=True)
class TenderRequest:
    tender: str
    amount_fen: int | None = None  # None: takes what is left (stored value/points: what they can)
    reference: str | None = None  # bank/WeChat/Alipay transaction reference

    def __post_init__(self) -> None:
        if self.tender not in TENDERS:
            raise InvalidInput(
                f"不支持的付款方式：{self.tender}（{'/'.join(TENDERS)}）",
                f"Not a tender: {self.tender} ({'/'.join(TENDERS)})",
            )
        if self.amount_fen is not None and self.amount_fen <= 0:
            raise InvalidInput("付款金额必须大于零", "A tender amount must be above zero")


@dataclass(frozen=True)
class SaleRequest:
    lines: tuple[LineRequest, ...]
    tenders: tuple[TenderRequest, ...] = ()
    card_no: str | None = None
    member_no: str | None = None
    pin: str | None = None
    coupon_codes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """For holding a cart: everything except the PIN, which is never stored."""
        data = asdict(self)
        data["pin"] = None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SaleRequest:
        return cls(
            lines=tuple(LineRequest(**row) for row in data.get("lines", ())),
            tenders=tuple(TenderRequest(**row) for row in data.get("tenders", ())),
            card_no=data.get("card_no"),
            member_no=data.get("member_no"),
            pin=None,
            coupon_codes=tuple(data.get("coupon_codes", ())),
        )


# A sign typed before a quantity ("-3*V001"): ASCII and the fullwidth forms an IME types.
_MINUS = ("-", "－", "−")
_DIGITS = re.compile(r"[0-9０-９]+")


def parse_quantity(text: str | int, *, maximum: int = MAX_QTY) -> int:
    """A line's quantity as typed ("3", "３"): a whole number from 1 to `maximum`, strictly
    (no sign, decimals, exponent, "_", or digits like "²" that int() would choke on).

    The two mistakes a cashier makes get their own message: a negative quantity (a return
    is not a sale line: it goes through F9) and one above `maximum` (said with the limit)."""
    raw = str(text).strip() if not isinstance(text, bool) else ""
    typed = raw if len(raw) <= 12 else f"{raw[:12]}…"  # a pasted wall of digits, cut
    if raw.startswith(_MINUS) and _DIGITS.fullmatch(raw[1:].strip()):
        raise InvalidInput(
            f"数量必须是正数（1 到 {maximum}）：{typed}。退货请用 F9（退货）",
            f"A quantity must be positive (1 to {maximum}): {typed}. "
            "Returns go through F9 (Returns)",
        )
    digits = ascii_numerals(raw).lstrip("0") if _DIGITS.fullmatch(raw) else ""
    # Compared by length first: a wall of digits never reaches int().
    if len(digits) > len(str(maximum)) or (digits and int(digits) > maximum):
        raise InvalidInput(
            f"数量太大：{typed}，一行最多 {maximum}",
            f"The quantity is too large: {typed}; a line takes at most {maximum}",
        )
    return parse_whole_number(text, minimum=1, maximum=maximum, what_zh="数量", what_en="quantity")
