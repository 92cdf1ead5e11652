"""Member profile rules: mobile numbers, names, masking (PRODUCT §1)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from pos_app.domain.control_chars import refuse_control_chars
from pos_app.domain.errors import InvalidInput

# Mainland mobile numbers: 11 ASCII digits starting 13–19 (\d would also take fullwidth or
# other scripts' digits, storing the same number under a second spelling).
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def normalize_mobile(text: str) -> str:
    """Accept "138 0013 8000", "+86 13800138000", "138-0013-8000"; refuse anything else."""
    # NFKC turns fullwidth digits and ＋ typed through a Chinese IME into ASCII.
    digits = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text).strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not _MOBILE.fullmatch(digits):
        raise InvalidInput(
            f"手机号不正确：{text}（应为 11 位，以 13–19 开头）",
            f"Not a mainland mobile number: {text} (11 digits starting 13–19)",
        )
    return digits


def mask_mobile(mobile: str) -> str:
    """138****1234: what a cashier sees unless their role allows more."""
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) == 11 else "****"


def check_name(name: str) -> str:
    """A member's name, trimmed: 1 to 40 characters, no control characters."""
    name = refuse_control_chars(name.strip(), "姓名", "name")
    if not name or len(name) > 40:
        raise InvalidInput("姓名不能为空，且不超过 40 个字", "A name is 1 to 40 characters")
    return name


# Optional profile fields: (Chinese name, English name, most characters: the member row's
# column width; notes are a TEXT column, bounded so one record stays readable).
PROFILE_FIELDS = {
    "email": ("邮箱", "email", 120),
    "address": ("地址", "address", 200),
    "notes": ("备注", "notes", 2000),
}


def check_profile_text(field: str, text: str) -> str | None:
    """An optional profile field (email, address, notes) trimmed, None when empty; refused
    with control characters (notes may have several lines) or beyond its length."""
    zh, en, limit = PROFILE_FIELDS[field]
    value = refuse_control_chars(text.strip(), zh, en, multiline=field == "notes")
    if len(value) > limit:
        raise InvalidInput(
            f"{zh}太长（最多 {limit} 个字）", f"The {en} is too long (at most {limit} characters)"
        )
    return value or None


def parse_birthday(text: str, today: date) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"生日格式不正确：{text}（YYYY-MM-DD）", f"Not a date: {text} (YYYY-MM-DD)"
        ) from None
    if day > today or day.year < 1900:
        raise InvalidInput(f"生日不合理：{text}", f"Not a plausible birthday: {text}")
    return day


def check_card_no(card_no: str) -> str:
    card_no = card_no.strip()
    if not re.fullmatch(r"[0-9A-Za-z]{4,32}", card_no):
        raise InvalidInput(
            f"卡号不正确：{card_no!r}（4–32 位字母或数字）",
            f"Not a card number: {card_no!r} (4–32 letters or digits)",
        )
    return card_no.upper()
