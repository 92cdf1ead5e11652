"""A print document: what a receipt printer is asked to print, independent of the printer.

The app lays out a receipt as a sequence of blocks; the ESC/POS encoder turns them into the
printer's bytes (text mode in the printer's encoding, or a raster image rendered with the
bundled CJK font), and the decoder turns bytes back into text for tests and the simulator.
Text lines hold characters, not bytes: the encoder chooses the encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Align = Literal["left", "center", "right"]
Encoding = Literal["gb18030", "gbk", "big5", "utf-8"]
ENCODINGS: tuple[Encoding, ...] = ("gb18030", "gbk", "big5", "utf-8")
PAPER_WIDTHS = (58, 80)


@dataclass(frozen=True)
class TextLine:
    """One line of text. `double` prints it twice as wide and tall (half the columns)."""

    text: str
    align: Align = "left"
    bold: bool = False
    double: bool = False


@dataclass(frozen=True)
class Rule:
    """A line across the paper, drawn with `char`."""

    char: str = "-"


@dataclass(frozen=True)
class QrCode:
    """A QR code of `data`, centred; `size` is the module size in dots (1–16)."""

    data: str
    size: int = 6


@dataclass(frozen=True)
class Barcode:
    """A 1-D barcode of `data` (CODE128 takes letters, digits and '-'), centred."""

    data: str
    symbology: Literal["CODE128", "EAN13"] = "CODE128"
    height: int = 64


@dataclass(frozen=True)
class Logo:
    """A picture (PNG/BMP file) printed centred, scaled down to the paper if wider."""

    path: str


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1


Block = TextLine | Rule | QrCode | Barcode | Logo | Feed


@dataclass(frozen=True)
class PrintDocument:
    """Blocks to print, then a cut. `title` names the job in the spooler ("SH01-…-0001")."""

    blocks: tuple[Block, ...]
    title: str = ""
    cut: bool = True


@dataclass(frozen=True)
class PrinterProfile:
    """How to talk to one printer: paper width, text encoding, and whether to print text as
    a raster image (for printers without a Chinese font)."""

    paper_mm: int = 80
    encoding: Encoding = "gb18030"
    image: bool = False

    def __post_init__(self) -> None:
        if self.paper_mm not in PAPER_WIDTHS:
            raise ValueError(f"paper width must be 58 or 80 mm, not {self.paper_mm}")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}")

    @property
    def columns(self) -> int:
        """Characters per line in font A (12×24 dots): 32 on 58 mm, 48 on 80 mm."""
        return 32 if self.paper_mm == 58 else 48

    @property
    def dots(self) -> int:
        """Printable width in dots at 203 dpi: 384 on 58 mm, 576 on 80 mm."""
        return 384 if self.paper_mm == 58 else 576
