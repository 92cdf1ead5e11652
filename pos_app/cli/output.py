"""Printing results: one JSON object on stdout with `--json`, aligned bilingual rows otherwise.

Only results go to stdout; progress and error messages go to stderr, so `--json` output can
be piped straight into another program.

Nothing printed here writes a raw control character to the terminal: a name that reached
the database with an ESC sequence in it (an old record, a tampered file, a sync from
elsewhere) is shown as the visible text "\\x1b[2J", never obeyed. JSON output escapes
them as \\uXXXX, which any JSON reader turns back into the same string.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime, tzinfo
from typing import Any

import click

from pos_app.domain.card_lifecycle import STATE_NAMES, CardState
from pos_app.domain.control_chars import escape_control_chars
from pos_app.domain.money import format_fen

Row = tuple[str, object]
# json.dumps escapes U+0000-U+001F itself; with ensure_ascii=False it leaves DEL, the C1
# controls (U+009B is a CSI to many terminals), the bidi controls, the line separators and
# lone surrogates (which cannot even be encoded to UTF-8) as they are.
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)


def json_text(data: object) -> str:
    """One JSON document on one line: Chinese kept readable, every control escaped."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def visible(text: object, *, keep: str = "") -> str:
    """Text for a terminal: control characters (except those in `keep`) as visible escapes."""
    return escape_control_chars(str(text), keep=keep)


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters are two columns wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def yuan(fen: int) -> str:
    """An amount for people: ¥123.45."""
    return format_fen(fen)


def card_state_text(state: str) -> str:
    """ "正常 active" for a state code; unknown codes are shown as they are."""
    try:
        zh, en = STATE_NAMES[CardState(state)]
    except ValueError:
        return state
    return f"{zh} {en}"


def local_time(iso_utc: str, tz: tzinfo) -> str:
    """A stored UTC time as the store's local time, to the minute: 2026-03-02 10:00."""
    return datetime.fromisoformat(iso_utc).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def yes_no(value: bool) -> str:
    return "是 yes" if value else "否 no"


class Output:
    """Where and how one invocation prints."""

    def __init__(self, as_json: bool, lang: str) -> None:
        self.as_json = as_json
        self.lang = lang

    def result(
        self,
        data: dict[str, Any],
        rows: Iterable[Row] = (),
        title: str | None = None,
        tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[object]]]] = (),
    ) -> None:
        """Print a command's result: `data` as JSON, or the title, rows and tables for people."""
        if self.as_json:
            click.echo(json_text(data))
            return
        if title:
            click.echo(visible(title))
        self.rows(rows)
        for caption, header, body in tables:
            self.table(caption, header, body)

    def fields(self, result: object, title: str) -> None:
        """Print a result dataclass field by field (for services whose results may grow)."""
        if is_dataclass(result) and not isinstance(result, type):
            data = asdict(result)
        else:
            data = {"result": result}
        rows: list[Row] = []
        for key, value in data.items():
            if isinstance(value, bool):
                text: object = yes_no(value)
            elif isinstance(value, int) and key.endswith("_fen"):
                text = yuan(value)
            elif isinstance(value, list | tuple | dict):
                text = (
                    f"{len(value)} 项 items"
                    if len(value) > 5
                    else json.dumps(value, ensure_ascii=False)
                )
            else:
                text = value
            rows.append((key, text))
        self.result(data, rows, title=title)

    def rows(self, rows: Iterable[Row], indent: str = "  ") -> None:
        rows = [(visible(label), "" if value is None else visible(value)) for label, value in rows]
        if not rows:
            return
        width = max(display_width(label) for label, _ in rows) + 2
        for label, value in rows:
            click.echo(f"{indent}{pad(label, width)}{value}")

    def table(self, caption: str, header: Sequence[str], body: Sequence[Sequence[object]]) -> None:
        if caption:
            click.echo(visible(caption))
        if not body:
            click.echo("  （无 none）")
            return
        header = [visible(h) for h in header]
        cells = [[visible(c) if c is not None else "" for c in row] for row in body]
        widths = [
            max(display_width(h), *(display_width(r[i]) for r in cells)) + 2
            for i, h in enumerate(header)
        ]
        click.echo("  " + "".join(pad(h, w) for h, w in zip(header, widths, strict=True)).rstrip())
        for row in cells:
            click.echo("  " + "".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip())

    def text(self, block: str, *, nl: bool = True) -> None:
        """A block of lines for people on stdout (a receipt, a report), controls escaped."""
        click.echo(visible(block, keep="\n"), nl=nl)

    def note(self, text: str) -> None:
        """A remark for people (stderr), never part of the result."""
        click.echo(visible(text, keep="\n"), err=True)

    def complain(self, message: str) -> None:
        """A refusal's message for people, on stderr."""
        prefix = "Error: " if self.lang.startswith("en") else "错误："
        shown = visible(message, keep="\n")
        click.echo(f"{prefix}{shown}", err=True)

    def error(self, code: str, message: str, *, echo_stderr: bool = True) -> None:
        """A refusal: the message on stderr, and the JSON error object on stdout with --json."""
        if echo_stderr:
            self.complain(message)
        if self.as_json:
            click.echo(json_text({"error": code, "message": message}))
