"""Bar charts as inline SVG, drawn on the server (no chart library, nothing to download).

Used by /windows (usage per window, customers against staffing) and /events (counts by
kind). Labels are escaped; the chart scales to the largest value and marks each bar
with its number, so it reads without a legend lookup and prints in black and white.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#3b6fb6", "#5aa469", "#e0a526", "#8e6bbf", "#d9534f", "#6c757d", "#17a2b8")


@dataclass(frozen=True)
class Series:
    """One colour of bars: a name for the legend and one value per category."""

    name: str
    values: Sequence[float]
    color: str | None = None


def _nice_max(value: float) -> float:
    """The smallest 1/2/5 x 10^n at or above ``value`` (axis top), 1 for nothing."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        top = step * 10 ** exp
        if top >= value:
            return float(top)
    return float(10 ** (exp + 1))


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def bar_chart(categories: Sequence[str], series: Sequence[Series], *, title: str,
              unit: str = "", width: int = 760, bar_h: int = 14) -> str:
    """Horizontal grouped bars: one group per category, one bar per series.

    Horizontal, because category labels (window names, event kinds) are long and in
    Chinese; the SVG grows in height with the number of categories.
    """
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for "
                             f"{len(categories)} categories")
    label_w, pad, legend_h = 170, 8, 22
    group_h = bar_h * max(1, len(series)) + pad
    plot_w = width - label_w - 60
    top = _nice_max(max((v for s in series for v in s.values), default=0.0))
    height = 30 + legend_h + group_h * len(categories) + 24
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
           f"<title>{escape(title)}</title>",
           f'<text x="0" y="16" class="chart-title">{escape(title)}</text>']
    x = label_w
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{color}"/>'
                   f'<text x="{x + 14}" y="35" class="chart-legend">{escape(s.name)}</text>')
        x += 24 + 12 * len(s.name) + 20
    y0 = 30 + legend_h
    for c, name in enumerate(categories):
        gy = y0 + c * group_h
        out.append(f'<text x="{label_w - 6}" y="{gy + group_h / 2 + 4:.0f}" '
                   f'text-anchor="end" class="chart-label">{escape(name)}</text>')
        for i, s in enumerate(series):
            v = float(s.values[c])
            w = plot_w * v / top
            by = gy + i * bar_h
            color = s.color or PALETTE[i % len(PALETTE)]
            out.append(f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" '
                       f'fill="{color}" data-series="{escape(s.name)}" '
                       f'data-category="{escape(name)}" data-value="{_fmt(v)}">'
                       f"<title>{escape(name)} · {escape(s.name)}: {_fmt(v)}{escape(unit)}"
                       "</title></rect>")
            out.append(f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h - 3}" '
                       f'class="chart-value">{_fmt(v)}{escape(unit)}</text>')
    axis_y = y0 + group_h * len(categories) + 4
    out.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" '
               'stroke="#999"/>')
    for k in range(5):
        tx = label_w + plot_w * k / 4
        out.append(f'<text x="{tx:.0f}" y="{axis_y + 14}" text-anchor="middle" '
                   f'class="chart-axis">{_fmt(top * k / 4)}</text>')
    out.append("</svg>")
    return "".join(out)
