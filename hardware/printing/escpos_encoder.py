"""ESC/POS bytes for a PrintDocument, with Chinese that prints right on Chinese printers.

python-escpos (3.1) writes the commands it does well — init, text style, native QR code,
barcode, raster images, cut — into a `Dummy` printer that only collects bytes. Text is
encoded here, because python-escpos sends a CJK string as raw GB18030 without entering the
printer's Chinese mode, turns `¥` into four bytes a GBK printer garbles, and measures
columns in characters, not in the printer's cells.

Text rules (shared with the image renderer and the decoder, so all three agree):

* The printer's encoding is a setting (`PrinterProfile.encoding`). For GB18030, GBK and
  Big5, every run of non-ASCII characters is wrapped in Chinese mode, `FS &` … `FS .`
  (1C 26 … 1C 2E). Per run, not per line: bytes outside a run are plain ASCII that every
  printer reads alike, and the printer is back in single-byte mode after each run, so a
  following barcode, raster image or the next job never starts in Chinese mode. Printers
  that power up in Chinese mode read the same bytes the same way.
* `¥` (U+00A5) becomes `￥` (U+FFE5, A3 A4 in GB2312/GBK/GB18030); a character the encoding
  cannot hold as one double-byte (GB18030: or four-byte) code becomes `?`; control
  characters become `?` and tabs spaces. Encoding never raises.
* Columns are the printer's cells: on a GB/Big5 printer an ASCII character takes one column
  and every other character two (ambiguous ones like `…`, `×`, `·` too — the printer prints
  them from its double-byte font). With UTF-8, East Asian wide/full-width characters take
  two. 58 mm paper has 32 columns (384 dots), 80 mm 48 (576 dots).
* Alignment is done here with spaces (ESC a stays left for text), so the decoder and the
  image show exactly what the printer prints. A `double` line has half the columns. Text
  wider than the line wraps at a character boundary, as the printer would.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qrcode
from PIL import Image

from hardware.printing.document import (
    Barcode,
    Encoding,
    Feed,
    Logo,
    PrintDocument,
    PrinterProfile,
    QrCode,
    Rule,
    TextLine,
)

# python-escpos calls logging.basicConfig() when imported: a handler on the root logger that
# would print every log line of the app (INFO and up, once the app sets that level) on the
# terminal. The app logs to its own files; the handler it adds is taken off again.
_handlers_before = list(logging.root.handlers)
from escpos.capabilities import Profile  # noqa: E402
from escpos.constants import CD_KICK_2, CD_KICK_5, QR_ECLEVEL_M  # noqa: E402
from escpos.printer import Dummy  # noqa: E402

for _handler in logging.root.handlers[len(_handlers_before) :]:
    logging.root.removeHandler(_handler)

logger = logging.getLogger(__name__)

FS_CHINESE_ON = b"\x1c\x26"  # FS &: enter Chinese (double-byte) character mode
FS_CHINESE_OFF = b"\x1c\x2e"  # FS .: leave Chinese character mode
FS_CHINESE_SIZE = b"\x1c\x21"  # FS ! n: size of Chinese characters (bit 2 wide, bit 3 tall)
CJK_ENCODINGS: frozenset[str] = frozenset({"gb18030", "gbk", "big5"})

# Images are sent as GS v 0 bands of at most this many rows: the command allows up to 2303
# rows, but cheap printers with a small receive buffer print tall single commands as garbage.
RASTER_BAND_ROWS = 256
_QR_MAX_MODULE = 16


# Python codec for each printer encoding. Big5 printers use the Microsoft/ETEN table (cp950):
# Python's strict "big5" has no ￥ (A2 44 decodes to ¥) and no €.
_CODECS = {"gb18030": "gb18030", "gbk": "gbk", "big5": "cp950", "utf-8": "utf-8"}


def python_codec(encoding: str) -> str:
    """The Python codec that reads and writes a printer's `encoding`."""
    return _CODECS.get(encoding, encoding)


def is_cjk_encoding(encoding: str) -> bool:
    """True for the double-byte encodings that use Chinese mode (GB18030, GBK, Big5)."""
    return encoding in CJK_ENCODINGS


def char_columns(ch: str, encoding: Encoding) -> int:
    """Columns one (already printable) character takes on the printer."""
    if is_cjk_encoding(encoding):
        return 1 if ord(ch) < 0x80 else 2
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_columns(text: str, encoding: Encoding) -> int:
    """Columns `text` takes on a printer using `encoding` (after `printable_text`)."""
    return sum(char_columns(ch, encoding) for ch in printable_text(text, encoding))


