"""XLSX export: typed cells, a header row, frozen panes, the facts on their own sheet.

Text cells are :func:`hq.text.visible` (openpyxl refuses control characters outright,
which would fail the whole export), and one that starts like a formula is written as a
string cell with Excel's quote prefix, so it shows exactly and never runs.
"""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from hq.text import looks_like_formula, visible

from .about import facts
from .labels import cell, label
from .tables import Table

_FORMATS = {"int": "0", "float": "0.0#", "date": "yyyy-mm-dd"}


def _append(ws: Worksheet, values: list[object]) -> None:
    """Append a row; text as plain, visible strings (never formulas)."""
    ws.append([visible(v) for v in values])
    for c in ws[ws.max_row]:
        if isinstance(c.value, str) and looks_like_formula(c.value):
            c.data_type = "s"  # openpyxl made "=..." a formula
            c.quotePrefix = True


def to_xlsx(table: Table, lang: str = "zh-CN") -> bytes:
    """A workbook: the report sheet (numbers as numbers) and a filters sheet."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = label(f"report_{table.kind}", lang)[:31]
    ws.append([label(c.key, lang) for c in table.columns])
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in table.rows:
        _append(ws, [cell(col.key, v, lang) for col, v in zip(table.columns, row, strict=True)])
    for i, col in enumerate(table.columns, start=1):
        fmt = _FORMATS.get(col.kind)
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = max(10, min(28, len(label(col.key, lang)) * 2))
        if fmt:
            for (c,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                c.number_format = fmt
    ws.freeze_panes = "B2"
    meta = wb.create_sheet(label("filters", lang)[:31])
    for name, value in facts(table, lang):
        _append(meta, [name, value])
        c = meta.cell(row=meta.max_row, column=2)
        if isinstance(value, dt.datetime):
            c.number_format = "yyyy-mm-dd hh:mm:ss"
        elif isinstance(value, dt.date):
            c.number_format = "yyyy-mm-dd"
    meta.column_dimensions["A"].width = 24
    meta.column_dimensions["B"].width = 60
    meta.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
