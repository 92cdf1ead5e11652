"""ESC/POS encoding: Chinese mode, ￥, columns, drawer, status, QR/barcode, logo, cut."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import qrcode
from escpos.constants import CD_KICK_2, CD_KICK_5
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from hardware.printing.document import (
    Barcode,
    Feed,
    Logo,
    PrintDocument,
    PrinterProfile,
    QrCode,
    Rule,
    TextLine,
)
from hardware.printing.escpos_decoder import PrintedLine, PrintedQr, decode
from hardware.printing.escpos_encoder import (
    STATUS_QUERIES,
    code128_payload,
    drawer_kick,
    encode,
    layout_text,
    left_right,
    parse_status,
    printable_text,
    status_query,
    status_reply,
    text_columns,
)

INIT = b"\x1b@"
ON, OFF = b"\x1c&", b"\x1c."


def _gb2312_chars() -> list[str]:
    """Every character of GB 2312 (symbols rows A1–A9, hanzi rows B0–F7)."""
    chars = []
    for row in [*range(0xA1, 0xAA), *range(0xB0, 0xF8)]:
        for col in range(0xA1, 0xFF):
            try:
                chars.append(bytes((row, col)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


GB2312 = _gb2312_chars()
ASCII = [chr(c) for c in range(0x20, 0x7F)]
MIXED_TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(GB2312), st.sampled_from(ASCII)), max_size=120
)


def _doc(*blocks: object, cut: bool = False) -> PrintDocument:
    return PrintDocument(blocks=tuple(blocks), cut=cut)  # type: ignore[arg-type]


def _lines(data: bytes, profile: PrinterProfile) -> list[str]:
    return decode(data, profile.encoding, columns=profile.columns).lines


# --- exact bytes ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_chinese_runs_are_wrapped_in_chinese_mode_and_yen_is_fullwidth(encoding: str) -> None:
    data = encode(_doc(TextLine("合计 ¥12")), PrinterProfile(80, encoding))  # type: ignore[arg-type]
    # 合 = BA CF, 计 = BC C6, ￥ = A3 A4 (not GB18030's 4-byte ¥ 81 30 84 36)
    assert data == INIT + ON + b"\xba\xcf\xbc\xc6" + OFF + b" " + ON + b"\xa3\xa4" + OFF + b"12\n"


def test_fullwidth_punctuation_without_ideograph_is_sent_in_chinese_mode() -> None:
    data = encode(_doc(TextLine("，。！？（）【】")), PrinterProfile(80, "gbk"))
    assert data == INIT + ON + "，。！？（）【】".encode("gbk") + OFF + b"\n"
    assert _lines(data, PrinterProfile(80, "gbk")) == ["，。！？（）【】"]


def test_utf8_printer_gets_utf8_without_chinese_mode() -> None:
    profile = PrinterProfile(80, "utf-8")
    data = encode(_doc(TextLine("合计 ¥12 €")), profile)
    assert data == INIT + "合计 ¥12 €".encode() + b"\n"
    assert _lines(data, profile) == ["合计 ¥12 €"]


def test_big5_uses_the_cp950_table_with_fullwidth_yen() -> None:
    profile = PrinterProfile(80, "big5")
    data = encode(_doc(TextLine("臺灣 ¥5")), profile)
    assert ON + b"\xa2\x44" + OFF in data  # ￥ in Big5
    assert _lines(data, profile) == ["臺灣 ￥5"]


# --- characters the printer cannot print --------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "text", "printed"),
    [
        ("gbk", "€5 😀 ok", "?5 ? ok"),
        ("gb18030", "€5 😀 ok", "€5 😀 ok"),  # GB18030 holds all of Unicode
        ("big5", "我们", "我?"),  # 们 is simplified only
        ("gbk", "a\x1b@b\tc\nd", "a?@b c?d"),  # no command injection through text
    ],
)
def test_unencodable_characters_become_question_marks(
    encoding: str, text: str, printed: str
) -> None:
    profile = PrinterProfile(80, encoding)  # type: ignore[arg-type]
    assert printable_text(text, profile.encoding) == printed
    data = encode(_doc(TextLine(text)), profile)
    assert data.count(b"\x1b") == 1  # only ESC @
    assert _lines(data, profile) == [printed]


# --- round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("paper", [58, 80])
@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_decoded_text_equals_what_was_sent(paper: int, encoding: str) -> None:
    profile = PrinterProfile(paper, encoding)  # type: ignore[arg-type]
    texts = [
        "上海南京路店 Shanghai",
        "会员卡号：6225 **** 8842",
        "合计 Total ￥128.50",
        "全角标点：，。！？（）【】“”",
        "Milk 牛奶 1L x 2",
        "",
        "0123456789",
    ]
    data = encode(_doc(*(TextLine(t) for t in texts)), profile)
    assert _lines(data, profile) == texts


@settings(max_examples=60, deadline=None)
@given(
    text=MIXED_TEXT, paper=st.sampled_from([58, 80]), encoding=st.sampled_from(["gbk", "gb18030"])
)
def test_any_gb2312_and_ascii_text_round_trips(text: str, paper: int, encoding: str) -> None:
    profile = PrinterProfile(paper, encoding)  # type: ignore[arg-type]
    lines = _lines(encode(_doc(TextLine(text)), profile), profile)
    assert "".join(lines) == text
    assert lines == layout_text(TextLine(text), profile.columns, profile.encoding)
    assert all(text_columns(line, profile.encoding) <= profile.columns for line in lines)


# --- columns ------------------------------------------------------------------------------


def test_ambiguous_width_characters_take_two_columns_on_a_gb_printer() -> None:
    assert text_columns("…×·", "gbk") == 6
    assert text_columns("…×·", "gb18030") == 6
    assert text_columns("…×·", "utf-8") == 3
    assert text_columns("合计", "utf-8") == 4
    assert text_columns("¥1", "gbk") == 3  # printed as ￥


@pytest.mark.parametrize("paper", [58, 80])
def test_right_aligned_amounts_end_on_the_last_column_next_to_chinese(paper: int) -> None:
    profile = PrinterProfile(paper, "gb18030")
    cols = profile.columns
    doc = _doc(
        TextLine(left_right("苹果（红富士）× 3", "￥20.40", cols, "gb18030")),
        TextLine(left_right("Milk 牛奶 1L", "￥12.80", cols, "gb18030")),
        TextLine("￥1,234.00", align="right"),
        TextLine("应收", align="center"),
    )
    lines = _lines(encode(doc, profile), profile)
    for line, amount in zip(lines, ["￥20.40", "￥12.80", "￥1,234.00"], strict=False):
        assert line.endswith(amount)
        assert text_columns(line, "gb18030") == cols
    assert lines[3] == " " * ((cols - 4) // 2) + "应收"


def test_left_right_cuts_the_left_text_when_both_do_not_fit() -> None:
    line = left_right("很长很长很长很长很长很长的商品名称", "￥9.90", 32, "gbk")
    assert text_columns(line, "gbk") == 32
    assert line.endswith(" ￥9.90")


def test_long_lines_wrap_at_the_column_limit_without_splitting_a_character() -> None:
    profile = PrinterProfile(58, "gbk")
    text = "汉" * 15 + "a" + "字字" + "bc"
    lines = _lines(encode(_doc(TextLine(text)), profile), profile)
    assert lines == ["汉" * 15 + "a", "字字bc"]  # 31 columns: 字 does not fit in the last one


def test_double_size_line_has_half_the_columns_and_keeps_bold() -> None:
    profile = PrinterProfile(80, "gb18030")
    data = encode(_doc(TextLine("合计", align="right", bold=True, double=True)), profile)
    assert b"\x1b!0" in data and b"\x1c!\x0c" in data  # ANK and Chinese double size
    # ESC ! also clears bold on a real printer, so bold (ESC E 1) must come after it
    assert data.index(b"\x1bE\x01") > data.rindex(b"\x1b!")
    line = decode(data, "gb18030").printed_lines[0]
    assert line.double and line.bold
    assert line.columns == 48  # 20 double spaces + 2 double Chinese characters
    assert line.text == " " * 20 + "合计"


@pytest.mark.parametrize(("paper", "expected"), [(58, 32), (80, 48)])
def test_rule_fills_the_paper(paper: int, expected: int) -> None:
    profile = PrinterProfile(paper, "gbk")
    lines = _lines(encode(_doc(Rule(), Rule("＝")), profile), profile)
    assert lines == ["-" * expected, "＝" * (expected // 2)]


def test_feed_prints_blank_lines() -> None:
    profile = PrinterProfile(80, "gbk")
    lines = _lines(encode(_doc(TextLine("a"), Feed(2), TextLine("b")), profile), profile)
    assert lines == ["a", "", "", "b"]


# --- QR, barcode, logo, cut ---------------------------------------------------------------


@pytest.mark.parametrize("paper", [58, 80])
def test_qr_code_is_native_and_fits_the_paper(paper: int) -> None:
    profile = PrinterProfile(paper, "gbk")
    data_text = "https://example.com/r/SH01-20261123-0042?sig=" + "x" * 120
    data = encode(_doc(QrCode("SH01-0001"), QrCode(data_text, size=16)), profile)
    assert data.count(b"\x1d(k") == 10  # model, size, ec, store, print — twice
    decoded = decode(data, "gbk")
    assert decoded.qr_codes == ["SH01-0001", data_text]
    big = [item for item in decoded.items if isinstance(item, PrintedQr)][1]
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data_text)
    code.make(fit=True)
    assert (17 + 4 * code.version) * big.module <= profile.dots
    assert big.module < 16 if paper == 58 else True


def test_code128_uses_code_set_b_prefix_and_c_for_digit_runs() -> None:
    assert code128_payload("SH01-0001") == "{BSH01-{C\x00\x01"
    assert code128_payload("A{B") == "{BA{{B"
    assert code128_payload("20261123") == "{C\x14\x1a\x0b\x17"
    assert code128_payload("中文") is None


@pytest.mark.parametrize("paper", [58, 80])
def test_barcodes_round_trip_through_the_decoder(paper: int) -> None:
    profile = PrinterProfile(paper, "gbk")
    doc = _doc(
        Barcode("SH01-0001"),
        Barcode("A{B-9"),
        Barcode("202611230042"),
        Barcode("6901234567892", symbology="EAN13"),
    )
    data = encode(doc, profile)
    assert b"\x1dkI" in data and b"{B" in data and b"\x1dkC\x0d6901234567892" in data
    decoded = decode(data, "gbk")
    assert decoded.barcodes == ["SH01-0001", "A{B-9", "202611230042", "6901234567892"]
    assert all(item.hri for item in decoded.items if hasattr(item, "hri"))


def test_a_barcode_that_cannot_print_falls_back_to_text(caplog: pytest.LogCaptureFixture) -> None:
    profile = PrinterProfile(58, "gbk")
    doc = _doc(Barcode("SH01-20261123-0042"), Barcode("6901234567890", symbology="EAN13"))
    with caplog.at_level(logging.WARNING):
        decoded = decode(encode(doc, profile), "gbk", columns=32)
    assert decoded.barcodes == []  # too wide for 58 mm at 2 dots; wrong EAN check digit
    assert [line.strip() for line in decoded.lines] == ["SH01-20261123-0042", "6901234567890"]
    assert "cannot print" in caplog.text


def test_logo_is_scaled_to_the_paper_and_printed_as_raster(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    img = Image.new("RGB", (800, 100), "white")
    img.paste((0, 0, 0), (100, 20, 700, 80))
    img.save(logo)
    profile = PrinterProfile(80, "gbk")
    data = encode(_doc(Logo(str(logo)), TextLine("店")), profile)
    assert b"\x1dv0" in data
    decoded = decode(data, "gbk")
    assert [im.width for im in decoded.images] == [576]
    printed = decoded.images[0]
    assert printed.height == 72  # 100 × 576/800
    assert printed.getpixel((288, 36)) == 0 and printed.getpixel((10, 36)) == 255
    assert decoded.lines == ["店"]


def test_missing_logo_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        data = encode(_doc(Logo("/nonexistent/logo.png"), TextLine("ok")), PrinterProfile())
    assert decode(data).lines == ["ok"] and "logo" in caplog.text


def test_cut_feeds_first_and_only_when_asked() -> None:
    profile = PrinterProfile(80, "gbk")
    with_cut = encode(_doc(TextLine("x"), cut=True), profile)
    assert with_cut.endswith(b"\x1bd\x06\x1dV\x01")  # feed 6 lines, partial cut
    decoded = decode(with_cut, "gbk")
    assert decoded.cuts == 1 and decoded.lines == ["x"] + [""] * 6
    assert b"\x1dV" not in encode(_doc(TextLine("x"), cut=False), profile)


# --- drawer and status --------------------------------------------------------------------


def test_drawer_kick_pins() -> None:
    assert drawer_kick(2) == CD_KICK_2 == b"\x1bp\x00\x32\x32"
    assert drawer_kick(5) == CD_KICK_5 == b"\x1bp\x01\x32\x32"
    for pin in (0, 1, 3, 4, 6):
        with pytest.raises(ValueError):
            drawer_kick(pin)
    assert decode(drawer_kick(2) + drawer_kick(5)).drawer_kicks == [2, 5]


def test_status_queries_are_dle_eot() -> None:
    assert [status_query(n) for n in (1, 2, 3, 4)] == [
        b"\x10\x04" + bytes((n,)) for n in (1, 2, 3, 4)
    ]
    assert dict(STATUS_QUERIES) == {n: status_query(n) for n in (1, 2, 3, 4)}
    for n in (0, 5):
        with pytest.raises(ValueError):
            status_query(n)
    decoded = decode(status_query(1) + b"ok\n" + status_query(4))
    assert decoded.status_queries == [1, 4] and decoded.lines == ["ok"]


def test_parse_status_reads_the_epson_bits() -> None:
    assert parse_status(1, 0x12).online and parse_status(1, 0x12).well_formed
    assert not parse_status(1, 0x1A).online
    assert parse_status(2, 0x16).cover_open
    assert parse_status(2, 0x32).paper_out and not parse_status(2, 0x32).cover_open
    assert parse_status(2, 0x52).error
    assert parse_status(3, 0x1A).error  # autocutter
    assert not parse_status(3, 0x12).error
    low = parse_status(4, 0x1E)
    assert low.paper_low and not low.paper_out
    out = parse_status(4, 0x7E)
    assert out.paper_low and out.paper_out
    assert not parse_status(1, 0xFF).well_formed
    with pytest.raises(ValueError):
        parse_status(5, 0x12)
    with pytest.raises(ValueError):
        parse_status(1, 256)


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"online": False},
        {"paper_out": True},
        {"paper_low": True},
        {"cover_open": True},
        {"error": True},
    ],
)
def test_status_reply_is_what_parse_status_reads(state: dict[str, bool]) -> None:
    replies = {n: status_reply(n, **state)[0] for n in (1, 2, 3, 4)}
    assert all(parse_status(n, v).well_formed for n, v in replies.items())
    online = state == {} or state == {"paper_low": True}
    assert parse_status(1, replies[1]).online is online
    assert parse_status(2, replies[2]).cover_open is state.get("cover_open", False)
    assert parse_status(2, replies[2]).paper_out is state.get("paper_out", False)
    assert parse_status(3, replies[3]).error is state.get("error", False)
    paper = parse_status(4, replies[4])
    assert paper.paper_out is state.get("paper_out", False)
    assert paper.paper_low is (state.get("paper_low", False) or state.get("paper_out", False))


def test_decoded_lines_keep_their_style() -> None:
    doc = _doc(TextLine("标题", bold=True), TextLine("正文"))
    items = decode(encode(doc, PrinterProfile(80, "gbk")), "gbk").items
    assert [(i.text, i.bold, i.double) for i in items if isinstance(i, PrintedLine)] == [
        ("标题", True, False),
        ("正文", False, False),
    ]
