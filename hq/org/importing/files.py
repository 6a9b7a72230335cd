"""Importing a roster, shift, leave or planned-period file: every row checked, every bad
row reported with its row number and reason, and nothing written unless every row is good
(one transaction).

Kinds and their columns:

- ``staff``: staff_no, name, badge_uid, home_branch_id, photo_id, active, phone, email,
  im_id (the last three: how alerts reach the staff member; all optional)
- ``shifts``: window_id, staff_no, start, end and either ``date`` (one dated shift) or
  ``days`` (e.g. ``mon,tue,wed``) with ``valid_from``/``valid_to`` (a weekly template)
- ``leave``: staff_no, kind (leave|business), start, end (dates, or date and HH:MM), note
- ``periods``: window_id, state (closed|away), either ``date`` or ``days``, start, end (HH:MM
  local), note: a window's planned closed / away-on-business periods (hq.org.schedules.periods)

A row that names an existing id replaces that record, so importing the same file twice
changes nothing the second time. A staff file without the phone, email or im_id column
(an older template) leaves those contacts as stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from hq.org.authoring.store import OrgStore, write_leave, write_shift, write_staff, write_template
from hq.org.config.versions import ConfigVersion, refresh
from hq.org.importing.tabular import Format, Row, TableError, read_rows, template
from hq.org.records.authority import check_write
from hq.org.records.errors import OrgError, OrgForbidden, OrgInvalid
from hq.org.records.models import LeaveIn, ShiftIn, StaffIn, WeeklyShiftIn, check
from hq.org.schedules.periods import PeriodIn, write_period
from hq.storage.org_schema import STAFF_CONTACT_COLUMNS
from hq.storage.scope import Scope

Kind = Literal["staff", "shifts", "leave", "periods"]
KINDS: tuple[Kind, ...] = ("staff", "shifts", "leave", "periods")

COLUMNS: dict[str, tuple[str, ...]] = {
    "staff": ("staff_no", "name", "badge_uid", "home_branch_id", "photo_id", "active",
              "phone", "email", "im_id"),
    "shifts": ("window_id", "staff_no", "date", "days", "start", "end", "valid_from",
               "valid_to"),
    "leave": ("staff_no", "kind", "start", "end", "note"),
    "periods": ("window_id", "state", "date", "days", "start", "end", "note"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "staff": ("staff_no", "name"),
    "shifts": ("window_id", "staff_no", "start", "end"),
    "leave": ("staff_no", "kind", "start", "end"),
    "periods": ("window_id", "state", "start", "end"),
}
NOTES = {
    "staff_no": "staff number (the unit's staff id), letters/digits/.-_",
    "name": "name shown on the keypad, at most 80 characters",
    "badge_uid": "badge UID as the reader prints it (hex or decimal); empty: no badge",
    "home_branch_id": "branch id the person belongs to; empty: every branch",
    "photo_id": "photo id shown on the keypad (optional)",
    "active": "true/false (default true); inactive staff are left out of rosters",
    "phone": "mobile for SMS alerts, E.164 digits with optional +, e.g. +8613800000001",
    "email": "e-mail address for alert mail (optional)",
    "im_id": "IM user id (DingTalk/WeCom/Feishu) for IM alerts (optional)",
    "window_id": "window id",
    "date": "YYYY-MM-DD: one dated shift (leave days/valid_* empty)",
    "days": "weekdays mon,tue,...: a weekly template (leave date empty)",
    "start": "shifts: HH:MM local; leave: YYYY-MM-DD or YYYY-MM-DD HH:MM local",
    "end": "shifts: HH:MM local, after start; leave: as start (a date includes the day)",
    "valid_from": "YYYY-MM-DD: first date of a weekly template",
    "valid_to": "YYYY-MM-DD: last date of a weekly template (inclusive)",
    "kind": "leave or business (away on business)",
    "note": "free text, at most 200 characters (periods: 64)",
    "state": "closed (temporarily closed, 暂停服务) or away (away on business, 外出办公)",
}
EXAMPLES = {
    "staff": {"staff_no": "1001", "name": "王芳", "badge_uid": "04A1B2C3",
              "home_branch_id": "B1", "photo_id": "", "active": "true",
              "phone": "+8613800000001", "email": "wang.fang@bank.example",
              "im_id": "wangfang"},
    "shifts": {"window_id": "W1", "staff_no": "1001", "date": "", "days": "mon,tue,wed,thu,fri",
               "start": "09:00", "end": "17:00", "valid_from": "2026-12-07",
               "valid_to": "2027-03-31"},
    "leave": {"staff_no": "1001", "kind": "leave", "start": "2026-12-24", "end": "2026-12-26",
              "note": ""},
    "periods": {"window_id": "W1", "state": "closed", "date": "", "days": "mon,tue,wed,thu,fri",
                "start": "12:00", "end": "12:30", "note": "lunch"},
}
_KIND_OF: dict[type, str] = {StaffIn: "staff", ShiftIn: "shift", WeeklyShiftIn: "template",
                             LeaveIn: "leave", PeriodIn: "period"}
_YES = {"是": "true", "否": "false", "y": "true", "n": "false"}


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it (1 = header); 0 = the file as a whole
    reason: str

    def text(self) -> str:
        return f"row {self.row}: {self.reason}" if self.row else self.reason


class ImportRefused(OrgError):
    """Nothing was imported; ``errors`` says which rows and why."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.text() for e in errors[:20])
                         + (f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""))


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int
    ids: list[str]
    versions: list[ConfigVersion]


