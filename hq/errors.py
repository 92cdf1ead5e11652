"""Refusals of the HQ admin commands, in Chinese and English, with their exit code."""

from __future__ import annotations

REFUSED = 1
INVALID_INPUT = 2


class HqError(Exception):
    """A refusal the caller can act on: `code` for scripts, a message in both languages."""

    exit_code = REFUSED

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.code = code
        self.zh = zh
        self.en = en


class HqInvalidInput(HqError):
    exit_code = INVALID_INPUT

    def __init__(self, zh: str, en: str) -> None:
        super().__init__("invalid_input", zh, en)
