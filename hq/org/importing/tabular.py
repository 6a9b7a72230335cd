"""Roster and schedule files as rows: CSV (UTF-8, or GB18030 as Chinese Excel saves it) and
XLSX (openpyxl), and the blank templates people fill in."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import openpyxl
from openpyxl.styles import Font

Format = Literal["csv", "xlsx"]
MAX_ROWS = 20_000
MAX_BYTES = 8 * 1024 * 1024


class TableError(ValueError):
    """The file as a whole cannot be read (not CSV/XLSX, no header, too big)."""


@dataclass(frozen=True)
class Row:
    """One data row: its number as a spreadsheet shows it (header = 1) and its cells."""

    number: int
    cells: dict[str, str]


def detect(data: bytes, filename: str = "") -> Format:
    """XLSX by its zip signature or name, else CSV."""
    return "xlsx" if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx") else "csv"


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ",
                                                                               timespec="minutes")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _grid(data: bytes, fmt: Format) -> list[list[str]]:
    if fmt == "xlsx":
        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise TableError(f"not a readable XLSX workbook: {type(exc).__name__}: {exc}"
                             ) from None
        try:
            ws = wb.worksheets[0]
            grid = []
            for values in ws.iter_rows(values_only=True):
                grid.append([_cell(v) for v in values])
                if len(grid) > MAX_ROWS + 1:
                    break
            return grid
        finally:
            wb.close()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise TableError("CSV must be UTF-8 or GB18030 text") from None
    try:
        return [[c.strip() for c in r] for r in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise TableError(f"not readable as CSV: {exc}") from None


def read_rows(data: bytes, columns: Sequence[str], required: Sequence[str],
              filename: str = "") -> list[Row]:
    """The data rows of ``data`` keyed by header; TableError for header problems."""
    if len(data) > MAX_BYTES:
        raise TableError(f"file is {len(data)} bytes; at most {MAX_BYTES}")
    grid = _grid(data, detect(data, filename))
    if not grid or not any(grid[0]):
        raise TableError(f"row 1 must be the header: {', '.join(columns)}")
    header = [h.strip().lower() for h in grid[0]]
    unknown = [h for h in header if h and h not in columns]
    missing = [c for c in required if c not in header]
    problems = ([f"column {h!r} is not one of {', '.join(columns)}" for h in unknown]
                + [f"column {c!r} is required" for c in missing])
    if len(set(h for h in header if h)) != len([h for h in header if h]):
        problems.append("a column appears twice in the header")
    if problems:
        raise TableError("row 1 (header): " + "; ".join(problems))
    if len(grid) - 1 > MAX_ROWS:
        raise TableError(f"at most {MAX_ROWS} rows per file")
    rows = []
    for i, values in enumerate(grid[1:], start=2):
        if not any(values):
            continue  # blank lines people leave at the end
        cells = {h: (values[j] if j < len(values) else "") for j, h in enumerate(header) if h}
        rows.append(Row(i, cells))
    return rows


def template(columns: Sequence[str], notes: dict[str, str], fmt: Format,
             example: dict[str, str] | None = None) -> bytes:
    """A blank file with the header row (XLSX: plus a sheet explaining each column)."""
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow(columns)
        return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "data"
    ws.append(list(columns))
    for c in ws[1]:
        c.font = Font(bold=True)
        c.number_format = "@"
    help_ws = wb.create_sheet("notes")
    help_ws.append(["column", "meaning", "example"])
    for col in columns:
        help_ws.append([col, notes.get(col, ""), (example or {}).get(col, "")])
    out_b = io.BytesIO()
    wb.save(out_b)
    return out_b.getvalue()