def _printable_char(ch: str, encoding: Encoding) -> str:
    code = ord(ch)
    if ch == "\t":
        return " "
    if code < 0x20 or 0x7F <= code < 0xA0:
        return "?"  # a control byte in the text would be a printer command
    if code < 0x80:
        return ch
    if is_cjk_encoding(encoding):
        if ch == "\u00a5":
            ch = "\uffe5"  # GBK has no ¥; GB18030's is a 4-byte code GBK printers garble
        try:
            raw = ch.encode(python_codec(encoding))
        except UnicodeEncodeError:
            return "?"
        # One double-byte code (GB18030 also four-byte) with lead byte 81..FE: all a
        # printer's Chinese mode reads (cp950's single-byte 80 € would not print).
        if len(raw) not in ((2, 4) if encoding == "gb18030" else (2,)):
            return "?"
        if not 0x81 <= raw[0] <= 0xFE:
            return "?"
        return ch
    try:
        ch.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return "?"
    return ch


def printable_text(text: str, encoding: Encoding) -> str:
    """`text` as the printer will print it: `¥`→`￥` (CJK encodings), characters the
    encoding cannot hold and control characters → `?`, tab → space. Line breaks too become
    `?`: a TextLine is one line (it may wrap)."""
    return "".join(_printable_char(ch, encoding) for ch in text)


def wrap_columns(text: str, columns: int, encoding: Encoding) -> list[str]:
    """Split printable `text` into pieces of at most `columns` columns, never inside a
    character (a double-byte character that does not fit goes to the next line, as on the
    printer). Empty text gives one empty line."""
    lines: list[str] = []
    current: list[str] = []
    used = 0
    for ch in text:
        width = char_columns(ch, encoding)
        if used + width > columns and current:
            lines.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += width
    lines.append("".join(current))
    return lines


def layout_text(line: TextLine, columns: int, encoding: Encoding) -> list[str]:
    """The printed lines for `line` on paper of `columns` columns: printable, wrapped to the
    line's width (half for `double`) and padded on the left with spaces for center/right
    alignment. The strings count in the line's own character size."""
    width = columns // 2 if line.double else columns
    out: list[str] = []
    for piece in wrap_columns(printable_text(line.text, encoding), width, encoding):
        used = sum(char_columns(ch, encoding) for ch in piece)
        if line.align == "right":
            piece = " " * (width - used) + piece
        elif line.align == "center":
            piece = " " * ((width - used) // 2) + piece
        out.append(piece)
    return out


def rule_text(rule: Rule, columns: int, encoding: Encoding) -> str:
    """The line a Rule prints: its character repeated across the paper."""
    char = printable_text(rule.char[:1] or "-", encoding)
    return char * (columns // char_columns(char, encoding))


def left_right(left: str, right: str, columns: int, encoding: Encoding) -> str:
    """`left` and `right` on one line of `columns` columns, `right` ending on the last column
    (at least one space between; `left` is cut short when both do not fit)."""
    left = printable_text(left, encoding)
    right = printable_text(right, encoding)
    room = columns - text_columns(right, encoding) - 1
    kept: list[str] = []
    used = 0
    for ch in left:
        width = char_columns(ch, encoding)
        if used + width > room:
            break
        kept.append(ch)
        used += width
    return "".join(kept) + " " * (columns - used - text_columns(right, encoding)) + right


def text_bytes(text: str, encoding: Encoding) -> bytes:
    """Printable `text` as printer bytes: for CJK encodings each run of non-ASCII characters
    inside FS & … FS .; for UTF-8 the UTF-8 bytes."""
    if not is_cjk_encoding(encoding):
        return text.encode("utf-8")
    out = bytearray()
    run: list[str] = []
    for ch in text + "\x00":  # the sentinel closes a trailing run
        if ord(ch) >= 0x80:
            run.append(ch)
            continue
        if run:
            out += FS_CHINESE_ON + "".join(run).encode(python_codec(encoding)) + FS_CHINESE_OFF
            run = []
        if ch != "\x00":
            out += ch.encode("ascii")
    return bytes(out)


# --- barcodes ----------------------------------------------------------------------------


def _ean13_ok(data: str) -> bool:
    if not (data.isascii() and data.isdigit() and len(data) in (12, 13)):
        return False
    if len(data) == 12:
        return True  # the printer adds the check digit
    digits = [int(d) for d in data]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12])) % 10) % 10
    return check == digits[12]


