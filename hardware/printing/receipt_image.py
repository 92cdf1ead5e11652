"""A receipt drawn as a 1-bit picture, for printers with no Chinese font (image mode).

Text is drawn with the bundled CJK font (resources.CJK_FONT) character by character on the
printer's column grid — a cell is 12 dots wide, a Chinese character two cells (24 dots),
a line 30 dots high (the ESC/POS default line spacing at 203 dpi) — so the picture has the
same 32/48 columns and the same layout as text mode (`escpos_encoder.layout_text`). QR codes
come from the qrcode library, barcodes from python-barcode's module patterns. The drawing
pieces here are also what the decoder uses to draw a printed receipt as a PNG.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import barcode
import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFont

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
from hardware.printing.escpos_encoder import (
    barcode_module_width,
    char_columns,
    layout_text,
    load_logo,
    printable_text,
    qr_module_size,
    rule_text,
)
from resources import CJK_FONT

logger = logging.getLogger(__name__)

CELL_DOTS = 12  # width of one column (font A is 12 × 24 dots)
GLYPH_DOTS = 24  # height of a character, width of a Chinese one
LINE_DOTS = 30  # one text line: 24-dot characters plus the default 6 dots of line spacing
WHITE = 255
BLACK = 0


@dataclass(frozen=True)
class Cell:
    """One printed character on the column grid. `columns` counts the cells it covers on
    paper, magnification included (a double-width Chinese character covers 4);
    `width_mult`/`height_mult` are the character size (1 normal, 2 double, up to 8)."""

    char: str
    columns: int
    bold: bool = False
    width_mult: int = 1
    height_mult: int = 1


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(CJK_FONT), size)


@lru_cache(maxsize=8192)
def _glyph(char: str, columns: int, bold: bool) -> Image.Image:
    """A character as a mask ('L', 255 = ink) of `columns` cells × one line."""
    width = columns * CELL_DOTS
    mask = Image.new("L", (width, LINE_DOTS), 0)
    if char.isspace() or not char:
        return mask
    font = _font(GLYPH_DOTS)
    advance = max(1, round(font.getlength(char)))
    art = Image.new("L", (advance + 2, LINE_DOTS), 0)
    ImageDraw.Draw(art).text((0, 0), char, font=font, fill=255)
    if bold:  # printers embolden by striking each dot twice, one dot to the right
        shifted = Image.new("L", art.size, 0)
        shifted.paste(art, (1, 0))
        art = ImageChops.lighter(art, shifted)
    room = width - 1 if columns == 1 else width
    if advance > room:  # a wide Latin letter squeezed into its 12-dot cell
        box = art.getbbox()
        if box is None:
            return mask
        art = art.crop((box[0], 0, box[2], LINE_DOTS))
        art = art.resize((min(room, art.width), LINE_DOTS), Image.Resampling.LANCZOS)
    else:  # placed by its advance, so full-width punctuation sits where the font puts it
        art = art.crop((0, 0, min(advance + int(bold), width), LINE_DOTS))
    mask.paste(art, ((width - art.width) // 2, 0))
    return mask


def draw_cells(canvas: Image.Image, x: int, y: int, cells: Iterable[Cell]) -> None:
    """Draw `cells` left to right from (x, y) on an 'L' canvas, each in its own cells of the
    column grid; double-size cells are the normal glyph scaled ×2 like a printer does."""
    for cell in cells:
        base = max(1, cell.columns // max(1, cell.width_mult))
        glyph = _glyph(cell.char, base, cell.bold)
        size = (cell.columns * CELL_DOTS, LINE_DOTS * max(1, cell.height_mult))
        if glyph.size != size:
            glyph = glyph.resize(size, Image.Resampling.NEAREST)
        canvas.paste(BLACK, (x, y, x + size[0], y + size[1]), glyph)
        x += size[0]


def row_height(cells: Iterable[Cell]) -> int:
    """Height in dots of a text line holding `cells`."""
    return LINE_DOTS * max((cell.height_mult for cell in cells), default=1)


def qr_image(data: str, module: int) -> Image.Image:
    """A QR code of `data` (error correction M, like the encoder), `module` dots per module,
    with its 4-module quiet zone, as an 'L' image."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    img = Image.new("L", (len(matrix), len(matrix)), WHITE)
    img.putdata([BLACK if dark else WHITE for row in matrix for dark in row])
    module = max(1, module)
    return img.resize((img.width * module, img.height * module), Image.Resampling.NEAREST)


