"""Money is integer fen (分) inside; Decimal only at the edges, for parsing and formatting."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pos_app.domain.errors import InvalidInput

FEN_PER_YUAN = 100
# A single amount above this is a typing mistake, not a sale or a top-up.
MAX_AMOUNT_FEN = 100_000_000 * FEN_PER_YUAN


def parse_yuan(text: str | int, *, allow_zero: bool = False) -> int:
    """Parse an amount in yuan with at most two decimals ("500", "12.5", "0.01") into fen."""
    raw = str(text).strip().replace("¥", "").replace("￥", "").replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(
            f"金额格式不正确：{text!r}（例如 500 或 12.50）",
            f"Not an amount: {text!r} (for example 500 or 12.50)",
        ) from None
    if not value.is_finite():
        raise InvalidInput(f"金额格式不正确：{text!r}", f"Not an amount: {text!r}")
    fen = value * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise InvalidInput(
            f"金额最多两位小数：{text}", f"An amount has at most two decimals: {text}"
        )
    result = int(fen)
    if result < 0 or (result == 0 and not allow_zero):
        raise InvalidInput(f"金额必须大于零：{text}", f"The amount must be above zero: {text}")
    if result > MAX_AMOUNT_FEN:
        raise InvalidInput(f"金额过大：{text}", f"The amount is too large: {text}")
    return result


def format_fen(fen: int, *, symbol: str = "¥") -> str:
    """Format fen as yuan with two decimals: 12345 -> "¥123.45", -5 -> "-¥0.05"."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{symbol}{whole}.{part:02d}"


def fen_to_yuan_text(fen: int) -> str:
    """Plain yuan text with two decimals, no symbol ("123.45"), for files and JSON."""
    return format_fen(fen, symbol="")
