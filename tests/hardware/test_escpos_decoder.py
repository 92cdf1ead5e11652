"""The ESC/POS decoder: python-escpos output, images, odd input, PNGs of decoded receipts.

Run as a script to regenerate the sample PNGs under docs/:
    .venv/bin/python -m tests.hardware.test_escpos_decoder
"""

from __future__ import annotations

from pathlib import Path

import pytest
from escpos.printer import Dummy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

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
from hardware.printing.escpos_decoder import PrintedLine, decode
from hardware.printing.escpos_encoder import (
    drawer_kick,
    encode,
    layout_text,
    left_right,
    rule_text,
    status_query,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"


def sample_receipt(profile: PrinterProfile) -> PrintDocument:
    """A realistic Chinese receipt (store, goods, member block, QR) laid out for `profile`."""
    cols, enc = profile.columns, profile.encoding
    goods = [
        ("光明鲜牛奶 950ml", 2, "12.80"),
        ("农夫山泉 550ml", 6, "2.00"),
        ("三只松鼠每日坚果", 1, "59.90"),
        ("苹果（红富士）1.25kg", 1, "16.25"),
    ]
    blocks: list[Block] = [
        TextLine("上海南京路店", align="center", bold=True, double=True),
        TextLine("南京东路 800 号", align="center"),
        TextLine("电话 021-6322 0000", align="center"),
        Rule("="),
        TextLine("小票号：SH01-20261123-0042"),
        TextLine(left_right("收银员：王芳", "2026-11-23 14:32", cols, enc)),
        Rule(),
    ]
    for name, qty, price in goods:
        amount = f"￥{qty * float(price):.2f}"
        if cols >= 48:
            blocks.append(TextLine(left_right(name, f"{qty} × ￥{price}   {amount:>8}", cols, enc)))
        else:
            blocks.append(TextLine(name))
            blocks.append(TextLine(left_right(f"  {qty} × ￥{price}", amount, cols, enc)))
    blocks += [
        Rule(),
        TextLine(left_right("件数 10   合计", "￥113.75", cols, enc)),
        TextLine(left_right("会员折扣 9.5折", "-￥5.69", cols, enc)),
        TextLine(left_right("应收", "￥108.06", cols // 2, enc), bold=True, double=True),
        TextLine(left_right("微信支付", "￥108.06", cols, enc)),
        Rule(),
        TextLine("【会员】", bold=True),
        TextLine(left_right("会员卡号", "6225 **** **** 8842", cols, enc)),
        TextLine(left_right("会员等级", "金卡", cols, enc)),
        TextLine(left_right("本次积分 / 积分余额", "+108 / 2,456", cols, enc)),
        TextLine(left_right("储值余额", "￥356.00", cols, enc)),
        Rule(),
        TextLine("谢谢惠顾，欢迎再次光临！", align="center"),
        Feed(1),
        QrCode("SH01-20261123-0042", size=5),
        TextLine("扫码查看电子小票 / 开发票", align="center"),
        Barcode("202611230042", height=60),
    ]
    return PrintDocument(blocks=tuple(blocks), title="SH01-20261123-0042")


def write_sample_pngs(directory: Path) -> list[Path]:
    """Encode, decode and draw the sample receipt for 80 and 58 mm into `directory`."""
    paths = []
    for paper in (80, 58):
        profile = PrinterProfile(paper, "gb18030")
        data = encode(sample_receipt(profile), profile)
        path = directory / f"receipt-sample-{paper}mm.png"
        decode(data, profile.encoding, columns=profile.columns).to_png(path, dots=profile.dots)
        paths.append(path)
    return paths


# --- the sample receipt -------------------------------------------------------------------


@pytest.mark.parametrize("paper", [58, 80])
def test_sample_receipt_decodes_to_the_text_sent(paper: int) -> None:
    profile = PrinterProfile(paper, "gbk")
    doc = sample_receipt(profile)
    decoded = decode(encode(doc, profile), "gbk", columns=profile.columns)
    expected: list[tuple[str, TextLine | None]] = []
    for block in doc.blocks:
        if isinstance(block, TextLine):
            expected += [(p, block) for p in layout_text(block, profile.columns, "gbk")]
        elif isinstance(block, Rule):
            expected.append((rule_text(block, profile.columns, "gbk"), None))
    printed = [line for line in decoded.printed_lines if line.cells]
    assert [line.text for line in printed] == [text for text, _ in expected]
    for line, (_, block) in zip(printed, expected, strict=True):
        assert line.columns <= profile.columns
        if block is not None:
            assert line.double == block.double and line.bold == block.bold
    assert decoded.qr_codes == ["SH01-20261123-0042"]
    assert decoded.barcodes == ["202611230042"]
    assert decoded.cuts == 1


def test_sample_pngs_are_written_small_and_paper_wide(tmp_path: Path) -> None:
    for path, dots in zip(write_sample_pngs(tmp_path), (576, 384), strict=True):
        assert 0 < path.stat().st_size < 150_000
        with Image.open(path) as img:
            assert img.mode == "1" and img.width == dots
            assert img.height > 1000
            assert ImageChops.invert(img.convert("L")).getbbox() is not None  # has ink


# --- python-escpos output ------------------------------------------------------------------


def _picture() -> Image.Image:
    img = Image.new("1", (64, 48), 1)
    img.paste(0, (8, 8, 40, 30))
    img.paste(0, (50, 0, 52, 48))
    return img


def _same(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


def test_decodes_what_python_escpos_sends(capsys: pytest.CaptureFixture[str]) -> None:
    p = Dummy()
    p.hw("INIT")
    p.set(align="center")
    p.text("Hello é\n")
    p.set(align="right", bold=True)
    p.text("Total 9.90\n")
    p.set(align="left", bold=False)
    p.qr("SH01-0001", native=True, size=4)
    p.barcode("{B" + "SH01-0001", "CODE128", function_type="B")
    p.image(_picture(), impl="bitImageRaster")
    p.image(_picture(), impl="bitImageColumn")
    p.image(_picture(), impl="graphics")
    p.cashdraw(5)
    p.cut()
    decoded = decode(p.output, "gbk")
    assert decoded.lines[:2] == [" " * 20 + "Hello é", " " * 38 + "Total 9.90"]
    assert decoded.printed_lines[1].bold
    assert decoded.qr_codes == ["SH01-0001"]
    assert decoded.barcodes == ["SH01-0001"]
    assert len(decoded.images) == 3
    assert all(_same(img, _picture()) for img in decoded.images)
    assert decoded.drawer_kicks == [5] and decoded.cuts == 1
    assert decoded.unknown == []
    capsys.readouterr()  # python-escpos prints "Using hardware barcode renderer"


def test_raw_gb_bytes_without_chinese_mode_print_as_a_code_page() -> None:
    raw = "合计".encode("gbk") + b"\n"  # what python-escpos sends for CJK text
    assert decode(raw, "gbk").lines != ["合计"]  # what a printer in single-byte mode prints
    assert decode(raw, "gbk", chinese_mode=True).lines == ["合计"]
    assert decode(b"\x1b@\x1c&" + raw, "gbk").lines == ["合计"]


def test_code_page_and_four_byte_gb18030() -> None:
    assert decode(b"\x1bt\x10caf\xe9\n", "gbk").lines == ["café"]
    four = "😀".encode("gb18030")
    assert decode(b"\x1c&" + four + b"\x1c.\n", "gb18030").lines == ["😀"]
    assert decode(b"\x1c&" + four + b"\x1c.\n", "gbk").lines != ["😀"]


def test_invalid_double_byte_sequences_become_question_marks() -> None:
    data = b"\x1c&\xb0\n\xba\xcf\x80\x1c.x\n"  # a lead byte before LF, a stray 0x80
    assert decode(data, "gbk").lines == ["?", "合?x"]
    assert decode(b"\xe5\x90\n\xe5\x90\x88\n", "utf-8").lines == ["??", "合"]


def test_alignment_wrapping_and_tabs_of_foreign_input() -> None:
    decoded = decode(b"\x1ba\x02right\n\x1ba\x00" + b"x" * 40 + b"\n\ta\n", columns=32)
    assert decoded.lines == [" " * 27 + "right", "x" * 32, "x" * 8, " " * 8 + "a"]


def test_double_size_commands() -> None:
    decoded = decode(b"\x1d!\x11AB\x1c&\xba\xcf\x1c.\n\x1d!\x00c\n", "gbk")
    first, second = decoded.printed_lines
    assert first.double and first.columns == 8 and not second.double


def test_unknown_commands_are_recorded_and_skipped() -> None:
    decoded = decode(b"\x1b\x80ab\x1d\x99cd\x1c\x90\x07ef\x1d(Z\x02\x00xyok\n")
    assert decoded.lines == ["abcdefok"]
    assert decoded.unknown == ["ESC 0x80", "GS 0x99", "FS 0x90", "control 0x07", "GS ( Z 78 79"]


def test_status_queries_and_drawer_pulses_print_nothing() -> None:
    data = status_query(1) + drawer_kick(2) + b"\x10\x14\x01\x01\x08" + status_query(4)
    decoded = decode(data)
    assert decoded.lines == [] and decoded.drawer_kicks == [2, 5]
    assert decoded.status_queries == [1, 4]


@pytest.mark.parametrize("dots", [384, 576])
def test_to_png_draws_the_paper(tmp_path: Path, dots: int) -> None:
    profile = PrinterProfile(80 if dots == 576 else 58, "gbk")
    doc = PrintDocument((TextLine("合计", bold=True, double=True), QrCode("X"), Barcode("123456")))
    path = tmp_path / "out" / "r.png"
    decode(encode(doc, profile), "gbk", columns=profile.columns).to_png(path, dots=dots)
    with Image.open(path) as img:
        assert img.width == dots and img.mode == "1"
        assert ImageChops.invert(img.convert("L").crop((0, 0, dots, 60))).getbbox() is not None


# --- garbage never crashes ----------------------------------------------------------------

_FRAGMENTS = [
    b"\x1b@", b"\x1ba\x01", b"\x1b!\x38", b"\x1d!\x77", b"\x1c&", b"\x1c.", b"\x1c!\x0c",
    b"\x1dv0\x00\x02\x00\x03\x00", b"\x1b*\x21\x02\x00", b"\x1d(k\x04\x001A2\x00",
    b"\x1d(k\x05\x001P0ab", b"\x1d(k\x03\x001Q0", b"\x1d(L\x0c\x000p0\x01\x011\x08\x00\x01\x00",
    b"\x1d(L\x02\x0002", b"\x1dkI\x03{Bx", b"\x1dk\x04AB", b"\x1dV\x42\x00", b"\x1bp\x00\x19",
    b"\x10\x04\x01", b"\x10\x14\x01", b"\x1b3\x10", b"\x1bd\x03", b"\x1bD\x08", "合".encode("gbk"),
    "😀".encode("gb18030"), b"\n", b"\t", b"\x1d8L\x01\x00\x00\x00",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=8)), max_size=40),
    encoding=st.sampled_from(["gb18030", "gbk", "big5", "utf-8"]),
)
def test_decoder_never_raises_on_garbage(data: list[bytes], encoding: str) -> None:
    decoded = decode(b"".join(data), encoding, columns=32)
    assert isinstance(decoded.text, str)
    assert all(isinstance(line, PrintedLine) for line in decoded.printed_lines)


def test_every_truncation_of_a_receipt_decodes(tmp_path: Path) -> None:
    profile = PrinterProfile(58, "gb18030")
    doc = PrintDocument((TextLine("合计 ￥1", double=True), QrCode("Q"), Barcode("12345678")))
    data = encode(doc, profile) + encode(doc, PrinterProfile(58, "gb18030", image=True))
    for end in range(len(data)):
        decoded = decode(data[:end], "gb18030", columns=32)
        assert decoded.cuts <= 2
    decoded.to_png(tmp_path / "cut.png", dots=384)
    assert (tmp_path / "cut.png").stat().st_size > 0


if __name__ == "__main__":
    for written in write_sample_pngs(DOCS):
        print(written, written.stat().st_size, "bytes")
