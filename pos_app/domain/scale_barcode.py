"""Labels printed by label scales (条码秤): a barcode that carries a product's PLU and the
price or weight of what was weighed.

A store's scales print one or more layouts, set in the rules (`[[checkout.scale_barcode]]`).
A layout spells the code position by position:

    F  the flag: the code starts with one of the format's prefixes (20–29 by GS1 convention)
    P  the PLU, the product's number on the scale (a product barcode or SKU in the catalogue)
    $  the price of the goods on the label, in fen (or with `price_decimals` decimals of yuan)
    W  the weight, in grams (or with `weight_decimals` decimals of a kg)
    C  the check digit over everything before it (GS1 mod 10, as EAN-13)
    X  a digit the till ignores (some scales print a price check digit)

    FFPPPPP$$$$$C        13 digits, price-embedded (the common EAN-13 price label)
    FFPPPPPWWWWWC        13 digits, weight-embedded
    FFPPPPP$$$$$WWWWWC   18 digits, both

A scanned code is tried against each layout of its length whose prefix it starts with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pos_app.domain.errors import InvalidInput

LAYOUT_LETTERS = frozenset("FP$WCX")
_LAYOUT = re.compile(r"F+P+[$WX]*C")


@dataclass(frozen=True)
class ScaleBarcodeFormat:
    """One label layout (see the module's docstring)."""

    layout: str = "FFPPPPP$$$$$C"
    prefixes: tuple[str, ...] = ("20", "21", "22", "23", "24", "25", "26", "27", "28", "29")
    price_decimals: int = 2  # digits of the price after the yuan: 2 = fen
    weight_decimals: int = 3  # digits of the weight after the kg: 3 = grams

    @property
    def length(self) -> int:
        return len(self.layout)

    def digits_of(self, code: str, letter: str) -> str:
        return "".join(c for c, f in zip(code, self.layout, strict=True) if f == letter)


@dataclass(frozen=True)
class ScaleLabel:
    """What a label says: the PLU and the price (fen) and/or weight (grams) it carries."""

    plu: str
    price_fen: int | None
    grams: int | None


def format_problem(fmt: ScaleBarcodeFormat) -> tuple[str, str] | None:
    """Why a layout cannot be read (zh, en), or None when it can."""
    layout = fmt.layout
    if not _LAYOUT.fullmatch(layout) or set(layout) - LAYOUT_LETTERS:
        return (
            f"秤码格式 {layout!r} 看不懂：应为 F…P…（$ 价格、W 重量、X 忽略）…C，如 FFPPPPP$$$$$C",
            f"Cannot read the scale label layout {layout!r}: F…P… ($ price, W weight, X ignored) "
            "…C, e.g. FFPPPPP$$$$$C",
        )
    if "$" not in layout and "W" not in layout:
        return (
            f"秤码格式 {layout} 既没有价格（$）也没有重量（W）",
            f"The scale label layout {layout} carries neither a price ($) nor a weight (W)",
        )
    if len(layout) not in (13, 18):
        return (
            f"秤码格式 {layout} 应为 13 或 18 位（现为 {len(layout)} 位）",
            f"A scale label layout has 13 or 18 digits ({layout} has {len(layout)})",
        )
    flag = layout.count("F")
    if not fmt.prefixes or any(not (p.isascii() and p.isdigit()) for p in fmt.prefixes):
        return ("秤码前缀必须是数字", "Scale label prefixes are digits")
    if any(len(p) != flag for p in fmt.prefixes):
        return (
            f"秤码前缀应为 {flag} 位数字（格式 {layout}）",
            f"Scale label prefixes have {flag} digits (layout {layout})",
        )
    if not 0 <= fmt.price_decimals <= 2 or not 0 <= fmt.weight_decimals <= 3:
        return (
            "价格最多两位小数，重量最多三位小数",
            "A price has at most 2 decimals and a weight at most 3",
        )
    return None


def check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of `digits` (EAN-13 over 12 digits; any length works):
    weights 3, 1, 3, … from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def read_scale_barcode(code: str, formats: Sequence[ScaleBarcodeFormat]) -> ScaleLabel | None:
    """The label `code` is, or None when no format's length and prefix fit it (so it is an
    ordinary code). A code that fits but fails its check digit is refused: a misread."""
    text = code.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    for fmt in formats:
        if len(text) != fmt.length or not text.startswith(fmt.prefixes):
            continue
        if check_digit(text[:-1]) != int(text[-1]):
            raise InvalidInput(
                f"秤码 {text} 的校验位不对（扫错了？请重扫或手工输入）",
                f"The scale label {text} fails its check digit (misread? scan it again or type "
                "the weight)",
            )
        price = fmt.digits_of(text, "$")
        weight = fmt.digits_of(text, "W")
        return ScaleLabel(
            plu=fmt.digits_of(text, "P"),
            price_fen=int(price) * 10 ** (2 - fmt.price_decimals) if price else None,
            grams=int(weight) * 10 ** (3 - fmt.weight_decimals) if weight else None,
        )
    return None
