"""Bar and line charts as server-rendered SVG (no script, no chart library to ship).

Each chart is plain markup with a ``<title>`` per bar/point (the value on hover) and
the numbers printed, so it reads without a mouse; bars may link to a drill-down.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T = 720, 220, 44, 56, 24


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.1f}"


def _scale(values: Sequence[float]) -> float:
    top = max((v for v in values), default=0.0)
    return top if top > 0 else 1.0


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float],
              links: Sequence[str | None] | None = None, css_id: str = "") -> Markup:
    """A vertical bar chart; ``links[i]`` makes bar i a link."""
    n = max(1, len(values))
    top = _scale(values)
    inner_w, inner_h = WIDTH - PAD_L - 8, HEIGHT - PAD_B - PAD_T
    step = inner_w / n
    bar = max(2.0, step * 0.7)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg"'
             + (f' id="{escape(css_id)}"' if css_id else "") + ">",
             f"<title>{escape(title)}</title>",
             f'<text x="{PAD_L}" y="14" font-size="13">{escape(title)}</text>',
             f'<line x1="{PAD_L}" y1="{HEIGHT - PAD_B}" x2="{WIDTH - 8}" '
             f'y2="{HEIGHT - PAD_B}" stroke="#888"/>',
             f'<text x="{PAD_L - 4}" y="{PAD_T + 4}" font-size="10" text-anchor="end">'
             f"{_fmt(top)}</text>",
             f'<text x="{PAD_L - 4}" y="{HEIGHT - PAD_B}" font-size="10" '
             'text-anchor="end">0</text>']
    for i, (name, v) in enumerate(zip(labels, values, strict=True)):
        h = inner_h * max(0.0, v) / top
        x = PAD_L + i * step + (step - bar) / 2
        y = HEIGHT - PAD_B - h
        rect = (f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="#3b6ea5"><title>{escape(name)}: {_fmt(v)}</title>'
                "</rect>")
        link = links[i] if links else None
        parts.append(f'<a href="{escape(link)}">{rect}</a>' if link else rect)
        if n <= 40:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" font-size="9" '
                         f'text-anchor="middle">{_fmt(v)}</text>')
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - PAD_B + 12}" '
                         f'font-size="9" text-anchor="end" transform="rotate(-35 '
                         f'{x + bar / 2:.1f} {HEIGHT - PAD_B + 12})">{escape(name[:14])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(title: str, labels: Sequence[str], values: Sequence[float | None],
               css_id: str = "") -> Markup:
    """A line chart over ``labels`` (a gap where a value is None)."""
    n = len(values)
    known = [v for v in values if v is not None]
    top = _scale(known)
    inner_w, inner_h = WIDTH - PAD_L - 8, HEIGHT - PAD_B - PAD_T
    step = inner_w / max(1, n - 1)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg"'
             + (f' id="{escape(css_id)}"' if css_id else "") + ">",
             f"<title>{escape(title)}</title>",
             f'<text x="{PAD_L}" y="14" font-size="13">{escape(title)}</text>',
             f'<line x1="{PAD_L}" y1="{HEIGHT - PAD_B}" x2="{WIDTH - 8}" '
             f'y2="{HEIGHT - PAD_B}" stroke="#888"/>',
             f'<text x="{PAD_L - 4}" y="{PAD_T + 4}" font-size="10" text-anchor="end">'
             f"{_fmt(top)}</text>"]
    points: list[str] = []
    segments: list[list[str]] = []
    for i, v in enumerate(values):
        if v is None:
            if points:
                segments.append(points)
            points = []
            continue
        x = PAD_L + i * step
        y = HEIGHT - PAD_B - inner_h * max(0.0, v) / top
        points.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="2.5" '
                     f'fill="#c0392b"><title>{escape(labels[i])}: {_fmt(v)}</title></circle>')
    if points:
        segments.append(points)
    for seg in segments:
        parts.append(f'<polyline fill="none" stroke="#c0392b" stroke-width="1.5" '
                     f'points="{" ".join(seg)}"/>')
    every = max(1, n // 12)
    for i in range(0, n, every):
        x = PAD_L + i * step
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD_B + 14}" font-size="9" '
                     f'text-anchor="middle">{escape(labels[i][-5:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
