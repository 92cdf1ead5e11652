"""ESC/POS bytes back into what the paper shows: text lines, QR codes, barcodes, pictures,
cuts and drawer kicks — for tests, the printer simulator, and PNGs people can look at.

A small interpreter modelled on a Chinese-market ESC/POS printer. It understands everything
`escpos_encoder.encode` sends and what python-escpos 3.1 sends for the same things
(ESC @, ESC a, ESC E, ESC !, GS !, FS & / FS . / FS !, ESC t, QR via GS ( k, barcodes via
GS k with GS h/w/H/f, raster images via GS v 0, GS ( L and ESC *, cuts via GS V, drawer
kicks via ESC p, DLE EOT status queries, LF/CR/HT). Anything else is skipped — by its known
parameter length where possible — and listed in `.unknown`; truncated or garbage input
never raises.

Text: with GB18030/GBK/Big5 a byte ≥ 0x80 starts a double-byte character (GB18030: also a
four-byte one) only in Chinese mode (FS & … FS .); outside it, it is one character of the
single-byte code page chosen with ESC t — which is how a printer prints raw GB bytes sent
without FS & (pass `chinese_mode=True` for printers that power up in Chinese mode). With
UTF-8, characters are read by their lead byte. A character the printer cannot make out
becomes "?". Lines wrap at `columns` like on paper; alignment (ESC a) is applied as spaces
in `.lines`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from hardware.printing.document import ENCODINGS, Align, Encoding
from hardware.printing.escpos_encoder import char_columns, python_codec
from hardware.printing.receipt_image import (
    CELL_DOTS,
    LINE_DOTS,
    WHITE,
    Cell,
    barcode_image,
    draw_cells,
    qr_image,
    row_height,
    to_one_bit,
)

logger = logging.getLogger(__name__)

ESC, FS, GS, DLE = 0x1B, 0x1C, 0x1D, 0x10
_ALIGNS: dict[int, Align] = {0: "left", 1: "center", 2: "right"}
# ESC t n → Python codec, for the code pages that matter outside Chinese mode.
_CODEPAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252"}
_CODEPAGES |= {17: "cp866", 18: "cp852", 19: "cp858"}
_BARCODE_A = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "NW7"}
_BARCODE_B = {65 + k: name for k, name in _BARCODE_A.items()}
_BARCODE_B |= {72: "CODE93", 73: "CODE128", 74: "GS1-128", 75: "GS1 DATABAR OMNI"}
_BARCODE_B |= {76: "GS1 DATABAR TRUNCATED", 77: "GS1 DATABAR LIMITED"}
_BARCODE_B |= {78: "GS1 DATABAR EXPANDED", 79: "CODE128 AUTO"}
# Parameter bytes of simple commands we do not act on (so they are skipped, not printed).
_ESC_PARAMS = {
    "-": 1, "G": 1, "M": 1, "R": 1, "e": 1, "K": 1, "V": 1, "r": 1, "{": 1, " ": 1, "$": 2,
    "\\": 2, "U": 1, "T": 1, "L": 0, "S": 0, "=": 1, "<": 0, "c": 2, "u": 1, "v": 0, "B": 2,
    "%": 1, "?": 1, "W": 8, "A": 1, "+": 1, "I": 1,
}  # fmt: skip
_GS_PARAMS = {
    "B": 1, "b": 1, "a": 1, "r": 1, "I": 1, "|": 1, "L": 2, "W": 2, "P": 2, "$": 2, "\\": 2,
    "^": 3, "E": 1, "T": 1, "/": 1, ":": 0, "g": 2, "Z": 1,
}  # fmt: skip
_FS_PARAMS = {"-": 1, "C": 1, "S": 2, "W": 1, "p": 2, "r": 1}


@dataclass
class PrintedLine:
    """One line of text on the paper: its characters on the column grid, and the
    alignment (ESC a) in force when it started."""

    cells: list[Cell] = field(default_factory=list)
    align: Align = "left"

    @property
    def text(self) -> str:
        """The characters, without alignment padding."""
        return "".join(cell.char for cell in self.cells)

    @property
    def columns(self) -> int:
        """Columns the line covers on paper (double size counts double)."""
        return sum(cell.columns for cell in self.cells)

    @property
    def bold(self) -> bool:
        """True if any character is bold."""
        return any(cell.bold for cell in self.cells)

    @property
    def double(self) -> bool:
        """True if any character is printed larger than normal."""
        return any(cell.width_mult > 1 or cell.height_mult > 1 for cell in self.cells)


@dataclass(frozen=True)
class PrintedQr:
    """A QR code printed by the printer (GS ( k)."""

    data: str
    module: int
    align: Align = "left"


@dataclass(frozen=True)
class PrintedBarcode:
    """A 1-D barcode printed by the printer (GS k); `data` without code-set switches."""

    data: str
    symbology: str
    height: int
    module: int
    hri: bool
    align: Align = "left"


@dataclass(frozen=True)
class PrintedImage:
    """A raster picture (GS v 0, GS ( L or ESC *); 1-bit, black = printed dot."""

    image: Image.Image
    align: Align = "left"


@dataclass(frozen=True)
class PrintedCut:
    """A paper cut (GS V, ESC i, ESC m)."""

    partial: bool


PaperItem = PrintedLine | PrintedQr | PrintedBarcode | PrintedImage | PrintedCut


@dataclass
class DecodedPrint:
    """What a print job put on paper, in order (`items`), plus what else it did."""

    items: list[PaperItem] = field(default_factory=list)
    columns: int = 48
    drawer_kicks: list[int] = field(default_factory=list)
    status_queries: list[int] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def printed_lines(self) -> list[PrintedLine]:
        """The text lines with their per-character style."""
        return [item for item in self.items if isinstance(item, PrintedLine)]

    @property
    def lines(self) -> list[str]:
        """Text lines as on paper: alignment (ESC a) applied with spaces, blank lines kept.
        A double-size character is one character here; `printed_lines` has the sizes."""
        out = []
        for line in self.printed_lines:
            room = max(0, self.columns - line.columns)
            pad = {"left": 0, "center": room // 2, "right": room}[line.align]
            out.append(" " * pad + line.text)
        return out

    @property
    def text(self) -> str:
        """`lines` joined with newlines."""
        return "\n".join(self.lines)

    @property
    def cuts(self) -> int:
        """How many times the paper was cut."""
        return sum(isinstance(item, PrintedCut) for item in self.items)

    @property
    def qr_codes(self) -> list[str]:
        """Data of each printed QR code."""
        return [item.data for item in self.items if isinstance(item, PrintedQr)]

    @property
    def barcodes(self) -> list[str]:
        """Data of each printed barcode."""
        return [item.data for item in self.items if isinstance(item, PrintedBarcode)]

    @property
    def images(self) -> list[Image.Image]:
        """Each printed picture (bands sent back to back are joined into one)."""
        return [item.image for item in self.items if isinstance(item, PrintedImage)]

    def to_png(self, path: str | Path, dots: int = 576) -> None:
        """Draw the paper `dots` wide — text with the bundled CJK font on the column grid,
        QR codes, barcodes, pictures, a dashed line for each cut — and save it as a 1-bit
        PNG at `path`."""
        save_png(render_paper(self, dots), path)


def save_png(image: Image.Image, path: str | Path) -> None:
    """Save a 1-bit image as a small PNG."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    image.save(Path(path), format="PNG", optimize=True)


def _place(band: Image.Image, img: Image.Image, align: Align) -> None:
    width = min(img.width, band.width)
    x = {"left": 0, "center": (band.width - width) // 2, "right": band.width - width}[align]
    band.paste(img.crop((0, 0, width, img.height)), (x, 0))


def render_paper(decoded: DecodedPrint, dots: int = 576) -> Image.Image:
    """The paper of `decoded` as a 1-bit image `dots` wide (see DecodedPrint.to_png)."""
    bands: list[Image.Image] = []
    for item in decoded.items:
        if isinstance(item, PrintedLine):
            band = Image.new("L", (dots, row_height(item.cells)), WHITE)
            room = max(0, dots - item.columns * CELL_DOTS)
            x = {"left": 0, "center": room // 2, "right": room}[item.align]
            draw_cells(band, x, 0, item.cells)
        elif isinstance(item, PrintedQr):
            qr = qr_image(item.data, item.module)
            band = Image.new("L", (dots, qr.height), WHITE)
            _place(band, qr, item.align)
        elif isinstance(item, PrintedBarcode):
            bars = barcode_image(item.data, item.symbology, item.height, dots, item.module)
            hri = [Cell(ch, char_columns(ch, "utf-8")) for ch in item.data] if item.hri else []
            bars_h = bars.height if bars is not None else 0
            band = Image.new("L", (dots, bars_h + (LINE_DOTS if hri else 0)), WHITE)
            if bars is not None:
                _place(band, bars, item.align)
            if hri:
                width = sum(cell.columns for cell in hri) * CELL_DOTS
                draw_cells(band, max(0, (dots - width) // 2), bars_h, hri)
        elif isinstance(item, PrintedImage):
            img = item.image.convert("L")
            band = Image.new("L", (dots, img.height), WHITE)
            _place(band, img, item.align)
        else:
            band = Image.new("L", (dots, LINE_DOTS), WHITE)
            draw = ImageDraw.Draw(band)
            for x in range(0, dots, 16):
                draw.line((x, LINE_DOTS // 2, x + 8, LINE_DOTS // 2), fill=0, width=2)
        bands.append(band)
    page = Image.new("L", (dots, max(1, sum(band.height for band in bands))), WHITE)
    y = 0
    for band in bands:
        page.paste(band, (0, y))
        y += band.height
    return to_one_bit(page)


def decode(
    data: bytes,
    encoding: str = "gb18030",
    *,
    columns: int = 48,
    chinese_mode: bool = False,
) -> DecodedPrint:
    """Interpret ESC/POS `data` as a printer using `encoding` (gb18030, gbk, big5, utf-8)
    with `columns` columns would print it. `chinese_mode`: the printer starts (and ESC @
    returns) in Chinese mode, as many Chinese-market printers are set up. Never raises for
    any `data`; ValueError for an unknown encoding."""
    enc = encoding.lower().replace("_", "-")
    if enc == "utf8":
        enc = "utf-8"
    if enc not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
    machine = _Printer(bytes(data), enc, max(1, columns), chinese_mode)
    machine.run()
    return machine.result


class _Printer:
    """The interpreter's state: a cursor over the bytes and the printer's modes."""

    def __init__(self, data: bytes, encoding: Encoding, columns: int, chinese: bool) -> None:
        self.data = data
        self.i = 0
        self.encoding = encoding
        self.chinese_default = chinese
        self.result = DecodedPrint(columns=columns)
        self.line = PrintedLine()
        self.last_kind = ""  # what the previous command was, for joining image bands
        self.reset()

    def reset(self) -> None:
        self.align: Align = "left"
        self.bold = False
        self.ank_size = (1, 1)
        self.kanji_size = (1, 1)
        self.chinese = self.chinese_default
        self.codepage = "cp437"
        self.qr_data = b""
        self.qr_module = 3
        self.bc_height = 162
        self.bc_module = 3
        self.bc_hri = False
        self.graphics: Image.Image | None = None

    # -- helpers -------------------------------------------------------------------------

    def take(self, count: int, what: str) -> bytes | None:
        """The next `count` bytes, or None (recorded, input ends) if the data is cut short."""
        if self.i + count > len(self.data):
            self.result.unknown.append(f"truncated {what}")
            self.i = len(self.data)
            return None
        chunk = self.data[self.i : self.i + count]
        self.i += count
        return chunk

    def add_item(self, item: PaperItem) -> None:
        self.end_line(blank=False)
        self.result.items.append(item)

    def end_line(self, blank: bool = True) -> None:
        """Print the line buffer; an empty buffer prints a blank line only if `blank`."""
        if self.line.cells or blank:
            self.result.items.append(self.line)
        self.line = PrintedLine(align=self.align)

    def put(self, char: str, base_columns: int, kanji: bool) -> None:
        width_mult, height_mult = self.kanji_size if kanji else self.ank_size
        columns = base_columns * width_mult
        if self.line.cells and self.line.columns + columns > self.result.columns:
            self.end_line()  # the printer wraps a full line by itself
        if not self.line.cells:
            self.line.align = self.align
        self.line.cells.append(Cell(char, columns, self.bold, width_mult, height_mult))

    # -- main loop -----------------------------------------------------------------------

    def run(self) -> None:
        while self.i < len(self.data):
            previous, self.last_kind = self.last_kind, ""
            byte = self.data[self.i]
            self.i += 1
            if byte == ESC:
                self.esc(previous)
            elif byte == GS:
                self.gs(previous)
            elif byte == FS:
                self.fs()
            elif byte == DLE:
                self.dle()
            elif byte == 0x0A:
                if previous == "column" and not self.line.cells:
                    self.last_kind = "column-lf"  # the LF that prints an ESC * strip
                else:
                    self.end_line()
            elif byte == 0x09:
                for _ in range(8 - self.line.columns % 8):
                    self.put(" ", 1, False)
            elif byte == 0x0C:
                self.end_line(blank=False)
            elif byte in (0x0D, 0x00, 0x18):
                pass  # CR (LF does the printing), NUL padding, CAN (page mode only)
            elif byte < 0x20 or byte == 0x7F:
                self.result.unknown.append(f"control 0x{byte:02X}")
            else:
                self.text(byte)
        self.end_line(blank=False)

    def text(self, byte: int) -> None:
        if byte < 0x80:
            self.put(chr(byte), 1, False)
        elif self.encoding == "utf-8":
            self.utf8(byte)
        elif self.chinese:
            self.double_byte(byte)
        else:
            self.put(bytes((byte,)).decode(self.codepage, errors="replace"), 1, False)

    def utf8(self, lead: int) -> None:
        size = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4
        if not 0xC2 <= lead <= 0xF4:
            self.put("?", 1, False)
            return
        tail = self.data[self.i : self.i + size - 1]
        if len(tail) < size - 1 or any(not 0x80 <= b <= 0xBF for b in tail):
            self.put("?", 1, False)
            return
        try:
            char = (bytes((lead,)) + tail).decode("utf-8")
        except UnicodeDecodeError:
            self.put("?", 1, False)
            return
        self.i += size - 1
        self.put(char, char_columns(char, "utf-8"), False)  # UTF-8 printers size with ESC !

    def double_byte(self, lead: int) -> None:
        data, i = self.data, self.i
        if not 0x81 <= lead <= 0xFE or i >= len(data):
            self.put("?", 1, False)
            return
        second = data[i]
        if self.encoding == "gb18030" and 0x30 <= second <= 0x39:
            code = data[i - 1 : i + 3]
            if len(code) == 4 and 0x81 <= code[2] <= 0xFE and 0x30 <= code[3] <= 0x39:
                self.i += 3
                self.put(_decode_or_mark(code, self.encoding), 2, True)
            else:
                self.put("?", 1, False)
            return
        if second < 0x40 or second == 0x7F or second == 0xFF:
            self.put("?", 1, False)  # not a trail byte: leave it to be read on its own
            return
        self.i += 1
        self.put(_decode_or_mark(bytes((lead, second)), self.encoding), 2, True)

    # -- ESC -----------------------------------------------------------------------------

    def esc(self, previous: str) -> None:
        head = self.take(1, "ESC")
        if head is None:
            return
        cmd = chr(head[0])
        if cmd == "@":
            self.end_line(blank=False)
            self.reset()
        elif cmd in "aE!td3J2p*Dim":
            self.esc_with_params(cmd, previous)
        elif cmd in _ESC_PARAMS:
            self.take(_ESC_PARAMS[cmd], f"ESC {cmd}")
        else:
            self.result.unknown.append(f"ESC 0x{head[0]:02X}")

    def esc_with_params(self, cmd: str, previous: str) -> None:
        if cmd == "2":
            self.last_kind = previous  # line spacing between ESC * strips
            return
        if cmd in "im":
            self.add_item(PrintedCut(partial=cmd == "m"))
            return
        if cmd == "p":
            args = self.take(3, "ESC p")
            if args is not None:
                pin = {0: 2, 48: 2, 1: 5, 49: 5}.get(args[0])
                if pin is None:
                    self.result.unknown.append(f"ESC p m=0x{args[0]:02X}")
                else:
                    self.result.drawer_kicks.append(pin)
            return
        if cmd == "*":
            self.column_image(previous)
            return
        if cmd == "D":  # tab stops: up to 32 bytes ending in NUL
            end = self.data.find(b"\x00", self.i)
            self.i = len(self.data) if end < 0 else end + 1
            return
        arg = self.take(1, f"ESC {cmd}")
        if arg is None:
            return
        n = arg[0]
        if cmd == "a":
            self.align = _ALIGNS.get(n % 48 if n >= 48 else n, "left")
            if not self.line.cells:
                self.line.align = self.align
        elif cmd == "E":
            self.bold = bool(n & 1)
        elif cmd == "!":
            self.bold = bool(n & 0x08)
            self.ank_size = (2 if n & 0x20 else 1, 2 if n & 0x10 else 1)
        elif cmd == "t":
            self.codepage = _CODEPAGES.get(n, "cp437")
        elif cmd == "3":
            self.last_kind = previous
        elif cmd == "d":
            had_text = bool(self.line.cells)
            self.end_line(blank=False)
            for _ in range(n - 1 if had_text else n):
                self.end_line()
        elif cmd == "J":
            if self.line.cells:
                self.end_line()
            else:
                for _ in range(round(n / LINE_DOTS)):
                    self.end_line()

    def column_image(self, previous: str) -> None:
        head = self.take(3, "ESC *")
        if head is None:
            return
        mode, width = head[0], head[1] | head[2] << 8
        rows = {0: 8, 1: 8, 32: 24, 33: 24}.get(mode)
        if rows is None:
            self.result.unknown.append(f"ESC * m={mode}")
            return
        raw = self.take(width * rows // 8, "ESC * data")
        if raw is None or width == 0:
            return
        # Each column is rows/8 bytes, top dot in the high bit: read as rows of a picture
        # `rows` wide and turn it on its side. "1;I": a set bit is a black dot.
        strip = Image.frombytes("1", (rows, width), raw, "raw", "1;I")
        strip = strip.transpose(Image.Transpose.TRANSPOSE)
        if mode in (0, 32):  # single horizontal density: each dot twice as wide
            strip = strip.resize((width * 2, strip.height), Image.Resampling.NEAREST)
        if rows == 8:  # 8-dot strips are printed at a third of the vertical density
            strip = strip.resize((strip.width, 24), Image.Resampling.NEAREST)
        self.end_line(blank=False)
        self.join_image(strip, previous == "column-lf")
        self.last_kind = "column"

    def join_image(self, img: Image.Image, join: bool) -> None:
        items = self.result.items
        last = items[-1] if items else None
        if join and isinstance(last, PrintedImage) and last.image.width == img.width:
            both = Image.new("1", (img.width, last.image.height + img.height), 1)
            both.paste(last.image, (0, 0))
            both.paste(img, (0, last.image.height))
            items[-1] = PrintedImage(both, last.align)
        else:
            self.add_item(PrintedImage(img, self.align))

    # -- GS ------------------------------------------------------------------------------

    def gs(self, previous: str) -> None:
        head = self.take(1, "GS")
        if head is None:
            return
        cmd = chr(head[0])
        if cmd == "(" or cmd == "8":
            self.gs_block(cmd)
        elif cmd == "v":
            self.raster(previous)
        elif cmd == "k":
            self.barcode()
        elif cmd == "V":
            self.cut()
        elif cmd == "*":
            size = self.take(2, "GS *")
            if size is not None:
                self.take(size[0] * size[1] * 8, "GS * data")
        elif cmd in "!hwHf":
            arg = self.take(1, f"GS {cmd}")
            if arg is None:
                return
            n = arg[0]
            if cmd == "!":
                self.ank_size = self.kanji_size = ((n >> 4 & 7) + 1, (n & 7) + 1)
            elif cmd == "h":
                self.bc_height = max(1, n)
            elif cmd == "w":
                self.bc_module = n if 1 <= n <= 6 else 3
            elif cmd == "H":
                self.bc_hri = n % 48 in (2, 3) if n >= 48 else n in (2, 3)
        elif cmd in _GS_PARAMS:
            self.take(_GS_PARAMS[cmd], f"GS {cmd}")
        else:
            self.result.unknown.append(f"GS 0x{head[0]:02X}")

    def gs_block(self, cmd: str) -> None:
        """GS ( x pL pH … and GS 8 L p1..p4 …: functions with a length prefix."""
        if cmd == "8":
            head = self.take(5, "GS 8")
            if head is None:
                return
            fn_group, length = chr(head[0]), int.from_bytes(head[1:5], "little")
        else:
            head = self.take(3, "GS (")
            if head is None:
                return
            fn_group, length = chr(head[0]), head[1] | head[2] << 8
        body = self.take(length, f"GS ( {fn_group}")
        if body is None:
            return
        if fn_group == "k" and len(body) >= 2 and body[0] == 49:
            self.qr(body[1], body[2:])
        elif fn_group == "L" and len(body) >= 2:
            self.graphics_function(body[1], body[2:])
        else:
            self.result.unknown.append(f"GS ( {fn_group} " + body[:2].hex(" "))

    def qr(self, fn: int, args: bytes) -> None:
        if fn == 67 and args:
            self.qr_module = max(1, min(16, args[0]))
        elif fn == 80 and args:
            self.qr_data = args[1:]  # after m = '0'
        elif fn == 81:
            try:
                text = self.qr_data.decode("utf-8")
            except UnicodeDecodeError:
                text = self.qr_data.decode(python_codec(self.encoding), errors="replace")
            if text:
                self.add_item(PrintedQr(text, self.qr_module, self.align))

    def graphics_function(self, fn: int, args: bytes) -> None:
        if fn in (112, 113) and len(args) >= 8:  # store raster graphics
            tone, scale_x, scale_y = args[0], args[1], args[2]
            width, height = args[4] | args[5] << 8, args[6] | args[7] << 8
            raw = args[8 : 8 + (width + 7) // 8 * height]
            if tone != 48 or width == 0 or height == 0 or len(raw) < (width + 7) // 8 * height:
                self.result.unknown.append("GS ( L graphics")
                return
            img = Image.frombytes("1", ((width + 7) // 8 * 8, height), raw, "raw", "1;I")
            img = img.crop((0, 0, width, height))
            size = (width * (2 if scale_x == 2 else 1), height * (2 if scale_y == 2 else 1))
            self.graphics = img.resize(size, Image.Resampling.NEAREST)
        elif fn in (50, 2) and self.graphics is not None:  # print stored graphics
            self.add_item(PrintedImage(self.graphics, self.align))
            self.graphics = None
        elif fn not in (48, 49, 50, 2):
            self.result.unknown.append(f"GS ( L fn={fn}")

    def raster(self, previous: str) -> None:
        head = self.take(6, "GS v")
        if head is None:
            return
        if head[0] != 0x30:
            self.result.unknown.append(f"GS v 0x{head[0]:02X}")
            return
        mode = head[1] % 48 if head[1] >= 48 else head[1]
        width_bytes, height = head[2] | head[3] << 8, head[4] | head[5] << 8
        raw = self.take(width_bytes * height, "GS v 0 data")
        if raw is None or width_bytes == 0 or height == 0:
            return
        img = Image.frombytes("1", (width_bytes * 8, height), raw, "raw", "1;I")
        if mode & 3:
            size = (img.width * (2 if mode & 1 else 1), img.height * (2 if mode & 2 else 1))
            img = img.resize(size, Image.Resampling.NEAREST)
        self.join_image(img, previous == "raster")
        self.last_kind = "raster"

    def barcode(self) -> None:
        head = self.take(1, "GS k")
        if head is None:
            return
        kind = head[0]
        if kind <= 6:
            end = self.data.find(b"\x00", self.i)
            if end < 0:
                self.result.unknown.append("truncated GS k")
                self.i = len(self.data)
                return
            raw, self.i = self.data[self.i : end], end + 1
            name = _BARCODE_A[kind]
        elif kind in _BARCODE_B:
            size = self.take(1, "GS k")
            raw_or_none = self.take(size[0], "GS k data") if size is not None else None
            if raw_or_none is None:
                return
            raw, name = raw_or_none, _BARCODE_B[kind]
        else:
            self.result.unknown.append(f"GS k m={kind}")
            return
        text = _code128_text(raw) if name.startswith(("CODE128", "GS1-128")) else raw
        item = PrintedBarcode(
            text.decode("latin-1") if isinstance(text, bytes) else text,
            "CODE128" if name.startswith("CODE128") else name,
            self.bc_height,
            self.bc_module,
            self.bc_hri,
            self.align,
        )
        self.add_item(item)

    def cut(self) -> None:
        head = self.take(1, "GS V")
        if head is None:
            return
        mode = head[0]
        if mode in (65, 66, 97, 98, 103, 104):
            self.take(1, "GS V n")
        elif mode not in (0, 1, 48, 49):
            self.result.unknown.append(f"GS V m={mode}")
            return
        self.add_item(PrintedCut(partial=mode in (1, 49, 66, 98, 104)))

    # -- FS, DLE -------------------------------------------------------------------------

    def fs(self) -> None:
        head = self.take(1, "FS")
        if head is None:
            return
        cmd = chr(head[0])
        if cmd == "&":
            self.chinese = True
        elif cmd == ".":
            self.chinese = False
        elif cmd == "!":
            arg = self.take(1, "FS !")
            if arg is not None:
                self.kanji_size = (2 if arg[0] & 0x04 else 1, 2 if arg[0] & 0x08 else 1)
        elif cmd in _FS_PARAMS:
            self.take(_FS_PARAMS[cmd], f"FS {cmd}")
        else:
            self.result.unknown.append(f"FS 0x{head[0]:02X}")

    def dle(self) -> None:
        head = self.take(2, "DLE")
        if head is None:
            return
        cmd, n = head
        if cmd == 0x04:  # DLE EOT n: status query; answered by the printer, prints nothing
            self.result.status_queries.append(n)
            if n in (7, 8, 18):
                self.take(1, "DLE EOT a")
        elif cmd == 0x05:  # DLE ENQ n: recover from error
            pass
        elif cmd == 0x14 and n == 1:  # DLE DC4 1 m t: real-time drawer pulse
            args = self.take(2, "DLE DC4")
            if args is not None:
                self.result.drawer_kicks.append(5 if args[0] == 1 else 2)
        elif cmd == 0x14 and n == 8:
            self.take(7, "DLE DC4 8")
        else:
            self.result.unknown.append(f"DLE 0x{cmd:02X} 0x{n:02X}")


def _decode_or_mark(code: bytes, encoding: str) -> str:
    try:
        text = code.decode(python_codec(encoding))
    except UnicodeDecodeError:
        return "?"
    return text if len(text) == 1 else "?"


def _code128_text(raw: bytes) -> str:
    """The characters a CODE128 GS k payload encodes: `{A`/`{B`/`{C` switch code sets, `{{`
    is a `{`, other `{x` are function codes; in code set C each byte is two digits."""
    out: list[str] = []
    code_set = "B"
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x7B and i + 1 < len(raw):
            nxt = chr(raw[i + 1])
            if nxt in "ABC":
                code_set = nxt
            elif nxt == "{":
                out.append("{")
            i += 2
            continue
        out.append(f"{byte:02d}" if code_set == "C" and byte < 100 else chr(byte))
        i += 1
    return "".join(out)
