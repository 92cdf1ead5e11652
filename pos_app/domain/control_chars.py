"""Control characters in text: refused where people type names and reasons, and shown as
harmless visible escapes wherever text is printed for people.

A name with ESC in it can repaint a cashier's terminal (ESC [2J, a fake prompt), a bidi
override (U+202E) makes "gnp.exe" read as "exe.png" on a receipt or a report, a NUL or CR
cuts a line short on a printer or in a CSV file, and a lone surrogate (what an undecodable
byte in a command-line argument becomes) cannot be written to the database or a UTF-8
terminal at all. None of them belongs in a member's name, a product name or a reason.
"""

from __future__ import annotations

import re

from pos_app.domain.errors import InvalidInput

# C0 controls (NUL … US, incl. TAB, LF, CR, ESC), DEL and the C1 controls (incl. CSI U+009B);
# the Unicode bidi marks, embeddings, overrides and isolates; the line and paragraph
# separators; lone surrogates.
_CONTROL_CLASS = (
    "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
)
_CONTROL = re.compile(f"[{_CONTROL_CLASS}]")
# Notes may have several lines (and tabs); every other control is still refused there.
_MULTILINE_ALLOWED = frozenset("\n\t")
SHOWN_CHARS = 40  # how much of a refused input a message repeats


def has_control_chars(text: str, *, multiline: bool = False) -> bool:
    """Whether `text` holds a character `refuse_control_chars` would refuse."""
    if multiline:
        return any(ch not in _MULTILINE_ALLOWED for ch in _CONTROL.findall(text))
    return _CONTROL.search(text) is not None


def refuse_control_chars(text: str, what_zh: str, what_en: str, *, multiline: bool = False) -> str:
    """`text` unchanged if it holds no control character, else InvalidInput naming the field
    (`what_zh`/`what_en`, e.g. "姓名"/"name") and the first offending character.

    Single-line text (names, reasons, labels) takes no TAB, LF or CR either; with
    `multiline` (notes) LF and TAB are allowed and a Windows CR LF counts as LF."""
    checked = text.replace("\r\n", "\n") if multiline else text
    for ch in _CONTROL.findall(checked):
        if multiline and ch in _MULTILINE_ALLOWED:
            continue
        code = _escape(ch)
        raise InvalidInput(
            f"{what_zh}不能包含控制字符（{code}）：{shown(text)}",
            f"The {what_en} cannot contain control characters ({code}): {shown(text)}",
        )
    return checked


def escape_control_chars(text: str, *, keep: str = "") -> str:
    """`text` with every control character written as a visible escape (ESC → the four
    characters "\\x1b", U+202E → "\\u202e"), so printing it to a terminal shows what is
    there instead of obeying it. Characters in `keep` (e.g. "\\n" for a receipt) stay."""
    return _CONTROL.sub(lambda m: m[0] if m[0] in keep else _escape(m[0]), text)


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` as a message may repeat it: controls escaped, and cut to `limit` characters
    (a pasted megabyte or a wall of digits is not worth echoing in full)."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return escape_control_chars(text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