def code128_payload(data: str) -> str | None:
    """The GS k (type 73) payload for `data`: code set B, switching to code set C (two digits
    per symbol, sent as one byte 0–99) for runs of four or more digits so numbers stay short
    enough for 58 mm paper. `{` is doubled as ESC/POS requires. None if `data` has characters
    CODE128 B cannot hold."""
    if not data or any(not 0x20 <= ord(ch) < 0x7F for ch in data):
        return None
    parts: list[str] = []
    mode = ""
    i = 0
    while i < len(data):
        j = i
        while j < len(data) and data[j].isdigit():
            j += 1
        run = (j - i) // 2 * 2
        if run >= 4:
            if mode != "C":
                parts.append("{C")
                mode = "C"
            parts.extend(chr(int(data[k : k + 2])) for k in range(i, i + run, 2))
            i += run
            continue
        if mode != "B":
            parts.append("{B")
            mode = "B"
        parts.append("{{" if data[i] == "{" else data[i])
        i += 1
    return "".join(parts)


def code128_modules(payload: str) -> int:
    """Width in modules of a CODE128 symbol for a GS k payload (start, data, check, stop)."""
    symbols = 0
    i = 0
    while i < len(payload):
        if payload[i] == "{" and i + 1 < len(payload):
            i += 2  # a code set switch or an escaped "{": one symbol either way
        else:
            i += 1
        symbols += 1
    # The leading "{B"/"{C" counted above is the start symbol; + check digit; stop is 13.
    return 11 * (symbols + 1) + 13


def barcode_module_width(modules: int, dots: int) -> int | None:
    """The widest module (3 or 2 dots; thinner scans badly) at which `modules` fit `dots`."""
    for width in (3, 2):
        if modules * width <= dots:
            return width
    return None


