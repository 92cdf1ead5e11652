"""The reason a person gives for an act that needs one (cash paid out, the drawer opened, a
verify problem acknowledged): required, one line without control characters, not too long.
It goes into the ledger or the audit trail as typed, so it is checked the same everywhere."""

from __future__ import annotations

from pos_app.domain.control_chars import refuse_control_chars
from pos_app.domain.errors import InvalidInput


def check_reason(text: str, max_chars: int, what_zh: str = "原因", what_en: str = "reason") -> str:
    """The reason, trimmed; refused if empty, longer than `max_chars` or holding control
    characters."""
    reason = refuse_control_chars(text.strip(), what_zh, what_en)
    if not reason:
        raise InvalidInput(f"请填写{what_zh}", f"Give a {what_en}")
    if len(reason) > max_chars:
        raise InvalidInput(
            f"{what_zh}太长（最多 {max_chars} 字）",
            f"The {what_en} is too long (at most {max_chars} characters)",
        )
    return reason
