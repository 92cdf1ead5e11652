"""Image mode: the receipt drawn with the bundled CJK font and sent as raster only."""

from __future__ import annotations

import math

import pytest
from PIL import Image, ImageChops

from hardware.printing.document import (
    Barcode,
    Feed,
    PrintDocument,
    PrinterProfile,
    QrCode,
    Rule,
    TextLine,
)
from hardware.printing.escpos_decoder import decode
from hardware.printing.escpos_encoder import RASTER_BAND_ROWS, encode, left_right
from hardware.printing.receipt_image import (
    CELL_DOTS,
    LINE_DOTS,
    barcode_modules,
    qr_image,
    render_image,
)


def _doc(*blocks: object) -> PrintDocument:
    return PrintDocument(blocks=tuple(blocks))  # type: ignore[arg-type]


def _ink_columns(img: Image.Image, top: int, bottom: int) -> tuple[int, int] | None:
    """Leftmost and rightmost x with a black dot between rows top..bottom."""
    band = img.crop((0, top, img.width, bottom)).convert("L")
    box = ImageChops.invert(band).getbbox()
    return None if box is None else (box[0], box[2])


RECEIPT = _doc(
    TextLine("上海南京路店", align="center", bold=True, double=True),
    Rule(),
    TextLine("苹果（红富士）× 3"),
    TextLine("￥20.40", align="right"),
    Feed(1),
    QrCode("SH01-20261123-0042", size=4),
    Barcode("202611230042"),
)


@pytest.mark.parametrize(("paper", "dots"), [(58, 384), (80, 576)])
def test_render_is_one_bit_and_as_wide_as_the_paper(paper: int, dots: int) -> None:
    img = render_image(RECEIPT, PrinterProfile(paper, "gbk", image=True))
    assert img.mode == "1" and img.width == dots
    title = _ink_columns(img, 0, 2 * LINE_DOTS)
    assert title is not None  # the title is drawn
    left, right = title
    assert abs((left + right) / 2 - dots / 2) <= CELL_DOTS  # and centred
    feed_top = 2 * LINE_DOTS + 3 * LINE_DOTS
    assert _ink_columns(img, feed_top, feed_top + LINE_DOTS) is None  # Feed is blank


def test_text_sits_on_the_printer_column_grid() -> None:
    profile = PrinterProfile(80, "gbk", image=True)
    img = render_image(_doc(TextLine("汉" * 24), TextLine("汉a"), TextLine("a汉")), profile)

    def ink(row: int, left: int, right: int) -> tuple[int, int] | None:
        part = img.crop((left, 0, right, img.height))
        found = _ink_columns(part, row * LINE_DOTS, (row + 1) * LINE_DOTS)
        return None if found is None else (found[0] + left, found[1] + left)

    full = ink(0, 0, 576)
    assert full is not None and full[0] < 4 and full[1] > 572  # 24 Chinese = 576 dots
    # "汉a": the Chinese character in cells 1–2 (dots 0–23), "a" in cell 3 (24–35)
    assert ink(1, 0, 24) is not None and ink(1, 24, 36) is not None
    assert ink(1, 36, 576) is None
    # "a汉": "a" in cell 1, the Chinese character in cells 2–3
    assert ink(2, 0, 12) is not None and ink(2, 12, 36) is not None
    assert ink(2, 36, 576) is None


@pytest.mark.parametrize("paper", [58, 80])
def test_right_aligned_amount_ends_at_the_paper_edge(paper: int) -> None:
    profile = PrinterProfile(paper, "gb18030", image=True)
    line = left_right("苹果（红富士）", "￥20.40", profile.columns, "gb18030")
    img = render_image(_doc(TextLine(line), TextLine("￥12.80", align="right")), profile)
    for row in (0, 1):
        ink = _ink_columns(img, row * LINE_DOTS, (row + 1) * LINE_DOTS)
        assert ink is not None and profile.dots - 12 <= ink[1] <= profile.dots


def test_qr_code_is_drawn_module_for_module() -> None:
    profile = PrinterProfile(80, "gbk", image=True)
    img = render_image(_doc(QrCode("SH01-0001", size=5)), profile)
    expected = qr_image("SH01-0001", 5)
    assert img.size == (576, expected.height)
    x = (576 - expected.width) // 2
    drawn = img.crop((x, 0, x + expected.width, expected.height)).convert("L")
    assert ImageChops.difference(drawn, expected).getbbox() is None


def test_barcode_bars_follow_the_code128_pattern() -> None:
    profile = PrinterProfile(80, "gbk", image=True)
    img = render_image(_doc(Barcode("SH01-0001", height=40)), profile)
    pattern = barcode_modules("SH01-0001", "CODE128")
    assert pattern is not None
    row = img.crop((0, 20, 576, 21)).convert("L")
    left, right = _ink_columns(row, 0, 1) or (0, 0)
    width = 3 if len(pattern) * 3 <= 576 else 2
    assert right - left == len(pattern.rstrip("0")) * width - pattern.index("1") * width
    bits = "".join("1" if row.getpixel((x, 0)) == 0 else "0" for x in range(left, right, width))
    assert bits == pattern.strip("0")
    assert _ink_columns(img, 40, 40 + LINE_DOTS) is not None  # the number under the bars


@pytest.mark.parametrize(("paper", "dots"), [(58, 384), (80, 576)])
def test_image_mode_sends_no_text_bytes_only_the_picture(paper: int, dots: int) -> None:
    profile = PrinterProfile(paper, "gbk", image=True)
    data = encode(RECEIPT, profile)
    assert b"\x1c&" not in data and "店".encode("gbk") not in data
    rendered = render_image(RECEIPT, profile)
    assert data.count(b"\x1dv0") == math.ceil(rendered.height / RASTER_BAND_ROWS)
    decoded = decode(data, "gbk")
    assert all(line == "" for line in decoded.lines)  # only the feed before the cut
    assert decoded.qr_codes == [] and decoded.barcodes == [] and decoded.cuts == 1
    assert len(decoded.images) == 1  # the bands join back into one picture
    printed = decoded.images[0]
    assert printed.size == (dots, rendered.height)
    assert ImageChops.difference(printed.convert("L"), rendered.convert("L")).getbbox() is None


def test_image_mode_works_with_every_encoding() -> None:
    for encoding in ("gb18030", "gbk", "big5", "utf-8"):
        profile = PrinterProfile(58, encoding, image=True)  # type: ignore[arg-type]
        decoded = decode(encode(_doc(TextLine("合计 ￥1")), profile), encoding)
        assert len(decoded.images) == 1
        ink = _ink_columns(decoded.images[0], 0, LINE_DOTS)
        assert ink is not None and ink[0] < 4
