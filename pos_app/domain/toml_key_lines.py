"""Which line of a TOML text holds a key, so a message about `tiers.level[2].upgrade_topup`
can say "line 57": tomllib gives the values but no positions.

The text has already been parsed by tomllib, so it is valid TOML; this scan only has to
follow table headers ([t], [[t]], counting each array of tables), keys (bare, quoted,
dotted) and values that run over several lines (multi-line strings, arrays and inline
tables), skipping comments and whatever is inside strings.

A path is written as the rules parser names settings: dotted keys, and [n] for the n-th
table of an array of tables (from 0): `stored_value.bonus[1].bonus`, `promotion[0].from`.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_INDEX = re.compile(r"\[\d+\]$")


def key_lines(text: str) -> dict[str, int]:
    """Every table and key path of the text with the line (from 1) where it first appears.
    A dotted key (`a.b = 1`) also records its prefixes (`a`)."""
    scanner = _Scanner()
    for number, line in enumerate(text.splitlines(), start=1):
        scanner.line(line, number)
    return scanner.found


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of `path`, or of the nearest enclosing table or key that is in the text (a
    missing key is reported at its table); None when nothing of it is there."""
    while path:
        if path in lines:
            return lines[path]
        # tiers.level[2].code → tiers.level[2] → tiers.level → tiers
        path = _INDEX.sub("", path) if _INDEX.search(path) else path.rpartition(".")[0]
    return None


class _Scanner:
    def __init__(self) -> None:
        self.found: dict[str, int] = {}
        self.table = ""  # the current table's path ("" at the top)
        self.arrays: dict[str, int] = {}  # array-of-tables path -> index of its last table
        self.string: str | None = None  # the delimiter of a multi-line string still open
        self.depth = 0  # open [ and { of a value that continues on the next lines

    def line(self, line: str, number: int) -> None:
        if self.string is not None or self.depth:
            self._value(line, 0)
            return
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return
        if stripped.startswith("[["):
            parts, _ = _key(stripped, 2)
            array = self._resolve(parts)
            self.arrays[array] = self.arrays.get(array, -1) + 1
            self.table = f"{array}[{self.arrays[array]}]"
            self._record(array, number)
            self._record(self.table, number)
        elif stripped.startswith("["):
            parts, _ = _key(stripped, 1)
            self.table = self._resolve(parts, index_last=True)
            self._record(self.table, number)
        else:
            start = len(line) - len(line.lstrip())
            parts, end = _key(line, start)
            path = self.table
            for part in parts:
                path = f"{path}.{part}" if path else part
                self._record(path, number)
            equals = line.find("=", end)
            if equals >= 0:
                self._value(line, equals + 1)

    def _resolve(self, parts: list[str], *, index_last: bool = False) -> str:
        """A header's path, with the index of the current table of every array of tables
        it goes through ([[promotion]] then [promotion.extra] is promotion[0].extra)."""
        path = ""
        for i, part in enumerate(parts):
            path = f"{path}.{part}" if path else part
            last = i == len(parts) - 1
            if path in self.arrays and (index_last or not last):
                path = f"{path}[{self.arrays[path]}]"
        return path

    def _record(self, path: str, number: int) -> None:
        self.found.setdefault(path, number)

    def _value(self, line: str, i: int) -> None:
        """Follow a value from column i: strings, brackets, a trailing comment."""
        n = len(line)
        while i < n:
            if self.string is not None:
                close = self.string
                if close == '"""':
                    i = _end_of_basic(line, i, close)
                else:
                    found = line.find(close, i)
                    i = n + 1 if found < 0 else found + len(close)
                if i > n:
                    return  # the string goes on on the next line
                while i < n and line[i] == close[0]:  # """a"""" ends with a quote in it
                    i += 1
                self.string = None
                continue
            ch = line[i]
            if ch == "#":
                return
            if line.startswith(('"""', "'''"), i):
                self.string = line[i : i + 3]
                i += 3
            elif ch == '"':
                i = _end_of_basic(line, i + 1, '"')
            elif ch == "'":
                found = line.find("'", i + 1)
                i = n if found < 0 else found + 1
            elif ch in "[{":
                self.depth += 1
                i += 1
            elif ch in "]}":
                self.depth -= 1
                i += 1
            else:
                i += 1


def _end_of_basic(line: str, i: int, close: str) -> int:
    """The index just after `close` ending a basic string from column i (backslash escapes
    skipped); len(line) + 1 when it does not end on this line."""
    n = len(line)
    while i < n:
        if line[i] == "\\":
            i += 2
        elif line.startswith(close, i):
            return i + len(close)
        else:
            i += 1
    return n + 1


def _key(line: str, i: int) -> tuple[list[str], int]:
    """The parts of a (dotted) key starting at column i, and the column after it."""
    parts: list[str] = []
    n = len(line)
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i < n and line[i] in "\"'":
            quote = line[i]
            end = _end_of_basic(line, i + 1, '"') if quote == '"' else line.find("'", i + 1) + 1
            parts.append(line[i + 1 : end - 1])
            i = end
        else:
            match = _BARE.match(line, i)
            if match is None:
                break
            parts.append(match[0])
            i = match.end()
        while i < n and line[i] in " \t":
            i += 1
        if i < n and line[i] == ".":
            i += 1
            continue
        break
    return parts, i
