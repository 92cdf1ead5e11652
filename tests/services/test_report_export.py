"""Report files: formula-like text neutralised, amounts exact numbers, and nothing half
written when the writing fails."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from pos_app.domain.errors import InvalidInput
from pos_app.services.report_export import Sheet, export_sheets, yuan_cell

SHEETS = [
    Sheet("会员 Members", ("姓名 Name", "金额 Amount"), [["=HYPERLINK(1)", yuan_cell(-1250)]]),
    Sheet("合计 Total", ("项目", "值"), [["count", 3]]),
]


def test_csv_and_xlsx_neutralise_formulas_and_keep_amounts_exact(tmp_path: Path) -> None:
    text = export_sheets(tmp_path / "r.csv", SHEETS)
    rows = list(csv.reader(text.open(encoding="utf-8-sig")))
    assert ["'=HYPERLINK(1)", "-12.50"] in rows and ["合计 Total"] in rows
    book = load_workbook(export_sheets(tmp_path / "r.xlsx", SHEETS))
    assert book.sheetnames == ["会员 Members", "合计 Total"]
    first = list(book["会员 Members"].iter_rows(values_only=True))
    assert first[1] == ("'=HYPERLINK(1)", -12.5)
    assert yuan_cell(-1250) == Decimal("-12.50")


def test_a_failed_export_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    target.write_text("old", encoding="utf-8")

    def boom(done: int, total: int) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        export_sheets(target, SHEETS, progress=boom)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]


def test_unknown_format_and_missing_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        export_sheets(tmp_path / "r.txt", SHEETS)
    with pytest.raises(InvalidInput):
        export_sheets(tmp_path / "nope" / "r.csv", SHEETS)
