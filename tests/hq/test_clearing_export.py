"""A clearing statement exported to XLSX (read back with openpyxl) and PDF (its text read
back with poppler's pdftotext): both languages' headings, every store, the check."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from hq.clearing import Statement, StoreLine
from hq.clearing_export import write_pdf, write_xlsx


def line(store_id: int, code: str, name: str, sold: int, redeemed: int) -> StoreLine:
    return StoreLine(
        store_id=store_id,
        store=code,
        name=name,
        stored_value_sold_fen=sold,
        bonus_granted_fen=sold // 10,
        stored_value_redeemed_fen=redeemed,
        stored_value_other_fen=0,
        points_issued=120,
        points_redeemed=100,
        points_other=0,
        points_issued_value_fen=120,
        points_redeemed_value_fen=100,
        points_value_fen=20,
        count_card_sold_fen=40_000,
        count_card_used_fen=4_000,
        net_fen=redeemed - sold - sold // 10,
    )


@pytest.fixture
def statement() -> Statement:
    lines = [
        line(2, "BJ01", "北京王府井店", 100_000, 3_990),
        line(1, "SH01", "上海南京路店 <A&B>", 50_000, 123_456),
    ]
    net = sum(x.net_fen for x in lines)
    return Statement(
        month="2027-01",
        closed=True,
        closed_at="2027-02-01T02:00:00.000000+00:00",
        closed_by="finance",
        lines=lines,
        liability_start_fen=1_000_000,
        liability_end_fen=1_000_000 - net,
        liability_change_fen=-net,
        net_total_fen=net,
        invariant_ok=True,
    )


def test_the_xlsx_holds_every_store_and_the_check(statement: Statement, tmp_path: Path):
    path = tmp_path / "clearing.xlsx"
    write_xlsx(statement, path)
    sheet = load_workbook(path).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "月结算 Monthly clearing 2027-01"
    assert rows[1][:3] == ["门店代码", "门店名称", "储值售出"]
    assert rows[2][:3] == ["Store", "Name", "Stored value sold (fen)"]
    assert rows[1][-1] == "对总部净额" and rows[2][-1] == "Net position vs HQ (fen)"
    bj, sh, total = rows[3], rows[4], rows[5]
    assert bj[:3] == ["BJ01", "北京王府井店", 100_000]
    assert sh[:2] == ["SH01", "上海南京路店 <A&B>"]
    assert sh[4] == 123_456  # stored value redeemed, in fen
    assert total[0] == "合计 Total" and total[-1] == statement.net_total_fen
    figures = {r[1]: r[2] for r in rows[7:] if r and r[0]}
    assert figures["Liability change (fen)"] == statement.liability_change_fen
    assert figures["Invariant holds"] is True
    assert figures["Closed"] is True


def pdf_text(path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils is needed (scripts/install-system-packages installs it)"
    return subprocess.run(
        [pdftotext, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_pdf_reads_in_chinese_and_english(statement: Statement, tmp_path: Path):
    path = tmp_path / "clearing.pdf"
    write_pdf(statement, path)
    assert path.read_bytes()[:5] == b"%PDF-"
    text = pdf_text(path)
    for words in (
        "月结算 Monthly clearing 2027-01",
        "北京王府井店",
        "上海南京路店 <A&B>",
        "储值售出",
        "Stored value",  # headings wrap inside their column
        "Count cards",
        "对总部净额",
        "¥1234.56",  # SH01's stored value redeemed
        "核对：Σ净额 + 负债变动 = 0",
        "正确 OK",
        "已月结 closed",
    ):
        assert words in text, words


def test_a_failed_export_leaves_no_file(statement: Statement, tmp_path: Path):
    target = tmp_path / "missing-folder" / "clearing.xlsx"
    with pytest.raises(FileNotFoundError):
        write_xlsx(statement, target)
    with pytest.raises(FileNotFoundError):
        write_pdf(statement, target.with_suffix(".pdf"))
    assert not target.parent.exists()
