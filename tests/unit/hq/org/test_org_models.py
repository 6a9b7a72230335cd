"""Authoring validation at HQ, table-first: each bad value names its field and the rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hq.org.records.errors import OrgInvalid
from hq.org.records.models import (
    BranchIn,
    LeaveIn,
    RulesIn,
    ShiftIn,
    StaffIn,
    WeeklyShiftIn,
    ZoneIn,
    check,
)

SHIFT = {"window_id": "W1", "staff_no": "1001", "date": "2026-12-07", "start": "09:00",
         "end": "17:00"}
WEEKLY = {"window_id": "W1", "staff_no": "1001", "days": "mon,tue", "start": "09:00",
          "end": "12:00", "valid_from": "2026-12-07", "valid_to": "2026-12-31"}

BAD: list[tuple[type[Any], dict[str, Any], str]] = [
    (BranchIn, {"branch_id": "B1", "name": "Main", "tz": "Asia/Beijing"},
     "tz: must be an IANA time zone such as Asia/Shanghai, not 'Asia/Beijing'"),
    (BranchIn, {"branch_id": "B 1", "name": "Main"}, "branch_id: String should match pattern"),
    (BranchIn, {"branch_id": "B1", "name": "  "}, "name: String should have at least 1 character"),
    (BranchIn, {"branch_id": "B1", "name": "x", "colour": "red"},
     "colour: Extra inputs are not permitted"),
    (StaffIn, {"staff_no": "1001", "name": "Wang", "badge_uid": "04-G1"},
     "badge_uid: not a badge UID: '04-G1'"),
    (StaffIn, {"staff_no": "x" * 33, "name": "Wang"},
     "staff_no: String should have at most 32 characters"),
    (StaffIn, {"staff_no": "1001", "name": "W" * 81},
     "name: String should have at most 80 characters"),
    (StaffIn, {"staff_no": "1001", "name": "Wang", "active": "maybe"},
     "active: Input should be a valid boolean"),
    (ShiftIn, {**SHIFT, "end": "08:00"}, "end 08:00 must be after start 09:00"),
    (ShiftIn, {**SHIFT, "date": "2026-02-30"}, "date: Input should be a valid date"),
    (ShiftIn, {**SHIFT, "start": "25:00"}, "start: Input should be in a valid time format"),
    (WeeklyShiftIn, {**WEEKLY, "days": "mon,funday"}, "days.1: Input should be 'mon'"),
    (WeeklyShiftIn, {**WEEKLY, "valid_to": "2026-12-01"},
     "valid_to 2026-12-01 must not be before valid_from 2026-12-07"),
    (WeeklyShiftIn, {**WEEKLY, "valid_to": "2028-02-01"},
     "a template spans at most 400 days, this one 422"),
    (LeaveIn, {"staff_no": "1001", "kind": "holiday", "start": "2026-12-01",
               "end": "2026-12-02"}, "kind: Input should be 'leave' or 'business'"),
    (LeaveIn, {"staff_no": "1001", "kind": "leave", "start": "2026-12-02 10:00",
               "end": "2026-12-02 09:00"}, "must be after start"),
    (RulesIn, {"level": "org", "rating_window_s": 1}, "rating_window_s: Input should be greater "
                                                      "than or equal to 2"),
    (RulesIn, {"level": "window", "off_seat_l1_s": 60}, "node_id must be empty for level org"),
    (RulesIn, {"level": "org", "node_id": "B1"}, "node_id must be empty for level org"),
    (RulesIn, {"level": "org", "min_transaction_s": 301},
     "min_transaction_s: Input should be less than or equal to 300"),
    (ZoneIn, {"window_id": "W1", "name": "seat", "x0": 0.5, "y0": 0, "x1": 0.52, "y1": 1},
     "each side at least 0.05"),
    (ZoneIn, {"window_id": "W1", "name": "seat", "x0": -0.1, "y0": 0, "x1": 0.5, "y1": 1},
     "x0: Input should be greater than or equal to 0"),
]


@pytest.mark.parametrize(("model", "data", "problem"), BAD,
                         ids=[f"{m.__name__}-{p[:30]}" for m, _, p in BAD])
def test_a_bad_value_is_refused_naming_field_and_rule(model: type[Any], data: dict[str, Any],
                                                      problem: str) -> None:
    with pytest.raises(OrgInvalid) as caught:
        check(model, data)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


GOOD: list[tuple[type[Any], dict[str, Any], dict[str, Any]]] = [
    (BranchIn, {"branch_id": "B1", "name": " Main "},
     {"branch_id": "B1", "name": "Main", "tz": "Asia/Shanghai"}),
    (StaffIn, {"staff_no": "1001", "name": "王芳", "badge_uid": "04:a1:b2:c3",
               "home_branch_id": "", "photo_id": ""},
     {"staff_no": "1001", "name": "王芳", "badge_uid": "04A1B2C3", "home_branch_id": None,
      "photo_id": None, "active": True, "phone": None, "email": None, "im_id": None}),
    (WeeklyShiftIn, {**WEEKLY, "days": "Mon; tue"},
     {**WEEKLY, "template_id": None, "days": ("mon", "tue"), "start": dt.time(9),
      "end": dt.time(12), "valid_from": dt.date(2026, 12, 7), "valid_to": dt.date(2026, 12, 31)}),
    (RulesIn, {"level": "hall", "node_id": "H1", "off_seat_l1_s": "", "rating_window_s": "15"},
     {"level": "hall", "node_id": "H1", "rating_window_s": 15.0, "off_seat_l1_s": None,
      "off_seat_l2_s": None, "off_seat_l3_s": None, "min_transaction_s": None}),
]


@pytest.mark.parametrize(("model", "data", "expected"), GOOD)
def test_good_values_are_normalised(model: type[Any], data: dict[str, Any],
                                    expected: dict[str, Any]) -> None:
    assert check(model, data).model_dump() == expected


@pytest.mark.parametrize(("start", "end", "local"), [
    ("2026-12-24", "2026-12-26", (dt.datetime(2026, 12, 24), dt.datetime(2026, 12, 27))),
    ("2026-12-24 13:30", "2026-12-24 17:00",
     (dt.datetime(2026, 12, 24, 13, 30), dt.datetime(2026, 12, 24, 17))),
    ("2026-12-24", "2026-12-24", (dt.datetime(2026, 12, 24), dt.datetime(2026, 12, 25))),
])
def test_leave_dates_cover_whole_days(start: str, end: str,
                                      local: tuple[dt.datetime, dt.datetime]) -> None:
    leave = check(LeaveIn, {"staff_no": "1", "kind": "business", "start": start, "end": end})
    assert leave.local_span() == local
