"""Goods sold by weight (散称): apples by the kg, bananas by the 斤.

A weighed line's quantity is kept as a whole number of thousandths of the product's unit
("milli-units"): grams for a product priced per kg, thousandths of a 斤 (half-grams) for one
priced per 斤. Integers inside, like money, so nothing drifts; a line's gross is the unit
price times the weight, rounded half up to the fen (`weighed_gross`). A weighed line's `qty`
stays 1: one bag of apples, whatever it weighs.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pos_app.domain.control_chars import shown
from pos_app.domain.errors import InvalidInput
from pos_app.domain.typed_numbers import ascii_numerals

# Grams in one of each unit a weighed product may be priced in.
GRAMS_PER_UNIT = {"kg": 1000, "斤": 500}
# How a catalogue may write those units.
UNIT_WORDS = {"kg": "kg", "千克": "kg", "公斤": "kg", "斤": "斤", "市斤": "斤"}
MILLI = 1000  # milli-units in one unit
MAX_WEIGHT_MILLI = 999_999  # 999.999 kg (or 斤) on one line: no scale weighs more
_WEIGHT = re.compile(r"([0-9]{1,3})(?:\.([0-9]{1,3}))?")


def weight_unit(unit: str) -> str | None:
    """The weight unit `unit` names ("公斤" → "kg"), or None when it is no weight unit."""
    return UNIT_WORDS.get(unit.strip().lower()) or UNIT_WORDS.get(unit.strip())


def weighed_gross(unit_price_fen: int, weight_milli: int) -> int:
    """The price of `weight_milli` thousandths of a unit at `unit_price_fen` a unit, rounded
    half up to the fen: ¥12.80/kg × 0.333 kg = 426.24 → 426; × 0.125 kg = 160 exactly;
    ¥0.99 × 0.5 = 49.5 → 50."""
    return (unit_price_fen * weight_milli + MILLI // 2) // MILLI


def milli_from_grams(grams: int, unit: str) -> int:
    """A scale's grams in the product's milli-units: 500 g is 500 milli-kg or 1000 milli-斤."""
    per_unit = GRAMS_PER_UNIT[weight_unit(unit) or "kg"]
    return grams * MILLI // per_unit  # exact: both units are whole grams that divide 1000 g


def weight_from_price(label_fen: int, unit_price_fen: int) -> int:
    """The weight a price-embedded scale label stands for, in milli-units, rounded half up
    (shown on the line and used for returns; the label's price stays the line's price)."""
    if unit_price_fen <= 0:
        return 0
    return (label_fen * MILLI * 2 + unit_price_fen) // (unit_price_fen * 2)


def parse_weight(text: str, unit: str) -> int:
    """A weight as typed ("0.5", "1.25", "２"), in milli-units of `unit`: above zero, at
    most three decimals and 999.999; no sign or exponent."""
    raw = text
    cleaned = ascii_numerals(text.strip())
    match = _WEIGHT.fullmatch(cleaned)
    if match is None:
        raise InvalidInput(
            f"重量必须是 0.001 到 999.999 之间的数（最多三位小数，单位 {unit}）：{shown(raw)}",
            f"A weight is a number from 0.001 to 999.999 (at most three decimals, in {unit}): "
            f"{shown(raw)}",
        )
    milli = int(match[1]) * MILLI + int((match[2] or "").ljust(3, "0"))
    if not 0 < milli <= MAX_WEIGHT_MILLI:
        raise InvalidInput(
            f"重量必须大于零：{shown(raw)}", f"A weight must be above zero: {shown(raw)}"
        )
    return milli


def weight_text(weight_milli: int, unit: str) -> str:
    """1250 milli-kg → "1.250kg"; negative on a refund → "-1.250kg"."""
    value = Decimal(weight_milli) / MILLI
    return f"{value:.3f}{unit}"


def refuse_decimal_for_pieces(name: str, unit: str, text: str) -> InvalidInput:
    """The refusal for a decimal quantity of a product sold by the piece."""
    return InvalidInput(
        f"{name} 按{unit or '件'}卖，数量必须是整数：{shown(text)}",
        f"{name} is sold by the piece: the quantity must be a whole number: {shown(text)}",
    )