def template_bytes(kind: str, fmt: Format) -> bytes:
    """The blank template for ``kind`` (KeyError for an unknown kind)."""
    return template(COLUMNS[kind], NOTES, fmt, EXAMPLES[kind])


def _clean(cells: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in cells.items() if v != ""}
    if "active" in out:
        out["active"] = _YES.get(out["active"].strip().lower(), out["active"])
    return out


def _shift_model(cells: dict[str, Any]) -> ShiftIn | WeeklyShiftIn:
    if cells.get("date") and cells.get("days"):
        raise OrgInvalid(["date, days: give a date (one shift) or days (weekly), not both"])
    if cells.get("days"):
        return check(WeeklyShiftIn, cells)
    extra = [k for k in ("valid_from", "valid_to") if k in cells]
    if extra:
        raise OrgInvalid([f"{', '.join(extra)}: only for weekly rows (with days)"])
    cells = {k: v for k, v in cells.items() if k != "days"}
    return check(ShiftIn, cells)


def _parse(kind: str, cells: dict[str, Any]) -> Any:
    if kind == "staff":
        return check(StaffIn, cells)
    if kind == "shifts":
        return _shift_model(cells)
    if kind == "periods":
        return check(PeriodIn, cells)
    return check(LeaveIn, cells)


def _key(item: Any) -> str:
    if isinstance(item, StaffIn):
        return f"staff_no {item.staff_no}"
    return ""


def import_file(store: OrgStore, kind: str, data: bytes, filename: str = "",
                now: dt.datetime | None = None, scope: Scope | None = None) -> ImportResult:
    """Validate every row, then write them all and the new config versions, or nothing.

    ``scope``: the importer's; a row outside it is a bad row (hq.org.records.authority).
    """
    if kind not in COLUMNS:
        raise ImportRefused([RowError(0, f"kind {kind!r} must be one of {', '.join(KINDS)}")])
    try:
        rows: list[Row] = read_rows(data, COLUMNS[kind], REQUIRED[kind], filename)
    except TableError as exc:
        raise ImportRefused([RowError(0, str(exc))]) from None
    if not rows:
        raise ImportRefused([RowError(0, "the file has a header but no rows")])
    errors: list[RowError] = []
    parsed: list[tuple[int, Any]] = []
    first: dict[str, int] = {}
    for row in rows:
        try:
            item = _parse(kind, _clean(row.cells))
        except OrgInvalid as exc:
            errors.extend(RowError(row.number, p) for p in exc.problems)
            continue
        key = _key(item)
        if key and key in first:
            errors.append(RowError(row.number, f"{key} is also on row {first[key]}"))
            continue
        if key:
            first[key] = row.number
        parsed.append((row.number, item))
    keep = tuple(c for c in STAFF_CONTACT_COLUMNS if c not in rows[0].cells)
    ids: list[str] = []
    # Rows are written even after a bad one, so every row's reference errors are reported;
    # raising inside the transaction rolls all of them back.
    with store.transaction() as conn:
        for number, item in parsed:
            try:
                check_write(conn, _KIND_OF[type(item)], item, scope or Scope.everything())
                ids.append(str(_write(conn, item, keep)))
            except OrgInvalid as exc:
                errors.extend(RowError(number, p) for p in exc.problems)
            except OrgForbidden as exc:
                errors.append(RowError(number, str(exc)))
        if errors:
            raise ImportRefused(sorted(errors, key=lambda e: e.row))
        try:
            versions = refresh(conn, now or dt.datetime.now(dt.UTC))
        except OrgInvalid as exc:
            raise ImportRefused([RowError(0, p) for p in exc.problems]) from None
    return ImportResult(kind, len(parsed), ids, versions)


def _write(conn: Any, item: Any, keep: tuple[str, ...] = ()) -> str:
    if isinstance(item, StaffIn):
        write_staff(conn, item, keep)
        return item.staff_no
    if isinstance(item, WeeklyShiftIn):
        return write_template(conn, item)
    if isinstance(item, ShiftIn):
        return write_shift(conn, item)
    if isinstance(item, PeriodIn):
        return write_period(conn, item)
    return write_leave(conn, item)
