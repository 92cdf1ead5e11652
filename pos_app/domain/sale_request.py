"""What a till asks checkout to do: the cart's lines, the member, coupons and tenders.

Plain data, so a cart can be held (挂单) as JSON and recalled, and the CLI, the UI and the
tests build the same request.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import MAX_PRICE_FEN, parse_yuan
from pos_app.domain.typed_numbers import ascii_numerals, parse_whole_number
from pos_app.domain.weighed_goods import (
    MAX_WEIGHT_MILLI,
    parse_weight,
    refuse_decimal_for_pieces,
)

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
    """One line of the cart. A weighed product's line has `weight_milli` (thousandths of the
    product's unit: grams for a product priced per kg, see domain/weighed_goods.py) and qty 1.
    `label_fen` is the price a price-embedded scale label fixed for the line; `price_fen` a
    manual unit price (改价) the cashier set, which pricing checks against the rules' limit."""

    code: str  # SKU or barcode
    qty: int = 1
    weight_milli: int | None = None
    label_fen: int | None = None
    price_fen: int | None = None

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise InvalidInput("商品编码不能为空", "A product code is required")
        if not 1 <= self.qty <= MAX_QTY:
            raise InvalidInput(
                f"数量必须在 1 到 {MAX_QTY} 之间：{self.qty}",
                f"A quantity is between 1 and {MAX_QTY}: {self.qty}",
            )
        if self.weight_milli is not None and not 0 < self.weight_milli <= MAX_WEIGHT_MILLI:
            raise InvalidInput(
                "重量必须在 0.001 到 999.999 之间", "A weight is from 0.001 to 999.999"
            )
        if self.weight_milli is not None and self.qty != 1:
            raise InvalidInput("称重商品一行只有一份", "A weighed line has a quantity of 1")
        if self.label_fen is not None and (self.weight_milli is None or self.label_fen < 0):
            raise InvalidInput("秤码价格只用于称重商品", "A label price is for weighed goods")
        if self.price_fen is not None and not 0 <= self.price_fen <= MAX_PRICE_FEN:
            raise InvalidInput("改价的价格不对", "The changed price is out of range")

    def merged(self, other: LineRequest) -> LineRequest:
        """This line with `other` of the same product added: pieces or weights add up. A line
        with a changed price or a scale label's fixed price is its own line."""
        if self.price_fen is not None or other.price_fen is not None:
            raise InvalidInput(
                "改过价的商品请单独结算", "A line with a changed price cannot be merged"
            )
        if self.weight_milli is None or other.weight_milli is None:
            if self.weight_milli is not None or other.weight_milli is not None:
                raise InvalidInput("称重商品需要重量", "A weighed product needs a weight")
            return LineRequest(self.code, self.qty + other.qty)
        if (self.label_fen is None) != (other.label_fen is None):
            raise InvalidInput(
                "秤码商品请单独结算：先结清这一行或删除后重扫",
                "A scale-label line cannot be merged with a typed weight: void one first",
            )
        label = None if self.label_fen is None else self.label_fen + (other.label_fen or 0)
        return LineRequest(
            self.code, 1, weight_milli=self.weight_milli + other.weight_milli, label_fen=label
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
class OrderDiscount:
    """整单折扣: `percent_off` of the whole sale (10 = 9折), or `amount_fen` off it."""

    percent_off: int = 0
    amount_fen: int = 0

    def __post_init__(self) -> None:
        if (self.percent_off > 0) == (self.amount_fen > 0):
            raise InvalidInput(
                "整单折扣填折扣或金额其中一个", "An order discount is a percentage or an amount"
            )
        if not 0 <= self.percent_off <= 99 or self.amount_fen < 0:
            raise InvalidInput(
                "整单折扣必须在 1% 到 99% 之间", "An order discount is from 1% to 99%"
            )


ROUNDING_CHOICES = ("jiao", "yuan", "amount")


@dataclass(frozen=True)
class ManualRounding:
    """手工抹零: drop the fen ("jiao"), the jiao and fen ("yuan"), or `amount_fen` ("amount")."""

    mode: str
    amount_fen: int = 0

    def __post_init__(self) -> None:
        if self.mode not in ROUNDING_CHOICES:
            raise InvalidInput(
                f"抹零方式：{'/'.join(ROUNDING_CHOICES)}",
                f"Rounding is one of {'/'.join(ROUNDING_CHOICES)}",
            )
        if (self.mode == "amount") != (self.amount_fen > 0) or self.amount_fen < 0:
            raise InvalidInput("抹零金额必须大于零", "A rounding amount must be above zero")


@dataclass(frozen=True)
class SaleRequest:
    lines: tuple[LineRequest, ...]
    tenders: tuple[TenderRequest, ...] = ()
    card_no: str | None = None
    member_no: str | None = None
    pin: str | None = None
    coupon_codes: tuple[str, ...] = ()
    order_discount: OrderDiscount | None = None  # 整单折扣
    manual_rounding: ManualRounding | None = None  # 手工抹零, instead of the rules' 抹零

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
            order_discount=OrderDiscount(**od) if (od := data.get("order_discount")) else None,
            manual_rounding=(ManualRounding(**mr) if (mr := data.get("manual_rounding")) else None),
        )


