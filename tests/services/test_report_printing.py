"""Reports laid out for the printer: the paper's columns as a GB printer counts them, the
full-width ￥, the title in bold, the day's shifts and the period's days after the figures."""

from __future__ import annotations

from datetime import date

import pytest

from hardware.printing.document import PrinterProfile, Rule, TextLine
from hardware.printing.escpos_decoder import decode
from hardware.printing.escpos_encoder import encode
from pos_app.domain.sale_request import LineRequest, SaleRequest, TenderRequest
from pos_app.services import reports, shifts
from pos_app.services.checkout import sell
from pos_app.services.report_printing import (
    _printer_lines,
    report_as_text,
    report_heading,
    report_print_document,
)
from tests.conftest import StoreFixture


def printer_columns(text: str) -> int:
    """Columns on a GB18030/GBK printer: ASCII one, every double-byte character two."""
    return sum(1 if ord(ch) < 0x80 else 2 for ch in text)


def _sell_and_close(shop: StoreFixture) -> shifts.ShiftReport:
    request = SaleRequest(lines=(LineRequest("V001", 2),), tenders=(TenderRequest("cash", 10_000),))
    sell(shop.ctx, shop.cashier, request)
    shifts.paid_out(shop.ctx, shop.cashier, 2_000, "买胶带")
    return shifts.close_shift(shop.ctx, shop.cashier, 50_000)


@pytest.mark.parametrize("paper_mm", [58, 80])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_z_report_fits_the_paper_with_full_width_yuan(
    shop: StoreFixture, paper_mm: int, lang: str
) -> None:
    z = _sell_and_close(shop)
    profile = PrinterProfile(paper_mm=paper_mm)
    doc = report_print_document(z, report_heading(shop.ctx, z), profile, lang)
    texts = [b.text for b in doc.blocks if isinstance(b, TextLine) and not b.double]
    assert [t for t in texts if printer_columns(t) > profile.columns] == []
    joined = "\n".join(texts)
    assert "¥" not in joined
    assert "￥500.00" in joined  # the count
    expected_line = next(t for t in texts if ("应有现金" if lang == "zh" else "Expected") in t)
    assert printer_columns(expected_line) == profile.columns, "amounts end on the last column"
    assert any(isinstance(b, Rule) for b in doc.blocks)
    title = doc.blocks[1]
    assert isinstance(title, TextLine) and title.bold
    assert title.text == ("Z 报表（交班）" if lang == "zh" else "Z REPORT (shift close)")
    assert doc.title == f"Z-{z.shift.shift_no}"


def test_the_printed_bytes_read_back_as_the_report(shop: StoreFixture) -> None:
    z = _sell_and_close(shop)
    profile = PrinterProfile(paper_mm=80)
    doc = report_print_document(z, report_heading(shop.ctx, z), profile, "zh")
    printed = decode(encode(doc, profile), "gb18030", columns=48)
    assert "上海南京路店" in printed.text
    assert "Z 报表（交班）" in printed.text
    assert "支出 1 笔" in printed.text and "-￥20.00" in printed.text
    assert printed.cuts == 1


def test_a_day_report_lists_its_shifts_with_over_short(shop: StoreFixture) -> None:
    z = _sell_and_close(shop)
    day = reports.day_end(shop.ctx, shop.manager)
    heading = report_heading(shop.ctx, day)
    assert heading.kind == "day" and heading.closed_by == "manager"
    text = report_as_text(day, heading, 48, "en")
    shifts_part = text.split("Shifts\n", 1)[1]
    assert f"Shift {z.shift.shift_no} cashier" in shifts_part
    assert "closed" in shifts_part
    cash = z.figures.cash
    assert cash.over_short_fen == 50_000 - cash.expected_fen == 640  # ¥6.40 over
    assert "Over (+) / short (-)" in shifts_part and "+¥6.40" in shifts_part
    assert text.endswith("=" * 48 + "\n")


def test_a_period_report_has_a_line_per_day(shop: StoreFixture) -> None:
    _sell_and_close(shop)
    r = reports.range_report(shop.ctx, shop.manager, date(2026, 3, 1), date(2026, 3, 2))
    text = report_as_text(r, report_heading(shop.ctx, r), 32, "zh")
    assert "每日净销售额" in text
    lines = text.splitlines()
    first = next(line for line in lines if "2026-03-01" in line and "笔" in line)
    second = next(line for line in lines if "2026-03-02" in line and "笔" in line)
    assert first.endswith("¥0.00") and "0 笔" in first
    assert "1 笔" in second and not second.endswith("¥0.00")
    doc = report_print_document(r, report_heading(shop.ctx, r), PrinterProfile(paper_mm=58))
    assert doc.title == "range-2026-03-01-2026-03-02"


def test_an_x_report_heading_names_the_open_shift(shop: StoreFixture) -> None:
    x = reports.x_report(shop.ctx, shop.cashier)
    heading = report_heading(shop.ctx, x)
    assert (heading.kind, heading.shift_no, heading.operator) == ("x", 1, "cashier")
    assert heading.period_from.startswith("2026-03-02 10:00")


def test_a_line_with_no_spare_space_breaks_before_its_amount() -> None:
    assert _printer_lines("  Total          ¥1.00", 22) == ["  Total         ￥1.00"]
    tight = "  Abcdefghijklmn ¥12.00"  # 23 columns, one space between label and amount
    assert _printer_lines(tight, 23) == ["  Abcdefghijklmn", " " * 16 + "￥12.00"]
    assert _printer_lines("no amount here", 10) == ["no amount here"]
