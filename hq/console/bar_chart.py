"""Bar charts as inline SVG, drawn on the server: no script, prints and screenshots as the
page does. Values are integers (fen or counts); labels are escaped here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#2f6fb0", "#e0803a", "#3f9d5a", "#b04a4a", "#7a5bb0", "#8c8c3a", "#3a8c8c")
_BAR, _GAP, _GROUP_GAP, _HEIGHT, _LEFT, _BOTTOM, _TOP = 18, 2, 16, 180, 70, 40, 24
_LEGEND_STEP = 160  # three legend keys a row


def grouped_bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    label: Callable[[int], str],
    title: str,
) -> Markup:
    """Bars grouped by category (e.g. days), one colour per series (e.g. stores), with a
    legend; `label` formats a value for the axis and the bars' tooltips."""
    values = [v for _name, vs in series for v in vs]
    top = max([*values, 0]) or 1
    bottom = min([*values, 0])
    span = top - bottom or 1
    group = len(series) * (_BAR + _GAP) - _GAP
    bars_width = _LEFT + max(1, len(categories)) * (group + _GROUP_GAP) + 10
    width = max(bars_width, _LEFT + min(3, len(series)) * _LEGEND_STEP)
    legend_y = _TOP + _HEIGHT + _BOTTOM
    height = legend_y + 18 * ((len(series) + 2) // 3) + 6

    def y_of(value: int) -> float:
        return _TOP + (top - value) * _HEIGHT / span

    zero = y_of(0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{_LEFT}" y1="{zero:.1f}" x2="{bars_width - 5}" y2="{zero:.1f}" class="axis"/>',
        f'<text x="{_LEFT - 6}" y="{y_of(top) + 4:.1f}" class="tick" text-anchor="end">'
        f"{escape(label(top))}</text>",
        f'<text x="{_LEFT - 6}" y="{zero + 4:.1f}" class="tick" text-anchor="end">'
        f"{escape(label(0))}</text>",
    ]
    if bottom < 0:
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y_of(bottom) + 4:.1f}" class="tick" '
            f'text-anchor="end">{escape(label(bottom))}</text>'
        )
    for c, category in enumerate(categories):
        x0 = _LEFT + 8 + c * (group + _GROUP_GAP)
        for s, (name, vs) in enumerate(series):
            value = vs[c] if c < len(vs) else 0
            x = x0 + s * (_BAR + _GAP)
            y, h = min(y_of(value), zero), abs(y_of(value) - zero)
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{_BAR}" height="{max(h, 0.5):.1f}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(name)} {escape(category)}: '
                f"{escape(label(value))}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group / 2:.1f}" y="{_TOP + _HEIGHT + 16}" class="tick" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
    for s, (name, _vs) in enumerate(series):
        x, y = _LEFT + (s % 3) * _LEGEND_STEP, legend_y + 18 * (s // 3)
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" '
            f'fill="{PALETTE[s % len(PALETTE)]}"/>'
            f'<text x="{x + 18}" y="{y}" class="legend">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
