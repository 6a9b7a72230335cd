"""`counterunit hq report`: CSV/XLSX/PDF exports carry the same figures and the facts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from hq.cli import main
from tests.helpers.hq import reports_fixture as fx

HEADER = ("staff_no,name,branch,transactions,handling_mean_s,ratings,satisfaction_pct,"
          "off_seat_count,off_seat_min,attendance_pct,score,grade")
# S1 over the fixture's two days; score from the default rules with no manager inputs:
# satisfaction 50, efficiency 0.4*100 + 0.4*100 + 0.2*(100 - 0.5*4) = 99.6,
# (40*50 + 30*99.6) / 70 = 71.3 -> fail, knowledge and teamwork missing.
S1 = ["S1", "张伟", "城东支行", 4, 123.8, 4, 50.0, 2, 6.2, 100.0, 71.3, "fail"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hq")
    fx.build(d)
    return d


def _run(data: Path, out: Path, kind: str, fmt: str, *extra: str) -> None:
    assert main(["report", kind, "--data", str(data), "--from", "2026-03-02", "--to",
                 "2026-03-03", "--format", fmt, "--out", str(out), *extra]) == 0


def test_staff_csv(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "staff.csv"
    _run(data, out, "staff", "csv", "--scope", "B1")
    raw = out.read_bytes()
    assert raw.startswith(HEADER.encode() + b",")
    text = raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][:12] == [str(v) for v in S1]
    assert [r[0] for r in rows[1:4]] == ["S1", "S2", "S3"] and rows[4] == []
    facts = {r[0]: r[1] for r in rows[5:]}
    assert facts["# 范围"] == "branch:B1" and facts["# 时区"] == "Asia/Shanghai"
    assert facts["# 数据可能不完整"] == "否"
    header = rows[0]
    assert rows[1][header.index("missing_inputs")] == "knowledge teamwork"


def test_staff_xlsx_typed_cells_and_facts_sheet(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "staff.xlsx"
    _run(data, out, "staff", "xlsx")
    wb = load_workbook(out)
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "B2"
    assert [c.value for c in ws[1]][:4] == ["工号", "姓名", "网点", "业务笔数"]
    row = [c.value for c in ws[2]][:12]
    assert row == [*S1[:11], "不合格"]
    assert isinstance(ws.cell(2, 4).value, int) and isinstance(ws.cell(2, 5).value, float)
    pairs = [(r[0].value, r[1].value) for r in wb.worksheets[1].iter_rows()]
    facts = dict(pairs)
    assert wb.worksheets[1].title == "筛选条件"
    assert facts["开始日期"] == dt.datetime(2026, 3, 2)  # a date cell, not text
    assert facts["数据可能不完整"] == "是"  # W3's clock and W4 without a unit
    assert ("不完整原因", "W4: 未绑定设备 (no unit is bound to this window)") in pairs


def test_staff_pdf_text_and_a4(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "staff.pdf"
    _run(data, out, "staff", "pdf", "--scope", "B1", "--lang", "en")
    reader = PdfReader(out)
    w, h = (float(x) for x in reader.pages[0].mediabox[2:])
    assert (round(w), round(h)) == (842, 595)  # A4 landscape
    text = "\n".join(p.extract_text() for p in reader.pages)
    lines = text.splitlines()
    assert "Staff report" in lines and "branch:B1" in lines and "Asia/Shanghai" in lines
    for value in ("张伟", "123.8", "50", "6.2", "71.3", "fail", "242.5"):
        assert value in lines, value


@pytest.mark.parametrize(("kind", "first_cells"), [
    ("window", ["W1", "窗口1", "一楼大厅", "城东支行", "4"]),
    ("branch", ["B1", "城东支行", "2", "7"]),
    ("attendance", ["S1", "张伟", "城东支行", "3", "2", "1", "0", "0", "0", "1", "100.0"]),
    ("events", ["off_seat_level", "L0", "1"]),
])
def test_other_kinds_csv(data: Path, tmp_path: Path, kind: str, first_cells: list[str]) -> None:
    out = tmp_path / f"{kind}.csv"
    _run(data, out, kind, "csv", "--scope", "branch:B1")
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8"))))
    assert rows[1][:len(first_cells)] == first_cells


def test_events_pdf_and_xlsx(data: Path, tmp_path: Path) -> None:
    _run(data, tmp_path / "e.xlsx", "events", "xlsx", "--scope", "B1")
    ws = load_workbook(tmp_path / "e.xlsx").worksheets[0]
    counts = {(r[0].value, r[1].value): r[2].value for r in ws.iter_rows(min_row=2)}
    assert counts[("离岗(按级别)", "L3")] == 1 and counts[("告警", "off_seat L1")] == 3
    _run(data, tmp_path / "e.pdf", "events", "pdf", "--scope", "B1")
    text = "\n".join(p.extract_text() for p in PdfReader(tmp_path / "e.pdf").pages)
    assert "事件统计" in text and "off_seat L1" in text


@pytest.mark.parametrize(("args", "message"), [
    (["--scope", "B9"], "neither a branch nor a hall"),
    (["--scope", "branch:B9"], "no such branch"),
    (["--from", "2026-03-05", "--to", "2026-03-01"], "before --from"),
])
def test_bad_arguments_write_nothing(data: Path, tmp_path: Path, args: list[str],
                                     message: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.csv"
    base = ["report", "staff", "--data", str(data), "--format", "csv", "--out", str(out)]
    if "--from" not in args:
        base += ["--from", "2026-03-02", "--to", "2026-03-03"]
    assert main([*base, *args]) == 2
    assert message in capsys.readouterr().err and not out.exists()
