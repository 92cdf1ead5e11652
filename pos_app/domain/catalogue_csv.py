"""A catalogue CSV file's bytes as cells: the till's product import and HQ's chain catalogue
read the same files (UTF-8 with or without a BOM, or GB18030 as Chinese Excel saves it;
comma- or tab-separated), so both parse them here."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from pos_app.domain.catalogue import Cell
from pos_app.domain.errors import InvalidInput

Rows = list[tuple[int, list[Cell]]]
PROGRESS_EVERY = 5_000  # rows read between progress calls


def parse_catalogue_csv(
    data: bytes, progress: Callable[[int], None] | None = None, every: int = PROGRESS_EVERY
) -> tuple[list[Cell] | None, Rows]:
    """The header (None for an empty file) and the data rows as (row number, cells), the
    header being row 1 as in a spreadsheet. `progress(rows_read)` every `every` rows."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # what Chinese Excel writes for "CSV (逗号分隔)"
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidInput(
                "文件编码无法识别（请在 Excel 中另存为“CSV UTF-8”）",
                "Cannot read the file's encoding (save it as “CSV UTF-8” from Excel)",
            ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[Cell] | None = None
    rows: Rows = []
    try:
        for n, record in enumerate(reader, start=1):
            if n == 1:
                header = list(record)
                continue
            rows.append((n, list(record)))
            if progress and n % every == 0:
                progress(n - 1)
    except csv.Error as exc:
        raise InvalidInput(
            f"CSV 格式错误（第 {reader.line_num} 行）：{exc}",
            f"Not a valid CSV file (line {reader.line_num}): {exc}",
        ) from None
    return header, rows
