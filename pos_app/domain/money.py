"""Money is integer fen (分) inside; Decimal only at the edges, for parsing and formatting."""

from __future__ import annotations

import re

from pos_app.domain.control_chars import shown
from pos_app.domain.errors import InvalidInput
from pos_app.domain.typed_numbers import ascii_numerals

FEN_PER_YUAN = 100
# A single amount above this is a typing mistake, not a sale or a top-up.
MAX_AMOUNT_FEN = 100_000_000 * FEN_PER_YUAN
# Tighter maxima for fields where a smaller slip (a digit too many) is still worth catching.
MAX_PRICE_FEN = 1_000_000 * FEN_PER_YUAN  # one product's price, even a gold bracelet's
MAX_TOPUP_FEN = 100_000 * FEN_PER_YUAN  # one top-up of a member card
MAX_DRAWER_FEN = 1_000_000 * FEN_PER_YUAN  # cash in a till: a float, a count, a paid in/out

# Yuan as typed: an integer part, either plain digits or grouped in thousands with commas
# ("1,234,567": a first group of 1-3 digits, then groups of exactly 3), and an optional
# fraction after one point. [0-9], not \d, which would take every script's digits. The
# fraction takes any number of digits here so that "12.345" gets its own message.
_AMOUNT = re.compile(r"(?P<whole>[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)?(?:\.(?P<fraction>[0-9]*))?")
_CURRENCY_SIGNS = ("¥", "￥")
# Digits of yuan beyond this are too large for any field: checked before int() so that a
# pasted wall of digits never reaches Python's int-from-string limit.
_MAX_YUAN_DIGITS = 15
EXAMPLES_ZH = "例如 500、12.50 或 1,234.50"
EXAMPLES_EN = "for example 500, 12.50 or 1,234.50"


def parse_yuan(text: str | int, *, allow_zero: bool = False, max_fen: int = MAX_AMOUNT_FEN) -> int:
    """Parse an amount in yuan into fen, strictly, the same way for every field.

    Accepted: ASCII or fullwidth digits ("１２.５０"), an optional ¥/￥ in front, optional
    whitespace around, commas only as thousands separators ("1,234.50") or not at all, at
    most one decimal point with at most two decimals. Refused with a message saying what
    is expected: a sign, an exponent ("1e2"), "_" ("5_0"), inner spaces, other scripts'
    digits, a comma anywhere else ("50,00" is not ¥5,000), zero unless `allow_zero`, and
    more than `max_fen`.
    """
    if isinstance(text, bool):  # bool is an int subclass, and True is not ¥1
        text = str(text)
    raw = str(text)
    cleaned = ascii_numerals(raw.strip())
    for sign in _CURRENCY_SIGNS:
        if cleaned.startswith(sign):
            cleaned = cleaned[len(sign) :]
            break
    if cleaned[:1] in ("-", "+", "−"):
        raise InvalidInput(
            f"金额不带正负号：{shown(raw)}（{EXAMPLES_ZH}）",
            f"An amount is written without a sign: {shown(raw)} ({EXAMPLES_EN})",
        )
    match = _AMOUNT.fullmatch(cleaned)
    if match is None and "," in cleaned:
        raise InvalidInput(
            f"金额中的逗号只能分隔千位（1,234.50），小数请用小数点：{shown(raw)}",
            f"A comma in an amount only separates thousands (1,234.50); decimals take a "
            f"point: {shown(raw)}",
        )
    if match is None or not (match["whole"] or match["fraction"]):
        raise InvalidInput(
            f"金额格式不正确：{shown(raw)}（以元为单位，最多两位小数，千位可用逗号分隔，"
            f"{EXAMPLES_ZH}）",
            f"Not an amount: {shown(raw)} (yuan with at most two decimals, commas only "
            f"between thousands, {EXAMPLES_EN})",
        )
    fraction = match["fraction"] or ""
    if len(fraction) > 2:
        raise InvalidInput(
            f"金额最多两位小数：{shown(raw)}", f"An amount has at most two decimals: {shown(raw)}"
        )
    whole = (match["whole"] or "").replace(",", "").lstrip("0")
    if len(whole) > _MAX_YUAN_DIGITS:
        raise _too_large(raw, max_fen)
    fen = int(whole or "0") * FEN_PER_YUAN + int(fraction.ljust(2, "0"))
    if fen == 0 and not allow_zero:
        raise InvalidInput(
            f"金额必须大于零：{shown(raw)}", f"The amount must be above zero: {shown(raw)}"
        )
    if fen > max_fen:
        raise _too_large(raw, max_fen)
    return fen


def _too_large(raw: str, max_fen: int) -> InvalidInput:
    return InvalidInput(
        f"金额过大：{shown(raw)}（最多 {format_fen(max_fen)}）",
        f"The amount is too large: {shown(raw)} (at most {format_fen(max_fen)})",
    )


def format_fen(fen: int, *, symbol: str = "¥") -> str:
    """Format fen as yuan with two decimals: 12345 -> "¥123.45", -5 -> "-¥0.05"."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{symbol}{whole}.{part:02d}"


def fen_to_yuan_text(fen: int) -> str:
    """Plain yuan text with two decimals, no symbol ("123.45"), for files and JSON."""
    return format_fen(fen, symbol="")
