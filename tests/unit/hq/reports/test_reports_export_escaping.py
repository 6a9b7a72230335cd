"""Exports show hostile names as text: control and bidi characters as [U+XXXX], formulas
that never run, PDF markup characters as themselves; numbers and Chinese unchanged.

Before hq/text.py was applied in the writers: CSV carried U+202E and NUL raw and
``=HYPERLINK(...)`` as a live formula, XLSX raised openpyxl's IllegalCharacterError
(the whole export failed) and stored ``=...`` as a formula, and PDF failed on ``<b>``
(reportlab's paragraph parser) and dropped the text after ``&`` or ``<``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from hq.cli import main
from hq.reports.exports import render
from hq.reports.exports.tables import Column, Table
from hq.reports.query.honesty import ReportMeta
from tests.helpers.hq import reports_fixture as fx

RLO = "\u202e"
C0 = "".join(chr(i) for i in range(0x20))
C0_SHOWN = "".join("\t" if i == 9 else "\n" if i == 10 else f"[U+{i:04X}]" for i in range(0x20))
FORMULA = '=HYPERLINK("http://evil.example/x","点我")'

# (name as stored, as every export shows it; CSV adds the apostrophe to formula-like cells)
NAMES = [
    (f"张伟{RLO}exe.txt", "张伟[U+202E]exe.txt"),
    (f"王{C0}芳", f"王{C0_SHOWN}芳"),
    (FORMULA, FORMULA),
    ("李娜 <b>&amp; x < y", "李娜 <b>&amp; x < y"),
]


def _table() -> Table:
    meta = ReportMeta("staff", "branch:B1", dt.date(2026, 3, 2), dt.date(2026, 3, 3),
                      ("Asia/Shanghai",), dt.datetime(2026, 3, 4, 1, 2, 3),
                      filters={"staff": f"@SUM(1){RLO}"})
    cols = [Column("staff_no", "text"), Column("name", "text"), Column("off_seat_min", "float"),
            Column("transactions", "int")]
    rows: list[list[object]] = [[f"S{i}", name, -3.25 * i, -i]
                                for i, (name, _) in enumerate(NAMES, start=1)]
    return Table("staff", cols, rows, meta)


def test_csv_bytes() -> None:
    raw = render(_table(), "csv", "en")
    text = raw.decode("utf-8")
    assert RLO not in text
    # No control character but the line ends and what a name keeps (tab, newline).
    assert {c for c in text if ord(c) < 0x20} <= {"\r", "\n", "\t"}
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[1] for r in rows[1:5]] == [NAMES[0][1], NAMES[1][1], "'" + FORMULA,
                                          NAMES[3][1]]
    # Numbers are never prefixed, negative ones included.
    assert [r[2:] for r in rows[1:3]] == [["-3.25", "-1"], ["-6.5", "-2"]]
    facts = {r[0]: r[1] for r in rows[6:] if r}
    assert facts["# staff"] == "'@SUM(1)[U+202E]"
    assert "张伟[U+202E]exe.txt".encode() in raw  # Chinese stays UTF-8, not escaped


def test_xlsx_reads_back_as_text(tmp_path: Path) -> None:
    out = tmp_path / "x.xlsx"
    out.write_bytes(render(_table(), "xlsx", "en"))  # raised IllegalCharacterError before
    wb = load_workbook(out)
    ws = wb.worksheets[0]
    names = [ws.cell(r, 2) for r in range(2, 6)]
    assert [c.value for c in names] == [shown for _, shown in NAMES]
    formula = names[2]
    assert formula.data_type == "s" and formula.quotePrefix  # text, shown exactly
    assert not any(c.quotePrefix for c in (names[0], names[1], names[3]))
    assert [ws.cell(2, 3).value, ws.cell(2, 4).value] == [-3.25, -1]  # numbers stay numbers
    assert isinstance(ws.cell(3, 3).value, float) and isinstance(ws.cell(3, 4).value, int)
    facts = {r[0].value: r[1] for r in wb.worksheets[1].iter_rows()}
    assert facts["staff"].value == "@SUM(1)[U+202E]" and facts["staff"].quotePrefix


def test_pdf_text(tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    out.write_bytes(render(_table(), "pdf", "en"))  # failed on "<b>" before
    text = "\n".join(p.extract_text() for p in PdfReader(out).pages)
    assert RLO not in text and "\x00" not in text
    for shown in ("张伟[U+202E]exe.txt", "王[U+0000][U+0001]", "[U+001F]", FORMULA,
                  "李娜 <b>&amp; x < y", "@SUM(1)[U+202E]", "-3.25"):
        assert shown in text, shown


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reports fixture with hostile staff, branch, hall and window names, written
    straight into the tables (as a unit's or an old import's data would be)."""
    d = tmp_path_factory.mktemp("hq")
    db = fx.build(d)
    conn = sqlite3.connect(db)
    with conn:
        for (name, _), no in zip(NAMES, ("S1", "S2", "S3"), strict=False):
            conn.execute("UPDATE org_staff SET name = ? WHERE staff_no = ?", (name, no))
        conn.execute("UPDATE org_branches SET name = ? WHERE branch_id = 'B1'",
                     (f"-城东{RLO}支行",))
        conn.execute("UPDATE org_halls SET name = ? WHERE hall_id = 'H1'", ("\t一楼大厅\x07",))
        conn.execute("UPDATE org_windows SET name = ? WHERE window_id = 'W1'", ("+窗口1",))
    conn.close()
    return d


def _report(data: Path, out: Path, kind: str, fmt: str) -> None:
    assert main(["report", kind, "--data", str(data), "--from", "2026-03-02", "--to",
                 "2026-03-03", "--format", fmt, "--out", str(out), "--scope", "B1",
                 "--lang", "en"]) == 0


def test_seeded_names_in_every_format(hostile: Path, tmp_path: Path) -> None:
    _report(hostile, tmp_path / "s.csv", "staff", "csv")
    raw = (tmp_path / "s.csv").read_bytes()
    assert RLO.encode() not in raw and b"\x00" not in raw and b"\x07" not in raw
    rows = {r[0]: r for r in csv.reader(io.StringIO(raw.decode(), newline="")) if r}
    assert rows["S1"][1:3] == ["张伟[U+202E]exe.txt", "'-城东[U+202E]支行"]
    assert rows["S2"][1] == f"王{C0_SHOWN}芳"
    assert rows["S3"][1] == "'" + FORMULA
    assert rows["S1"][3] == "4"  # S1's transactions, a number as before

    _report(hostile, tmp_path / "w.xlsx", "window", "xlsx")
    ws = load_workbook(tmp_path / "w.xlsx").worksheets[0]
    w1 = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "W1")
    assert [c.value for c in w1[1:4]] == ["+窗口1", "\t一楼大厅[U+0007]", "-城东[U+202E]支行"]
    assert all(c.quotePrefix and c.data_type == "s" for c in w1[1:4])
    assert w1[4].value == 4 and not w1[4].quotePrefix

    _report(hostile, tmp_path / "s.xlsx", "staff", "xlsx")
    ws = load_workbook(tmp_path / "s.xlsx").worksheets[0]
    s3 = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "S3")
    assert s3[1].value == FORMULA and s3[1].data_type == "s"

    _report(hostile, tmp_path / "a.pdf", "attendance", "pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(tmp_path / "a.pdf").pages)
    assert RLO not in text
    assert "张伟[U+202E]exe.txt" in text and "城东[U+202E]支行" in text
