"""Whole-number options and arguments (counts, points, limits) read like every number a
person types: ASCII or fullwidth digits, within a range, with the domain's message.

click's own INT and IntRange go through int(), which also takes "1_000", Arabic-Indic or
other scripts' digits and numbers of any size: `points give 1000000000000000000000` reached
SQLite as an overflow."""

from __future__ import annotations

import re
from typing import Any

import click

from pos_app.domain.control_chars import shown
from pos_app.domain.errors import InvalidInput
from pos_app.domain.typed_numbers import ascii_numerals, parse_whole_number

_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class WholeNumber(click.ParamType):
    """A whole number from `minimum` to `maximum`; `signed` also takes a leading + or - (a
    points adjustment), the range then applying to its size."""

    name = "integer"

    def __init__(
        self, minimum: int, maximum: int, what_zh: str, what_en: str, *, signed: bool = False
    ) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.what_zh = what_zh
        self.what_en = what_en
        self.signed = signed

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """The number, or a usage error in the language of this run."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value  # a default written in the code
        text = str(value).strip()
        sign = 1
        if self.signed and text[:1] in ("+", "-", "＋", "－"):
            sign, text = (-1 if text[0] in "-－" else 1), text[1:]
        try:
            return sign * parse_whole_number(
                text,
                minimum=self.minimum,
                maximum=self.maximum,
                what_zh=self.what_zh,
                what_en=self.what_en,
            )
        except InvalidInput as exc:
            lang = getattr(ctx.find_root().obj if ctx else None, "lang", "zh")
            self.fail(exc.message(lang), param, ctx)


# Points typed at the counter or by a manager: more than a billion is a slip of the keyboard.
POINTS = WholeNumber(1, 1_000_000_000, "积分", "points")
POINTS_DELTA = WholeNumber(1, 1_000_000_000, "调整积分", "points", signed=True)


class Seconds(click.ParamType):
    """A number of seconds (a timeout) from `minimum` to `maximum`, as digits with an optional
    decimal part: click's FloatRange took "nan", which passes every range check and made
    `hw read-card --timeout nan` wait forever, and float() takes other scripts' digits."""

    name = "seconds"

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """The seconds, or a usage error naming the range."""
        if isinstance(value, float | int) and not isinstance(value, bool):
            return float(value)  # a default written in the code
        text = ascii_numerals(str(value).strip())
        if _SECONDS.fullmatch(text) and len(text) <= 12:
            seconds = float(text)
            if self.minimum <= seconds <= self.maximum:
                return seconds
        self.fail(
            f"秒数必须在 {self.minimum:g} 到 {self.maximum:g} 之间 / Seconds must be from "
            f"{self.minimum:g} to {self.maximum:g}: {shown(str(value))}",
            param,
            ctx,
        )
