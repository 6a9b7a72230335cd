"""PDF export on A4 (landscape): facts, bar charts and the table, in Chinese or English.

Chinese text needs a CJK font: Debian's fonts-wqy-zenhei (a .ttc, read with
``subfontIndex``), found at :data:`FONT_PATHS`. Wide tables are split into column
groups that repeat the first column, so every page fits A4.

Text is :func:`hq.text.visible` and then XML-escaped: a Paragraph reads its text as
markup, so a name with ``<`` or ``&`` would otherwise fail the export or turn into tags.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from hq.text import visible

from . import tables
from .about import facts
from .labels import cell, label

FONT = "WQYZenHei"
FONT_PATHS = (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),)
COLUMNS_PER_PAGE = 9
PAGE = landscape(A4)
MARGIN = 12 * mm


def _font() -> str:
    """Register the CJK font once; Helvetica (no Chinese) if it is not installed."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    for path in FONT_PATHS:
        if path.exists():
            pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
            return FONT
    return "Helvetica"


def _text(v: object) -> str:
    """A value as it reads in a cell (Paragraph markup, escaped)."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return escape(visible(str(v)))


def _chart(chart: tables.Chart, lang: str, font: str, width: float) -> Drawing:
    height = 60 * mm
    d = Drawing(width, height)
    d.add(String(0, height - 10, label(chart.title, lang), fontName=font, fontSize=10))
    if not chart.values:
        return d
    bc = VerticalBarChart()
    bc.x, bc.y, bc.width, bc.height = 30, 28, width - 40, height - 48
    bc.data = [chart.values[:40]]
    bc.categoryAxis.categoryNames = [visible(s)[:8] for s in chart.labels[:40]]
    bc.categoryAxis.labels.fontName = font
    bc.categoryAxis.labels.fontSize = 6
    bc.categoryAxis.labels.angle = 30 if len(chart.labels) > 8 else 0
    bc.categoryAxis.labels.boxAnchor = "ne" if len(chart.labels) > 8 else "n"
    bc.valueAxis.labels.fontName = font
    bc.valueAxis.labels.fontSize = 7
    bc.valueAxis.valueMin = 0
    bc.bars[0].fillColor = colors.HexColor("#3b6ea5")
    d.add(bc)
    return d


def _groups(n: int) -> list[list[int]]:
    """Column index groups of at most COLUMNS_PER_PAGE, each starting with column 0."""
    if n <= COLUMNS_PER_PAGE:
        return [list(range(n))]
    rest = list(range(1, n))
    step = COLUMNS_PER_PAGE - 1
    return [[0, *rest[i:i + step]] for i in range(0, len(rest), step)]


def to_pdf(table: tables.Table, lang: str = "zh-CN") -> bytes:
    """The report as a PDF document fitting A4."""
    font = _font()
    head = ParagraphStyle("h", fontName=font, fontSize=14, leading=18)
    small = ParagraphStyle("s", fontName=font, fontSize=8, leading=10)
    cellstyle = ParagraphStyle("c", fontName=font, fontSize=7, leading=9)
    width = PAGE[0] - 2 * MARGIN
    title = label(f"report_{table.kind}", lang)
    story: list[Flowable] = [Paragraph(_text(title), head), Spacer(1, 3 * mm)]
    fact_rows = [[Paragraph(_text(k), small), Paragraph(_text(v), small)]
                 for k, v in facts(table, lang)]
    ft = Table(fact_rows, colWidths=[45 * mm, width - 45 * mm])
    ft.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                            ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [ft, Spacer(1, 4 * mm)]
    for chart in table.charts:
        story += [_chart(chart, lang, font, width), Spacer(1, 3 * mm)]
    for group in _groups(len(table.columns)):
        data = [[Paragraph(_text(label(table.columns[i].key, lang)), cellstyle)
                 for i in group]]
        for row in table.rows:
            data.append([Paragraph(_text(cell(table.columns[i].key, row[i], lang)), cellstyle)
                         for i in group])
        t = Table(data, colWidths=[width / len(group)] * len(group), repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [t, Spacer(1, 4 * mm)]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN,
                            title=title, invariant=1)
    doc.build(story)
    return buf.getvalue()
