"""Render a :class:`~hq.reports.exports.tables.Table` as CSV, XLSX or PDF bytes.

Every format carries the report's facts (:func:`hq.reports.exports.about.facts`): kind,
scope, local days, time zones, when it was computed, the scoring rules version where it
applies, and whether data may be incomplete with each reason. CSV keeps the machine
header (column keys) on its first line, rows after it, then the facts as ``#`` lines;
XLSX and PDF name columns in the chosen language (zh-CN default, or en).

Text cells come from units and imports: every writer shows control and bidirectional
characters as ``[U+XXXX]`` (:func:`hq.text.visible`), and the spreadsheet formats keep a
text cell that starts like a formula from being one (a leading apostrophe in CSV, a
quote-prefixed string cell in XLSX). Numbers, dates and Chinese text pass unchanged.
"""

from __future__ import annotations

import csv
import io

from hq.text import cell_text

from .about import facts
from .labels import label
from .tables import Table

FORMATS = ("csv", "xlsx", "pdf")


def to_csv(table: Table, lang: str = "zh-CN") -> bytes:
    """UTF-8 CSV, its first bytes the header (no BOM: scripts read the header exactly;
    spreadsheet users have the XLSX)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.key for c in table.columns])
    for row in table.rows:
        w.writerow([_csv_cell(v) for v in row])
    buf.write("\r\n")
    for name, value in facts(table, lang):
        w.writerow([f"# {name}", _csv_cell(value)])
    return buf.getvalue().encode("utf-8")


def _csv_cell(v: object) -> object:
    if v is None:
        return ""
    return cell_text(v) if isinstance(v, str) else v


def render(table: Table, fmt: str, lang: str = "zh-CN") -> bytes:
    """``table`` as ``fmt`` (csv, xlsx or pdf) in ``lang``."""
    label("yes", lang)  # refuses an unknown language before any work
    if fmt == "csv":
        return to_csv(table, lang)
    if fmt == "xlsx":
        from .xlsx import to_xlsx

        return to_xlsx(table, lang)
    if fmt == "pdf":
        from .pdf import to_pdf

        return to_pdf(table, lang)
    raise ValueError(f"format {fmt!r} must be one of {', '.join(FORMATS)}")


def media_type(fmt: str) -> str:
    """The Content-Type of a format, for downloads."""
    return {"csv": "text/csv; charset=utf-8",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "pdf": "application/pdf"}[fmt]
