"""Numbers as people type them: which digits count, and whole numbers (quantities, counts,
days, points) read strictly.

Only ASCII digits and their fullwidth forms (０–９, what a Chinese input method types) are
digits here. Python's own `int()` and `Decimal()` also take Arabic-Indic, Devanagari and
other scripts' digits, "_" between digits, signs and surrounding whitespace of any kind, and
`str.isdigit()` is true for "²" although `int("²")` fails; none of that is a number a
cashier meant, so nothing here relies on them.
"""

from __future__ import annotations

import re

from pos_app.domain.control_chars import shown
from pos_app.domain.errors import InvalidInput

# Fullwidth digits, point and comma: a Chinese IME in full-width mode types these.
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
_WHOLE = re.compile(r"[0-9]+")  # [0-9], not \d: \d matches every script's digits
# More digits than this is no count anyone means; checked before int() so that a pasted
# wall of digits never reaches Python's int-from-string limit (4300 digits).
_MAX_DIGITS = 18


def ascii_numerals(text: str) -> str:
    """`text` with fullwidth digits, point and comma turned into ASCII; nothing else changes."""
    return text.translate(_FULLWIDTH)


def parse_whole_number(
    text: str | int,
    *,
    minimum: int,
    maximum: int,
    what_zh: str,
    what_en: str,
) -> int:
    """A whole number from minimum to maximum, typed as ASCII or fullwidth digits with optional
    surrounding whitespace; no sign, exponent, "_", inner spaces or other scripts' digits.
    `what_zh`/`what_en` name the field in the message ("数量", "quantity")."""
    if isinstance(text, bool):  # bool is an int subclass: True is not a count
        text = str(text)
    raw = str(text)
    cleaned = ascii_numerals(raw.strip())
    if not _WHOLE.fullmatch(cleaned):
        raise InvalidInput(
            f"{what_zh}必须是 {minimum} 到 {maximum} 的整数：{shown(raw)}",
            f"The {what_en} must be a whole number from {minimum} to {maximum}: {shown(raw)}",
        )
    digits = cleaned.lstrip("0") or "0"
    value = int(digits) if len(digits) <= _MAX_DIGITS else maximum + 1
    if not minimum <= value <= maximum:
        raise InvalidInput(
            f"{what_zh}必须在 {minimum} 到 {maximum} 之间：{shown(raw)}",
            f"The {what_en} must be from {minimum} to {maximum}: {shown(raw)}",
        )
    return value
