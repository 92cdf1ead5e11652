"""Reports written to a file a spreadsheet opens: CSV (UTF-8 with BOM, so Excel shows the
Chinese) or XLSX, one table per sheet.

Every text cell goes through `export_cells.neutralise_formula`, so a member's name cannot
become a formula on the manager's machine. The file is written beside its destination under
a temporary name and renamed into place, so a failure (a full disk, a cancel) leaves the
old file or nothing, never half a report.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pos_app.domain.errors import InvalidInput
from pos_app.domain.export_cells import Cell, neutralise_formula

# Amounts go out as exact yuan (Decimal: a number in the spreadsheet, never a float).
ExportCell = Cell | Decimal

FORMATS = ("csv", "xlsx")
MAX_SHEET_TITLE = 31  # Excel's limit


@dataclass(frozen=True)
class Sheet:
    """One table of a report: a title, a header row and the rows (amounts as yuan numbers)."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[ExportCell]]


def yuan_cell(fen: int | None) -> Decimal | None:
    """An amount in fen as exact yuan for a spreadsheet cell (12.50, not 12.5000001)."""
    return None if fen is None else Decimal(fen).scaleb(-2)


def export_row(values: Sequence[ExportCell] | Sequence[str]) -> list[ExportCell]:
    """A row as written: text that looks like a formula neutralised, numbers as they are."""
    return [v if isinstance(v, Decimal) else neutralise_formula(v) for v in values]


def format_of(path: Path, wanted: str | None = None) -> str:
    """The format to write: the one asked for, or the file's suffix."""
    fmt = (wanted or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InvalidInput(
            f"导出文件须为 .csv 或 .xlsx：{path.name}",
            f"An export is a .csv or .xlsx file: {path.name}",
        )
    return fmt


def export_sheets(
    path: Path,
    sheets: Sequence[Sheet],
    fmt: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the sheets to `path` atomically; `progress(rows_done, rows_total)` is called as
    rows are written (for a progress bar on a long journal)."""
    fmt = format_of(path, fmt)
    path = path.expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInput(f"文件夹不存在：{folder}", f"No such folder: {folder}")
    total = sum(len(sh.rows) for sh in sheets)
    report = progress or (lambda done, total: None)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if fmt == "csv":
            _write_csv(tmp, sheets, total, report)
        else:
            _write_xlsx(tmp, sheets, total, report)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _write_csv(
    tmp: Path, sheets: Sequence[Sheet], total: int, report: Callable[[int, int], None]
) -> None:
    done = 0
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        for i, sheet in enumerate(sheets):
            if len(sheets) > 1:
                if i:
                    writer.writerow([])
                writer.writerow(export_row([sheet.title]))
            writer.writerow(export_row(sheet.header))
            for row in sheet.rows:
                writer.writerow(export_row(row))
                done += 1
                if done % 1000 == 0:
                    report(done, total)
    report(done, total)


def _write_xlsx(
    tmp: Path, sheets: Sequence[Sheet], total: int, report: Callable[[int, int], None]
) -> None:
    # Imported here: openpyxl takes a while to load and most runs never export.
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    done = 0
    used: set[str] = set()
    for n, sheet in enumerate(sheets, 1):
        ws = book.create_sheet(_sheet_title(sheet.title, n, used))
        ws.append(export_row(sheet.header))
        for row in sheet.rows:
            ws.append(export_row(row))
            done += 1
            if done % 1000 == 0:
                report(done, total)
    if not sheets:
        book.create_sheet("-")
    book.save(str(tmp))
    report(done, total)


def _sheet_title(title: str, n: int, used: set[str]) -> str:
    # Excel refuses []:*?/\ in a sheet name, and names must differ.
    clean = "".join(" " if c in "[]:*?/\\" else c for c in title).strip() or f"Sheet{n}"
    clean = clean[:MAX_SHEET_TITLE]
    if clean in used:
        clean = f"{clean[: MAX_SHEET_TITLE - 4]} ({n})"
    used.add(clean)
    return clean