_BARCODE_CLASSES = {
    "CODE128": "code128",
    "EAN13": "ean13",
    "EAN8": "ean8",
    "UPC-A": "upca",
    "CODE39": "code39",
    "ITF": "itf",
    "NW7": "codabar",
}


def barcode_modules(data: str, symbology: str) -> str | None:
    """The bar pattern ('1' = bar) python-barcode draws for `data`, None if it cannot."""
    name = _BARCODE_CLASSES.get(symbology)
    if name is None:
        return None
    try:
        kwargs = {"add_checksum": False} if name == "code39" else {}
        code = barcode.get_barcode_class(name)(data, **kwargs)
        pattern = "".join(code.build())
    except Exception:  # python-barcode raises a zoo of errors for bad data; any means "no"
        return None
    return pattern or None


def barcode_image(
    data: str, symbology: str, height: int, dots: int, module: int = 0
) -> Image.Image | None:
    """Bars for `data` `height` dots high, `module` dots per module (0: the widest of 3/2
    that fits `dots`) as an 'L' image; None when python-barcode cannot draw it or it does
    not fit."""
    pattern = barcode_modules(data, symbology)
    if pattern is None:
        return None
    width = module or barcode_module_width(len(pattern), dots)
    if width is None:
        return None
    img = Image.new("L", (len(pattern), 1), WHITE)
    img.putdata([BLACK if bit == "1" else WHITE for bit in pattern])
    return img.resize((len(pattern) * width, max(1, height)), Image.Resampling.NEAREST)


def text_row(
    text: str, encoding: Encoding, *, bold: bool = False, double: bool = False
) -> list[Cell]:
    """Cells for one laid-out line of text (see escpos_encoder.layout_text)."""
    mult = 2 if double else 1
    return [
        Cell(ch, char_columns(ch, encoding) * mult, bold=bold, width_mult=mult, height_mult=mult)
        for ch in text
    ]


def _centered(img: Image.Image, dots: int) -> Image.Image:
    band = Image.new("L", (dots, img.height), WHITE)
    band.paste(
        img.crop((0, 0, min(img.width, dots), img.height)), ((dots - min(img.width, dots)) // 2, 0)
    )
    return band


def _text_band(cells: list[Cell], dots: int) -> Image.Image:
    band = Image.new("L", (dots, row_height(cells)), WHITE)
    draw_cells(band, 0, 0, cells)
    return band


def to_one_bit(img: Image.Image) -> Image.Image:
    """An 'L' drawing as a 1-bit image (thresholded, not dithered: text stays crisp)."""
    return img.convert("L").point(lambda v: 255 if v >= 128 else 0, mode="1")


def render_image(doc: PrintDocument, profile: PrinterProfile) -> Image.Image:
    """The whole receipt `doc` as a 1-bit image `profile.dots` wide, laid out exactly as in
    text mode (same columns, wrapping, alignment), for printers without a Chinese font."""
    dots, columns, enc = profile.dots, profile.columns, profile.encoding
    bands: list[Image.Image] = []
    for block in doc.blocks:
        if isinstance(block, TextLine):
            for piece in layout_text(block, columns, enc):
                cells = text_row(piece, enc, bold=block.bold, double=block.double)
                bands.append(_text_band(cells, dots))
        elif isinstance(block, Rule):
            bands.append(_text_band(text_row(rule_text(block, columns, enc), enc), dots))
        elif isinstance(block, Feed):
            if block.lines > 0:
                bands.append(Image.new("L", (dots, LINE_DOTS * min(255, block.lines)), WHITE))
        elif isinstance(block, QrCode):
            if block.data:
                size = qr_module_size(block.data, block.size, dots)
                bands.append(_centered(qr_image(block.data, size), dots))
        elif isinstance(block, Barcode):
            bars = barcode_image(block.data, block.symbology, max(1, min(255, block.height)), dots)
            if bars is not None:
                bands.append(_centered(bars, dots))
            label = printable_text(block.data, enc)
            hri = TextLine(label, align="center")
            for piece in layout_text(hri, columns, enc):
                bands.append(_text_band(text_row(piece, enc), dots))
        elif isinstance(block, Logo):
            logo = load_logo(block.path, dots)
            if logo is not None:
                flat = Image.new("RGBA", logo.size, (255, 255, 255, 255))
                flat.alpha_composite(logo)
                # Dithered, so a photo or a grey logo keeps its shades in dots.
                bands.append(_centered(flat.convert("1").convert("L"), dots))
    height = max(1, sum(band.height for band in bands))
    page = Image.new("L", (dots, height), WHITE)
    y = 0
    for band in bands:
        page.paste(band, (0, y))
        y += band.height
    return to_one_bit(page)
