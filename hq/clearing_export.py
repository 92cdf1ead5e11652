"""A clearing statement (hq.clearing.Statement) as an XLSX workbook or a PDF, headings in
Chinese and English. Both are written to a temporary file beside the target and moved into
place, so a failed export leaves no half-written file.

XLSX cells hold integer fen and points (a spreadsheet sums them exactly); the PDF shows yuan.
The PDF draws Chinese with the bundled WenQuanYi Micro Hei subset (resources/fonts), since a
server may have no Chinese font of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from hq.clearing import Statement, StoreLine
from pos_app.domain.money import format_fen
from resources import CJK_FONT

_FONT_NAME = "WenQuanYiMicroHei"

# (field, Chinese heading, English heading, is money)
COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("stored_value_sold_fen", "储值售出", "Stored value sold", True),
    ("bonus_granted_fen", "赠送金额", "Bonus granted", True),
    ("stored_value_redeemed_fen", "储值消费", "Stored value redeemed", True),
    ("stored_value_other_fen", "其他储值变动", "Other stored value", True),
    ("points_issued", "积分发放", "Points issued", False),
    ("points_redeemed", "积分兑换", "Points redeemed", False),
    ("points_issued_value_fen", "发放积分价值", "Points issued value", True),
    ("points_redeemed_value_fen", "兑换积分价值", "Points redeemed value", True),
    ("count_card_sold_fen", "次卡售出", "Count cards sold", True),
    ("count_card_used_fen", "次卡使用", "Count cards used", True),
    ("net_fen", "对总部净额", "Net position vs HQ", True),
)


def _summary(statement: Statement) -> list[tuple[str, str, str]]:
    """(Chinese label, English label, value) lines printed under the table."""
    closed = (
        f"已月结 closed {statement.closed_at} ({statement.closed_by})"
        if statement.closed
        else "未月结 open"
    )
    return [
        ("状态", "Status", closed),
        ("期初储值负债", "Liability at start", format_fen(statement.liability_start_fen)),
        ("期末储值负债", "Liability at end", format_fen(statement.liability_end_fen)),
        ("负债变动", "Liability change", format_fen(statement.liability_change_fen)),
        ("各店净额合计", "Σ net positions", format_fen(statement.net_total_fen)),
        (
            "核对：Σ净额 + 负债变动 = 0",
            "Check: Σ net + liability change = 0",
            "正确 OK" if statement.invariant_ok else "不平 FAILED",
        ),
    ]


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# -- XLSX ---------------------------------------------------------------------------------------


def write_xlsx(statement: Statement, path: str | Path) -> None:
    _atomic(Path(path), lambda tmp: _xlsx(statement, tmp))


def _xlsx(statement: Statement, tmp: Path) -> None:
    # Imported here: openpyxl takes a while to load and most runs never export.
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    sheet.title = f"月结算 {statement.month}"
    sheet.append([f"月结算 Monthly clearing {statement.month}"])
    sheet.append(["门店代码", "门店名称", *(zh for _, zh, _, _ in COLUMNS)])
    sheet.append(
        ["Store", "Name", *(f"{en} (fen)" if money else en for _, _, en, money in COLUMNS)]
    )
    for line in statement.lines:
        sheet.append([line.store, line.name, *(getattr(line, name) for name, *_ in COLUMNS)])
    sheet.append(
        [
            "合计 Total",
            "",
            *(sum(getattr(line, name) for line in statement.lines) for name, *_ in COLUMNS),
        ]
    )
    sheet.append([])
    figures: list[tuple[str, str, Any]] = [
        ("期初储值负债", "Liability at start (fen)", statement.liability_start_fen),
        ("期末储值负债", "Liability at end (fen)", statement.liability_end_fen),
        ("负债变动", "Liability change (fen)", statement.liability_change_fen),
        ("全连锁净额合计", "Σ net positions, whole chain (fen)", statement.net_total_fen),
        ("核对通过", "Invariant holds", statement.invariant_ok),
        ("已月结", "Closed", statement.closed),
    ]
    for zh, en, value in figures:
        sheet.append([zh, en, value])
    sheet.column_dimensions["B"].width = 18
    book.save(str(tmp))


# -- PDF ----------------------------------------------------------------------------------------


def write_pdf(statement: Statement, path: str | Path) -> None:
    _atomic(Path(path), lambda tmp: _pdf(statement, tmp))


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
    from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]

    if _FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_FONT_NAME, str(CJK_FONT)))


def _cell(line: StoreLine, name: str, money: bool) -> str:
    value = int(getattr(line, name))
    return format_fen(value) if money else str(value)


def _pdf(statement: Statement, tmp: Path) -> None:
    # Imported here: only an export needs reportlab.
    from reportlab.lib import colors  # type: ignore[import-untyped]
    from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
    from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
    from reportlab.lib.units import mm  # type: ignore[import-untyped]
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # type: ignore[import-untyped]

    _register_font()
    title = ParagraphStyle("title", fontName=_FONT_NAME, fontSize=14, leading=18)
    body = ParagraphStyle("body", fontName=_FONT_NAME, fontSize=9, leading=12)
    head = ParagraphStyle("head", fontName=_FONT_NAME, fontSize=7, leading=9)
    cell = ParagraphStyle("cell", fontName=_FONT_NAME, fontSize=7, leading=9)
    header = [Paragraph("门店<br/>Store", head)] + [
        Paragraph(f"{zh}<br/>{en}", head) for _, zh, en, _ in COLUMNS
    ]
    rows: list[list[Any]] = [header]
    for line in statement.lines:
        rows.append(
            [Paragraph(f"{escape(line.store)}<br/>{escape(line.name)}", cell)]
            + [_cell(line, name, money) for name, _, _, money in COLUMNS]
        )
    rows.append(
        ["合计 Total"]
        + [
            (format_fen(total) if money else str(total))
            for name, _, _, money in COLUMNS
            for total in (sum(int(getattr(line, name)) for line in statement.lines),)
        ]
    )
    # The store column is wide enough for a store's name on one line; figures share the rest.
    width = landscape(A4)[0] - 20 * mm
    store_width = 40 * mm
    figure_width = (width - store_width) / len(COLUMNS)
    table = Table(rows, colWidths=[store_width] + [figure_width] * len(COLUMNS), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), _FONT_NAME, 7),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("BACKGROUND", (0, -1), (-1, -1), colors.whitesmoke),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story: list[Any] = [
        Paragraph(f"月结算 Monthly clearing {statement.month}", title),
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 6 * mm),
    ]
    for zh, en, value in _summary(statement):
        story.append(Paragraph(f"{zh} {en}: {value}", body))
    document = SimpleDocTemplate(
        str(tmp),
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Clearing {statement.month}",
    )
    document.build(story)
