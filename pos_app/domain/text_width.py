"""Text measured in printer columns, where a Chinese character takes two.

A receipt printer (and a terminal) prints East Asian Wide and Fullwidth characters in two
columns, combining marks on top of the previous character, everything else in one. Python's
`len` counts code points, so a receipt laid out with `len` and `str.ljust` comes out ragged
as soon as a product name is Chinese; everything here counts columns instead.

Ambiguous-width characters ("…", "×", "·") count as one column here, as in a Latin terminal.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
_ZERO_WIDTH_CATEGORIES = frozenset({"Mn", "Me", "Cf", "Cc"})


def char_width(ch: str) -> int:
    """Columns one character takes: 2 for wide/fullwidth, 0 for marks and controls, else 1."""
    if unicodedata.category(ch) in _ZERO_WIDTH_CATEGORIES or unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns a string takes on a receipt printer or terminal."""
    return sum(char_width(ch) for ch in text)


def _prefix(text: str, width: int) -> str:
    """The longest start of `text` within `width` columns, never splitting a wide character
    and keeping any combining marks with the character they belong to."""
    used = 0
    for i, ch in enumerate(text):
        w = char_width(ch)
        if used + w > width:
            return text[:i]
        used += w
    return text


def fit(text: str, width: int) -> str:
    """`text` cut to at most `width` columns; a cut is marked with "…" when there is room."""
    if display_width(text) <= width:
        return text
    if width < display_width(ELLIPSIS):
        return _prefix(text, max(width, 0))
    return _prefix(text, width - display_width(ELLIPSIS)).rstrip() + ELLIPSIS


def pad_right(text: str, width: int) -> str:
    """`text` followed by spaces up to `width` columns (never cut: use `fit` first)."""
    return text + " " * max(0, width - display_width(text))


def pad_left(text: str, width: int) -> str:
    """Spaces then `text`, so it ends on column `width` (never cut: use `fit` first)."""
    return " " * max(0, width - display_width(text)) + text


def center(text: str, width: int) -> str:
    """`text` centred in `width` columns, without trailing spaces (never cut)."""
    return " " * max(0, (width - display_width(text)) // 2) + text


def _tokens(paragraph: str) -> list[str]:
    """Split into the pieces a line may break between: a run of whitespace (" "), each wide
    character on its own (Chinese breaks between any two characters), and each run of
    narrow characters (a Latin word, a number, a price), which stays whole if it can."""
    tokens: list[str] = []
    word = ""
    for ch in paragraph:
        if ch.isspace():
            if word:
                tokens.append(word)
                word = ""
            if not tokens or tokens[-1] != " ":
                tokens.append(" ")
        elif char_width(ch) == 2:
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        elif char_width(ch) == 0 and not word and tokens and tokens[-1] != " ":
            tokens[-1] += ch  # a mark on a wide character stays with it
        else:
            word += ch
    if word:
        tokens.append(word)
    return tokens


def _wrap_paragraph(paragraph: str, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    space = False  # a space is owed between `line` and the next token
    for token in _tokens(paragraph):
        if token == " ":
            space = bool(line)
            continue
        gap = " " if space else ""
        space = False
        if display_width(line + gap + token) <= width:
            line += gap + token
            continue
        if line:
            lines.append(line)
        line = token
        while display_width(line) > width:  # a word longer than a whole line: cut it
            head = _prefix(line, width)
            lines.append(head)
            line = line[len(head) :]
    lines.append(line)
    return lines


def wrap(text: str, width: int) -> list[str]:
    """`text` broken into lines of at most `width` columns.

    Latin text breaks at spaces (a word longer than a line is cut); Chinese text breaks
    between any two characters. Runs of spaces become one; a newline starts a new line.
    Always at least one line (an empty string gives [""]).
    """
    if width < 2:
        raise ValueError(f"wrap needs at least 2 columns (a wide character), got {width}")
    return [line for paragraph in text.split("\n") for line in _wrap_paragraph(paragraph, width)]