def qr_module_size(data: str, wanted: int, dots: int) -> int:
    """Module size (dots) for a QR code of `data`: `wanted`, clamped to 1–16 and shrunk
    until the symbol fits the paper. Error correction M, as the encoder prints it."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    modules = 17 + 4 * int(code.version)
    size = max(1, min(_QR_MAX_MODULE, wanted))
    while size > 1 and modules * size > dots:
        size -= 1
    return size


# --- encoding ----------------------------------------------------------------------------


def escpos_profile(profile: PrinterProfile) -> Any:
    """A python-escpos capability profile for `profile`'s paper: the default profile's
    features with the paper width in dots, so `image(center=True)` centres and python-escpos
    does not print its "width unknown" warning to stdout."""
    base = Profile.profile_data
    prof = Profile(columns=profile.columns, features=dict(base["features"]))
    prof.profile_data = {
        **base,
        "media": {"dpi": 203, "width": {"mm": profile.paper_mm, "pixels": profile.dots}},
    }
    return prof


class _Writer:
    """Bytes from python-escpos (via Dummy) interleaved with our own text bytes."""

    def __init__(self, profile: PrinterProfile) -> None:
        self.printer = Dummy(profile=escpos_profile(profile))
        self._parts: list[bytes] = []

    def raw(self, data: bytes) -> None:
        self._flush()
        self._parts.append(data)

    def _flush(self) -> None:
        self._parts.append(self.printer.output)
        self.printer.clear()

    def output(self) -> bytes:
        self._flush()
        return b"".join(self._parts)


@dataclass
class _Style:
    bold: bool = False
    double: bool = False


def _set_style(out: _Writer, style: _Style, bold: bool, double: bool, cjk: bool) -> None:
    if double != style.double:
        if double:
            out.printer.set(double_width=True, double_height=True)
        else:
            out.printer.set(normal_textsize=True)
        if cjk:  # ESC ! sizes only single-byte characters; FS ! sizes the Chinese ones
            out.raw(FS_CHINESE_SIZE + (b"\x0c" if double else b"\x00"))
        style.double = double
        style.bold = False  # python-escpos sizes with ESC ! n, whose bit 3 also sets bold
    if bold != style.bold:
        out.printer.set(bold=bold)
        style.bold = bold


def load_logo(path: str, dots: int) -> Image.Image | None:
    """The picture at `path` as RGBA, scaled down to `dots` wide if wider; None (logged)
    when it cannot be read — a receipt prints without its logo rather than not at all."""
    try:
        with Image.open(Path(path)) as img:
            img.load()
            logo = img.convert("RGBA")
    except (OSError, ValueError) as exc:
        logger.warning("logo %s not printed: %s", path, exc)
        return None
    if logo.width > dots:
        height = max(1, round(logo.height * dots / logo.width))
        logo = logo.resize((dots, height), Image.Resampling.LANCZOS)
    return logo


def _write_raster(out: _Writer, img: Image.Image) -> None:
    out.printer.image(img, impl="bitImageRaster", center=True, fragment_height=RASTER_BAND_ROWS)


def _write_barcode(out: _Writer, block: Barcode, profile: PrinterProfile, style: _Style) -> None:
    height = max(1, min(255, block.height))
    if block.symbology == "EAN13":
        payload = block.data if _ean13_ok(block.data) else None
        modules = 95
        escpos_name = "EAN13"
    else:
        payload = code128_payload(block.data)
        modules = code128_modules(payload) if payload else 0
        escpos_name = "CODE128"
    width = barcode_module_width(modules, profile.dots) if payload else None
    if payload is None or width is None:
        # A receipt must still print: show the number as text instead of a bad barcode.
        logger.warning("barcode %r (%s) cannot print; printed as text", block.data, escpos_name)
        _write_text_line(out, TextLine(block.data, align="center"), profile, style)
        return
    # python-escpos's public barcode() prints "Using hardware barcode renderer" to stdout and
    # picks the renderer from the profile; _hw_barcode writes the GS k command we want.
    out.printer._hw_barcode(
        payload,
        escpos_name,
        height=height,
        width=width,
        pos="BELOW",
        font="A",
        align_ct=True,
        function_type="B",
        check=True,
    )
    out.printer.set(align="left")


def _write_text_line(out: _Writer, line: TextLine, profile: PrinterProfile, style: _Style) -> None:
    cjk = is_cjk_encoding(profile.encoding)
    _set_style(out, style, line.bold, line.double, cjk)
    for piece in layout_text(line, profile.columns, profile.encoding):
        out.raw(text_bytes(piece, profile.encoding) + b"\n")


def encode(doc: PrintDocument, profile: PrinterProfile) -> bytes:
    """The ESC/POS bytes that print `doc` on a printer described by `profile`: ESC @, then
    the blocks (text in the profile's encoding, or — with `profile.image` — the whole receipt
    as one raster image and no text bytes at all), then feed and cut if `doc.cut`."""
    out = _Writer(profile)
    out.printer.hw("INIT")
    if profile.image:
        # Imported here: receipt_image builds on this module's layout functions.
        from hardware.printing.receipt_image import render_image

        _write_raster(out, render_image(doc, profile))
    else:
        _write_blocks(out, doc, profile)
    if doc.cut:
        out.printer.cut(mode="PART")  # feeds 6 lines first so the text clears the cutter
    return out.output()


def _write_blocks(out: _Writer, doc: PrintDocument, profile: PrinterProfile) -> None:
    style = _Style()
    for block in doc.blocks:
        if isinstance(block, TextLine):
            _write_text_line(out, block, profile, style)
        elif isinstance(block, Rule):
            _set_style(out, style, False, False, is_cjk_encoding(profile.encoding))
            line = rule_text(block, profile.columns, profile.encoding)
            out.raw(text_bytes(line, profile.encoding) + b"\n")
        elif isinstance(block, Feed):
            if block.lines > 0:
                out.printer.print_and_feed(min(255, block.lines))
        elif isinstance(block, QrCode):
            if not block.data:
                continue
            size = qr_module_size(block.data, block.size, profile.dots)
            out.printer.set(align="center")
            out.printer.qr(block.data, ec=QR_ECLEVEL_M, size=size, native=True)
            out.printer.set(align="left")
        elif isinstance(block, Barcode):
            _write_barcode(out, block, profile, style)
        elif isinstance(block, Logo):
            logo = load_logo(block.path, profile.dots)
            if logo is not None:
                _write_raster(out, logo)


# --- drawer and status -------------------------------------------------------------------


def drawer_kick(pin: int) -> bytes:
    """ESC p m t1 t2: a 100 ms pulse on drawer connector pin 2 or 5 (python-escpos's
    CD_KICK_2 / CD_KICK_5). ValueError for any other pin."""
    if pin == 2:
        return bytes(CD_KICK_2)
    if pin == 5:
        return bytes(CD_KICK_5)
    raise ValueError(f"cash drawer pin must be 2 or 5, not {pin}")


def realtime_drawer_kick(pin: int) -> bytes:
    """DLE DC4 1 m t: a pulse the printer generates as it reads the command (a real-time
    command, like DLE EOT), not when the print buffer reaches it. ESC/POS printers execute it
    while offline for paper end, which is why it is used then: the cashier still needs the
    drawer for the change of a sale whose receipt cannot print. m: 0 pin 2, 1 pin 5;
    t = 1: 100 ms on, 100 ms off. ValueError for any other pin."""
    if pin not in (2, 5):
        raise ValueError(f"cash drawer pin must be 2 or 5, not {pin}")
    return bytes((0x10, 0x14, 0x01, 0 if pin == 2 else 1, 1))


PRINTER_STATUS = 1  # online/offline, drawer pin 3, feed button
OFFLINE_CAUSE = 2  # cover open, paper end stop, error
ERROR_CAUSE = 3  # recoverable, autocutter, unrecoverable, auto-recoverable errors
PAPER_STATUS = 4  # roll paper near end, paper end
STATUS_QUERIES: Mapping[int, bytes] = {n: b"\x10\x04" + bytes((n,)) for n in (1, 2, 3, 4)}

# Every DLE EOT reply is one byte 0xx1xx10b: bits 1 and 4 set, bits 0 and 7 clear
# (Epson ESC/POS reference, "DLE EOT"). The other bits by query n:
#   n=1 printer status:  bit 2 drawer pin 3 high, bit 3 OFFLINE, bit 5 waiting for online
#                        recovery, bit 6 feed button pressed
#   n=2 offline cause:   bit 2 COVER OPEN, bit 3 feeding by button, bit 5 STOPPED AT PAPER
#                        END, bit 6 ERROR
#   n=3 error cause:     bit 2 recoverable error, bit 3 AUTOCUTTER error, bit 5
#                        UNRECOVERABLE error, bit 6 auto-recoverable error (e.g. head hot)
#   n=4 paper sensor:    bits 2+3 PAPER NEAR END, bits 5+6 PAPER END (no paper)
_STATUS_FIXED_MASK = 0x93
_STATUS_FIXED = 0x12


def status_query(n: int) -> bytes:
    """DLE EOT n, the real-time status request (n = 1 printer, 2 offline cause, 3 error
    cause, 4 paper sensor). ValueError for another n."""
    try:
        return STATUS_QUERIES[n]
    except KeyError:
        raise ValueError(f"DLE EOT status n must be 1..4, not {n}") from None


@dataclass(frozen=True)
class PrinterStatusBits:
    """What one DLE EOT reply byte says. Only the fields query `n` reports can be True:
    n=1 → online; n=2 → cover_open, paper_out, error; n=3 → error; n=4 → paper_low,
    paper_out. `well_formed` is False when the fixed bits are wrong (not an ESC/POS status
    byte — e.g. stray data from a printer that does not support DLE EOT)."""

    n: int
    online: bool = True
    paper_out: bool = False
    paper_low: bool = False
    cover_open: bool = False
    error: bool = False
    well_formed: bool = True


def parse_status(n: int, value: int) -> PrinterStatusBits:
    """Interpret the reply byte `value` to DLE EOT `n` (see the bit table above)."""
    status_query(n)
    if not 0 <= value <= 0xFF:
        raise ValueError(f"a status byte is 0..255, not {value}")
    well_formed = value & _STATUS_FIXED_MASK == _STATUS_FIXED
    if n == PRINTER_STATUS:
        return PrinterStatusBits(n, online=not value & 0x08, well_formed=well_formed)
    if n == OFFLINE_CAUSE:
        return PrinterStatusBits(
            n,
            cover_open=bool(value & 0x04),
            paper_out=bool(value & 0x20),
            error=bool(value & 0x40),
            well_formed=well_formed,
        )
    if n == ERROR_CAUSE:
        return PrinterStatusBits(n, error=bool(value & 0x6C), well_formed=well_formed)
    return PrinterStatusBits(
        n,
        paper_low=value & 0x0C == 0x0C,
        paper_out=value & 0x60 == 0x60,
        well_formed=well_formed,
    )


def status_reply(
    n: int,
    *,
    online: bool = True,
    paper_out: bool = False,
    paper_low: bool = False,
    cover_open: bool = False,
    error: bool = False,
) -> bytes:
    """The one-byte reply a printer in this state gives to DLE EOT `n` (for simulators).
    A printer with the cover open, out of paper or in error is offline (bit 3 of n=1)."""
    status_query(n)
    value = _STATUS_FIXED
    if n == PRINTER_STATUS:
        if not online or paper_out or cover_open or error:
            value |= 0x08
    elif n == OFFLINE_CAUSE:
        value |= (0x04 if cover_open else 0) | (0x20 if paper_out else 0)
        value |= 0x40 if error else 0
    elif n == ERROR_CAUSE:
        value |= 0x20 if error else 0
    else:
        value |= (0x0C if paper_low or paper_out else 0) | (0x60 if paper_out else 0)
    return bytes((value,))
