"""Managers' monthly entries per staff member: knowledge, teamwork, mystery shopper.

Entered one at a time (:func:`set_inputs`, the page) or as a file (:func:`import_file`,
CSV or XLSX with the header of :data:`COLUMNS`). An import is checked whole first: any
bad row is reported with its row number and reason and nothing is written. An empty
cell means "not entered" and leaves the stored value as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hq.reports.figures.scoring import Inputs
from hq.reports.tables.schema import ensure_schema
from hq.storage.models import utc_text

COLUMNS = ("staff_no", "month", "knowledge", "teamwork", "mystery_shopper")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class RowError:
    """One bad row of an import (rows count from 1 = the header)."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.reason}"


class InputError(ValueError):
    """Entries refused; ``errors`` lists every bad row."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Entry:
    """One staff member's entries for one month (None: leave as it is)."""

    staff_no: str
    month: str
    knowledge: float | None
    teamwork: float | None
    mystery: float | None


def _score(row: int, field: str, text: object, errors: list[RowError]) -> float | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        v = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        errors.append(RowError(row, field, f"{text!r} is not a number"))
        return None
    if not 0 <= v <= 100:
        errors.append(RowError(row, field, f"{v:g} must be within 0..100"))
        return None
    return v


def check(conn: sqlite3.Connection, rows: Iterable[tuple[int, dict[str, object]]]) -> list[Entry]:
    """Entries from (row number, {column: value}); InputError listing every bad row."""
    staff = {r[0] for r in conn.execute("SELECT staff_no FROM org_staff")}
    errors: list[RowError] = []
    out: list[Entry] = []
    seen: dict[tuple[str, str], int] = {}
    for n, r in rows:
        before = len(errors)
        no = str(r.get("staff_no") or "").strip()
        month = r.get("month")
        if isinstance(month, dt.datetime | dt.date):
            month = f"{month.year}-{month.month:02d}"
        month = str(month or "").strip()
        if no not in staff:
            errors.append(RowError(n, "staff_no", f"{no!r} is not a staff member"))
        if not _MONTH.fullmatch(month):
            errors.append(RowError(n, "month", f"{month!r} must be YYYY-MM"))
        k = _score(n, "knowledge", r.get("knowledge"), errors)
        t = _score(n, "teamwork", r.get("teamwork"), errors)
        m = _score(n, "mystery_shopper", r.get("mystery_shopper"), errors)
        if (no, month) in seen:
            errors.append(RowError(n, "staff_no", f"{no} {month} also on row {seen[(no, month)]}"))
        seen[(no, month)] = n
        if len(errors) == before:
            out.append(Entry(no, month, k, t, m))
    if errors:
        raise InputError(errors)
    return out


def set_inputs(conn: sqlite3.Connection, entries: list[Entry], author: str,
               now: dt.datetime | None = None) -> int:
    """Store checked entries in one transaction; returns how many."""
    ensure_schema(conn)
    stamp = utc_text(now or dt.datetime.now(dt.UTC))
    conn.execute("BEGIN IMMEDIATE")
    try:
        for e in entries:
            conn.execute(
                "INSERT INTO rpt_score_inputs (staff_no, month, knowledge, teamwork, mystery, "
                "author, updated_utc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (staff_no, month)"
                " DO UPDATE SET knowledge = COALESCE(excluded.knowledge, knowledge), "
                "teamwork = COALESCE(excluded.teamwork, teamwork), "
                "mystery = COALESCE(excluded.mystery, mystery), author = excluded.author, "
                "updated_utc = excluded.updated_utc",
                [e.staff_no, e.month, e.knowledge, e.teamwork, e.mystery, author, stamp])
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return len(entries)


def _table(header: list[object], body: Iterable[Iterable[object]]) -> list[
        tuple[int, dict[str, object]]]:
    names = [str(h or "").strip() for h in header]
    missing = [c for c in ("staff_no", "month") if c not in names]
    if missing:
        raise InputError([RowError(1, c, "column missing from the header") for c in missing])
    unknown = [c for c in names if c and c not in COLUMNS]
    if unknown:
        raise InputError([RowError(1, c, f"unknown column; expected {', '.join(COLUMNS)}")
                          for c in unknown])
    rows = []
    for n, values in enumerate(body, start=2):
        vals = list(values)
        if all(v is None or str(v).strip() == "" for v in vals):
            continue
        rows.append((n, {k: v for k, v in zip(names, vals, strict=False) if k}))
    return rows


def parse_file(name: str, content: bytes) -> list[tuple[int, dict[str, object]]]:
    """Rows of a CSV (UTF-8, BOM allowed) or XLSX file, by its name's suffix."""
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        except Exception as exc:  # openpyxl raises many kinds for a bad file
            raise InputError([RowError(0, "file", f"not a readable XLSX file: {exc}")]) from exc
        if sheet is None:
            raise InputError([RowError(0, "file", "the workbook has no sheet")])
        it = sheet.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            raise InputError([RowError(1, "file", "the sheet is empty")])
        return _table(list(header), it)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([RowError(0, "file", "CSV must be UTF-8")]) from exc
    reader = csv.reader(io.StringIO(text))
    header_row = next(reader, None)
    if header_row is None:
        raise InputError([RowError(1, "file", "the file is empty")])
    return _table(list(header_row), reader)


def import_file(conn: sqlite3.Connection, path: Path, author: str) -> int:
    """Check and store every row of a CSV/XLSX file, or nothing (InputError)."""
    ensure_schema(conn)
    return set_inputs(conn, check(conn, parse_file(path.name, path.read_bytes())), author)


def template_csv() -> str:
    """The header an import expects, with one example row."""
    return ",".join(COLUMNS) + "\r\nS001,2026-03,88,92,\r\n"


def inputs_for(conn: sqlite3.Connection, first: dt.date, last: dt.date) -> dict[str, Inputs]:
    """staff_no -> the mean of each entry over the months first..last touches."""
    ensure_schema(conn)
    months = f"{first.year}-{first.month:02d}", f"{last.year}-{last.month:02d}"
    out: dict[str, Inputs] = {}
    for no, k, t, m in conn.execute(
            "SELECT staff_no, AVG(knowledge), AVG(teamwork), AVG(mystery) FROM "
            "rpt_score_inputs WHERE month >= ? AND month <= ? GROUP BY staff_no", months):
        out[no] = Inputs(k, t, m)
    return out
