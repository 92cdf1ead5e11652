"""Errors a person can cause, each with a stable code and a message in Chinese and English.

Services raise these before anything is written, so a refused operation leaves no trace
(except where a refusal is itself a fact worth keeping, such as a wrong PIN try).
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused or invalid operation, explained to the person who asked for it."""

    code = "invalid"

    def __init__(self, zh: str, en: str, *, code: str | None = None) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        if code is not None:
            self.code = code

    def message(self, lang: str = "zh") -> str:
        """The message in the given language ("zh" or "en")."""
        return self.en if lang.startswith("en") else self.zh


class InvalidInput(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class AlreadyExists(DomainError):
    code = "already_exists"


class PermissionDenied(DomainError):
    code = "permission_denied"


class AuthenticationFailed(DomainError):
    code = "authentication_failed"


class SignInLocked(AuthenticationFailed):
    """Too many wrong passwords: the login is refused, right password or not, for a while."""

    code = "sign_in_locked"


class ApprovalRequired(DomainError):
    code = "approval_required"


class CardStateError(DomainError):
    code = "card_state"


class PinRequired(DomainError):
    code = "pin_required"


class WrongPin(DomainError):
    code = "wrong_pin"


class PinLocked(DomainError):
    code = "pin_locked"


class InsufficientBalance(DomainError):
    code = "insufficient_balance"


class LimitExceeded(DomainError):
    code = "limit_exceeded"


class RulesError(DomainError):
    code = "rules_invalid"


class NotInitialized(DomainError):
    code = "not_initialized"


class ShiftRequired(DomainError):
    """Money moves only inside the acting operator's own open shift (交班 accountability)."""

    code = "shift_required"


class ShiftHeldByOther(ShiftRequired):
    """The till's drawer is another cashier's: they (or whoever takes over) must hand over
    with a count before this operator opens their own shift."""

    code = "shift_held_by_other"

    def __init__(self, zh: str, en: str, *, shift_no: int, holder: str) -> None:
        super().__init__(zh, en)
        self.shift_no = shift_no
        self.holder = holder