# A sign typed before a quantity ("-3*V001"): ASCII and the fullwidth forms an IME types.
_MINUS = ("-", "－", "−")
_DIGITS = re.compile(r"[0-9０-９]+")


# "3*V001" or "0.5*F005": a quantity (a weight for weighed goods), "*" (or × ＊), the code.
# ASCII or fullwidth digits only ([0-9], not \d, which would take Arabic-Indic and other
# scripts' digits too); the number itself is read by parse_quantity or parse_weight. A sign
# and too many digits are taken here too, so that "-3*V001" and "100000*V001" get the
# quantity's own message rather than "no such product".
_QTY_FORM = re.compile(
    r"^\s*([-－−+＋]?[0-9０-９]{1,12}(?:[.．][0-9０-９]{1,3})?)\s*[*×＊]\s*(\S.*?)\s*$"
)


def split_quantity(text: str) -> tuple[str | None, str]:
    """("0.5", "F005") for "0.5*F005", (None, "F005") for a bare code. The quantity is read
    once the product is known: a weight for weighed goods, a whole count for the others."""
    match = _QTY_FORM.match(text)
    return (match[1], match[2]) if match else (None, text.strip())


def is_decimal(quantity: str) -> bool:
    """Whether a typed quantity has a decimal point ("0.5", "１．５")."""
    return "." in ascii_numerals(quantity)


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


def typed_line(
    code: str,
    quantity: str | None,
    *,
    name: str,
    unit: str,
    sold_by_weight: bool,
    price_fen: int | None = None,
) -> LineRequest:
    """A line as a cashier types it ("0.5*F005", "3*D001"): for goods sold by weight the
    quantity is the weight in the product's unit (kg or 斤); for the others a whole count,
    and a decimal is refused. A weighed product with no weight typed must be weighed."""
    if sold_by_weight:
        if quantity is None:
            raise InvalidInput(
                f"{name} 是称重商品：请称重或输入重量（如 0.5*{code}）",
                f"{name} is sold by weight: weigh it or type the weight (e.g. 0.5*{code})",
            )
        return LineRequest(code, 1, weight_milli=parse_weight(quantity, unit), price_fen=price_fen)
    if quantity is not None and is_decimal(quantity):
        raise refuse_decimal_for_pieces(name, unit, quantity)
    count = parse_quantity(quantity) if quantity is not None else 1  # "" is no count
    return LineRequest(code, count, price_fen=price_fen)


def parse_order_discount(text: str) -> OrderDiscount:
    """整单折扣 as typed: "10%" off (also "10％"), or an amount in yuan ("5.00")."""
    value = ascii_numerals(text.strip())
    if value.endswith(("%", "％")):
        pct = parse_whole_number(
            value[:-1], minimum=1, maximum=99, what_zh="整单折扣", what_en="order discount"
        )
        return OrderDiscount(percent_off=pct)
    return OrderDiscount(amount_fen=parse_yuan(value))


def parse_manual_rounding(text: str) -> ManualRounding:
    """手工抹零 as typed: "jiao" (角), "yuan" (元), or an amount in yuan ("0.80")."""
    value = text.strip().lower()
    if value in ("jiao", "角"):
        return ManualRounding("jiao")
    if value in ("yuan", "元"):
        return ManualRounding("yuan")
    return ManualRounding("amount", parse_yuan(value))
