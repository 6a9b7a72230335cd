"""Roster and schedule imports: CSV and XLSX, every bad row by number and reason, nothing
half-imported; the templates HQ hands out read back as valid, empty files."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from hq.org.authoring.store import OrgStore
from hq.org.importing.files import COLUMNS, ImportRefused, RowError, import_file, template_bytes
from tests.servers.postgres_fixtures import Backend

T0 = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def org(tmp_path: Path, backend: Backend) -> Iterator[OrgStore]:
    store = OrgStore(backend.migrated(tmp_path) / "events.db")
    store.author("branch", {"branch_id": "B1", "name": "Main"}, T0)
    store.author("hall", {"hall_id": "H1", "branch_id": "B1", "name": "Hall"}, T0)
    store.author("window", {"window_id": "W1", "hall_id": "H1", "name": "Window 1"}, T0)
    yield store
    store.close()


def count(org: OrgStore, table: str) -> int:
    with org.reading() as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


STAFF_CSV = ("staff_no,name,badge_uid,home_branch_id,active\r\n"
             "1001,王芳,04A1B2C3,B1,true\r\n"
             "1002,Li Wei,04:A1:B2:C4,B1,是\r\n"
             "\r\n"
             "1003,Zhao,,B1,false\r\n")


def test_a_good_staff_csv_imports_every_row(org: OrgStore) -> None:
    result = import_file(org, "staff", STAFF_CSV.encode(), "staff.csv", now=T0)
    assert (result.rows, result.ids) == (3, ["1001", "1002", "1003"])
    assert [(v.window_id, v.version) for v in result.versions] == [("W1", 1)]
    with org.reading() as conn:
        rows = [tuple(r) for r in conn.execute(
            "SELECT staff_no, badge_uid, active FROM org_staff ORDER BY staff_no")]
    assert rows == [("1001", "04A1B2C3", 1), ("1002", "04A1B2C4", 1), ("1003", None, 0)]
    # The same file again changes nothing (rows replace themselves).
    again = import_file(org, "staff", STAFF_CSV.encode(), "staff.csv", now=T0)
    assert again.versions == [] and count(org, "org_staff") == 3


def test_gb18030_csv_as_chinese_excel_saves_it(org: OrgStore) -> None:
    data = "staff_no,name\r\n1001,王芳\r\n".encode("gb18030")
    import_file(org, "staff", data, "staff.csv", now=T0)
    with org.reading() as conn:
        assert conn.execute("SELECT name FROM org_staff").fetchone()[0] == "王芳"


BAD_XLSX: list[list[object]] = [
    ["staff_no", "name", "badge_uid", "home_branch_id"],
    [1001, "王芳", "04A1B2C3", "B1"],
    [1002, "Li Wei", "not-a-badge", "B1"],  # row 3: bad UID
    [1003, "Zhao", None, "B9"],  # row 4: unknown branch
    [1001, "Again", None, "B1"],  # row 5: duplicate staff number
    [1004, "Dup badge", "04A1B2C3", "B1"],  # row 6: badge of row 2
]


def test_bad_rows_are_all_reported_and_nothing_is_imported(org: OrgStore) -> None:
    with pytest.raises(ImportRefused) as caught:
        import_file(org, "staff", xlsx(BAD_XLSX), "staff.xlsx", now=T0)
    errors = caught.value.errors
    assert [e.row for e in errors] == [3, 4, 5, 6]
    assert errors[0].reason.startswith("badge_uid: not a badge UID: 'not-a-badge'")
    assert errors[1] == RowError(4, "home_branch_id: no branch 'B9' (author it first)")
    assert errors[2] == RowError(5, "staff_no 1001 is also on row 2")
    assert errors[3].reason.startswith("badge_uid: badge 04A1B2C3 already belongs to staff 1001")
    # Row 2 was good, and was written before the bad ones were found: rolled back with them.
    assert count(org, "org_staff") == 0
    assert count(org, "org_config_versions") == 0


def test_shift_file_mixes_dated_and_weekly_rows(org: OrgStore) -> None:
    import_file(org, "staff", b"staff_no,name,badge_uid,home_branch_id\n1001,W,04A1B2C3,B1\n",
                now=T0)
    sheet = xlsx([
        ["window_id", "staff_no", "date", "days", "start", "end", "valid_from", "valid_to"],
        ["W1", "1001", dt.datetime(2026, 12, 12), None, dt.time(9), dt.time(12), None, None],
        ["W1", "1001", None, "mon,tue", "13:00", "17:00", "2026-12-07", "2026-12-13"],
    ])
    result = import_file(org, "shifts", sheet, "shifts.xlsx", now=T0)
    assert result.ids == ["d:W1:1001:2026-12-12:0900", "W1.1001.motu.1300"]
    assert count(org, "org_shifts") == 3  # one dated, Mon 7th and Tue 8th from the template


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "row 1 must be the header"),
    (b"staff_no,nom\n1,x\n", "row 1 (header): column 'nom' is not one of"),
    (b"name\nx\n", "row 1 (header): column 'staff_no' is required"),
    (b"staff_no,name\n", "the file has a header but no rows"),
    (b"PK\x03\x04garbage", "not a readable XLSX workbook"),
    (b"\xff\xfe\x00bad", "CSV must be UTF-8 or GB18030 text"),
])
def test_unreadable_files_say_why(org: OrgStore, data: bytes, reason: str) -> None:
    with pytest.raises(ImportRefused) as caught:
        import_file(org, "staff", data, now=T0)
    assert caught.value.errors[0].row == 0 and reason in caught.value.errors[0].reason


def test_shift_and_leave_row_errors(org: OrgStore) -> None:
    import_file(org, "staff", b"staff_no,name,home_branch_id\n1001,W,B1\n", now=T0)
    with pytest.raises(ImportRefused) as caught:
        import_file(org, "shifts", (
            b"window_id,staff_no,date,days,start,end,valid_from,valid_to\n"
            b"W1,1001,2026-12-07,mon,09:00,10:00,,\n"
            b"W1,1001,2026-12-07,,09:00,10:00,2026-12-07,\n"
            b"W2,1001,2026-12-07,,09:00,10:00,,\n"), now=T0)
    assert [e.text() for e in caught.value.errors] == [
        "row 2: date, days: give a date (one shift) or days (weekly), not both",
        "row 3: valid_from: only for weekly rows (with days)",
        "row 4: window_id: no window 'W2' (author it first)"]
    with pytest.raises(ImportRefused) as caught:
        import_file(org, "leave", b"staff_no,kind,start,end\n1001,sick,2026-12-01,2026-12-02\n",
                    now=T0)
    assert caught.value.errors[0].text().startswith("row 2: kind: Input should be 'leave' or")
    import_file(org, "leave", b"staff_no,kind,start,end,note\n1001,business,2026-12-01,"
                              b"2026-12-02,Shanghai HQ\n", now=T0)
    with org.reading() as conn:
        row = conn.execute("SELECT kind, start_utc, end_utc FROM org_leave").fetchone()
    # Whole local days in Shanghai (UTC+8): from 1 Dec 00:00 to 3 Dec 00:00 local.
    assert tuple(row) == ("business", "2026-11-30T16:00:00.000000Z",
                          "2026-12-02T16:00:00.000000Z")


@pytest.mark.parametrize("kind", ["staff", "shifts", "leave"])
def test_templates_have_the_header_and_no_rows(org: OrgStore, kind: str) -> None:
    csv_text = template_bytes(kind, "csv").decode("utf-8-sig")
    assert csv_text == ",".join(COLUMNS[kind]) + "\r\n"
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes(kind, "xlsx")))
    assert [c.value for c in wb["data"][1]] == list(COLUMNS[kind])
    assert wb["data"].max_row == 1
    assert [r[0] for r in wb["notes"].iter_rows(min_row=2, values_only=True)] == list(
        COLUMNS[kind])
    for fmt in ("csv", "xlsx"):
        with pytest.raises(ImportRefused, match="header but no rows"):
            import_file(org, kind, template_bytes(kind, fmt), f"t.{fmt}", now=T0)
