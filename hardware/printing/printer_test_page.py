"""The printer test page (`pos-app hw print-test`): everything a receipt needs, on one slip.

A person holding it can check at a glance that Chinese prints (not "?" or garbage), that
full-width "￥" and right-aligned columns line up, that both paper widths are right, and
that the QR code and barcode scan.
"""

from __future__ import annotations

from datetime import datetime

from hardware.printing.document import (
    Barcode,
    Block,
    Feed,
    PrintDocument,
    PrinterProfile,
    QrCode,
    Rule,
    TextLine,
)
from hardware.printing.escpos_encoder import left_right


def printer_test_page(profile: PrinterProfile, now: datetime | None = None) -> PrintDocument:
    """A test slip for `profile`: Chinese and English text, aligned amounts, QR and barcode."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    cols = profile.columns
    mode = "图像 image" if profile.image else f"文字 text {profile.encoding.upper()}"
    rows = [
        ("苹果（红富士）3 x ￥6.80", "￥20.40"),
        ("Milk 牛奶 1L", "￥12.80"),
        ("会员折扣 9.5折", "-￥1.67"),
    ]
    blocks: list[Block] = [
        TextLine("打印测试", align="center", bold=True, double=True),
        TextLine("PRINTER TEST", align="center"),
        Rule("="),
        TextLine(f"纸宽 Paper: {profile.paper_mm} mm, {cols} 列 columns"),
        TextLine(f"模式 Mode: {mode}"),
        TextLine(f"时间 Time: {stamp}"),
        Rule(),
        *(TextLine(left_right(left, right, cols, profile.encoding)) for left, right in rows),
        Rule(),
        TextLine(left_right("【应收】Total", "￥31.53", cols, profile.encoding)),
        TextLine("全角标点：，。！？（）【】“”"),
        TextLine("1234567890" * (cols // 10) + "1234567890"[: cols % 10]),
        Feed(1),
        QrCode("POS-TEST-0001"),
        Barcode("POS-TEST-0001"),  # the printer writes the text under the bars itself
        TextLine("中文显示正常即为通过", align="center"),
    ]
    return PrintDocument(blocks=tuple(blocks), title="print-test")
