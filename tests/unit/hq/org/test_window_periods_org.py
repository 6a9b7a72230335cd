"""Planned closed/away periods authored at HQ (hq/org/schedules/periods.py) and the
counter-zone rules for HQ-pushed zones, table first: what is refused and how it is named,
the document a window gets, and how the unit takes the schedule key by key."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from firmware.config.from_hq import merge, parse_hq_config
from firmware.config.unit import ConfigError, parse_config
from hq.org.authoring.store import OrgStore
from hq.org.config.versions import versions_of
from hq.org.importing.files import ImportRefused, import_file, template_bytes
from hq.org.records.errors import OrgForbidden, OrgInvalid
from hq.storage.scope import Scope

NOW = dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)
LUNCH = {"window_id": "W1", "state": "closed", "days": "mon,tue,wed,thu,fri",
         "start": "12:00", "end": "12:30", "note": "lunch"}
AUDIT = {"window_id": "W1", "state": "away", "date": "2026-12-09", "start": "09:00",
         "end": "11:00", "note": "branch audit"}


@pytest.fixture()
def org(tmp_path: Path) -> OrgStore:
    store = OrgStore(tmp_path / "events.db")
    store.author("branch", {"branch_id": "B1", "name": "Main"}, NOW)
    store.author("hall", {"hall_id": "H1", "branch_id": "B1", "name": "Hall"}, NOW)
    for w in ("W1", "W2"):
        store.author("window", {"window_id": w, "hall_id": "H1", "name": w}, NOW)
    store.bind("u1", "W1", NOW)
    store.bind("u2", "W2", NOW)
    return store


def served(org: OrgStore, unit: str) -> dict[str, Any] | None:
    body = org.served_config(unit)
    return None if body is None else dict(json.loads(body))


BAD_PERIODS: list[tuple[dict[str, Any], str]] = [
    ({**LUNCH, "state": "lunch"}, "state: Input should be 'closed' or 'away'"),
    ({**LUNCH, "end": "11:00"}, "end 11:00 must be after start 12:00"),
    ({**LUNCH, "date": "2026-12-09"}, "give either days (weekly) or date (one day)"),
    ({**LUNCH, "days": ""}, "give either days (weekly) or date (one day)"),
    ({**LUNCH, "days": "mon,fun"}, "days.1: Input should be 'mon'"),
    ({**LUNCH, "note": "x" * 65}, "note: String should have at most 64 characters"),
    ({**AUDIT, "date": "2026-13-01"}, "date: Input should be a valid date"),
    ({**LUNCH, "colour": "red"}, "colour: Extra inputs are not permitted"),
    ({**LUNCH, "window_id": "W9"}, "window_id: no window 'W9' (author it first)"),
]


@pytest.mark.parametrize(("data", "problem"), BAD_PERIODS,
                         ids=[p[:28] for _, p in BAD_PERIODS])
def test_a_bad_period_is_refused_naming_the_field_and_rule_and_nothing_is_written(
        org: OrgStore, data: dict[str, Any], problem: str) -> None:
    before = versions_of_all(org)
    with pytest.raises(OrgInvalid) as caught:
        org.author("period", data, NOW)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert versions_of_all(org) == before
    with org.reading() as conn:
        assert conn.execute("SELECT COUNT(*) FROM org_window_periods").fetchone()[0] == 0


def versions_of_all(org: OrgStore) -> list[Any]:
    with org.reading() as conn:
        return versions_of(conn, "W1") + versions_of(conn, "W2")


def test_the_window_gets_its_periods_in_the_units_wire_format_and_only_it(
        org: OrgStore) -> None:
    ident, made = org.author("period", LUNCH, NOW)
    assert ident == "W1.closed.motuwethfr.1200"
    assert [(v.window_id, v.version, v.sections) for v in made] == [("W1", 1, ("schedule",))]
    ident2, _ = org.author("period", AUDIT, NOW)
    doc = served(org, "u1")
    assert doc == {"version": "2", "schedule": {"states": [  # weekly first, then by date
        {"state": "closed", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "12:00",
         "end": "12:30", "note": "lunch"},
        {"state": "away", "date": "2026-12-09", "start": "09:00", "end": "11:00",
         "note": "branch audit"}]}}
    assert served(org, "u2") is None
    # What HQ serves is what the unit validates.
    unit_doc = parse_hq_config(json.dumps(doc).encode())
    assert unit_doc.schedule is not None and len(unit_doc.schedule.states) == 2
    # Re-authoring the same period changes nothing; deleting the last one sends "states": []
    # so the unit drops them too, and that stays stable.
    assert org.author("period", LUNCH, NOW)[1] == []
    org.delete("period", ident, NOW)
    org.delete("period", ident2, NOW)
    assert served(org, "u1") == {"version": "4", "schedule": {"states": []}}
    assert org.author("rules", {"level": "window", "node_id": "W2",
                                "rating_window_s": 12}, NOW)[1][0].window_id == "W2"
    assert served(org, "u1") == {"version": "4", "schedule": {"states": []}}


def test_a_branch_manager_plans_periods_only_at_windows_in_scope(org: OrgStore) -> None:
    org.author("branch", {"branch_id": "B2", "name": "East"}, NOW)
    org.author("hall", {"hall_id": "H2", "branch_id": "B2", "name": "Hall 2"}, NOW)
    org.author("window", {"window_id": "W3", "hall_id": "H2", "name": "W3"}, NOW)
    b2 = Scope("branch", "B2")
    with pytest.raises(OrgForbidden, match="window_id: window W1 is not in your scope"):
        org.author("period", LUNCH, NOW, b2)
    ident, _ = org.author("period", {**LUNCH, "window_id": "W3"}, NOW, b2)
    mine, _ = org.author("period", LUNCH, NOW)
    with pytest.raises(OrgForbidden, match="outside your scope"):
        org.delete("period", mine, NOW, b2)
    org.delete("period", ident, NOW, b2)


UNIT = {"unit": {"unit_id": "u1", "timezone": "Asia/Shanghai"},
        "camera": {"type": "file", "path": "/nonexistent.mp4"}, "keypad": None, "badge": None,
        "schedule": {"shifts": [{"days": ["mon"], "start": "08:00", "end": "18:00"}],
                     "states": [{"state": "away", "days": ["fri"], "start": "15:00",
                                 "end": "16:00"}]}}


@pytest.mark.parametrize(("schedule", "shifts", "states"), [
    # HQ's states alone: the unit's opening hours stay.
    ({"states": [{"state": "closed", "date": "2026-12-09", "start": "12:00", "end": "12:30"}]},
     ["08:00"], ["closed"]),
    # HQ's hours alone: the unit's own planned periods stay.
    ({"shifts": [{"days": ["tue"], "start": "09:00", "end": "17:00"}]}, ["09:00"], ["away"]),
    # Both keys, "states": [] clears them.
    ({"shifts": [], "states": []}, [], []),
])
def test_the_unit_takes_the_schedule_key_by_key(schedule: dict[str, Any], shifts: list[str],
                                                states: list[str]) -> None:
    cfg = parse_config(UNIT)
    merged, sections = merge(cfg, parse_hq_config(json.dumps({"schedule": schedule}).encode()))
    assert sections == ["schedule"]
    assert [f"{s.start:%H:%M}" for s in merged.schedule.shifts] == shifts
    assert [p.state for p in merged.schedule.states] == states


SEAT = {"window_id": "W1", "name": "seat", "x0": 0.0, "y0": 0.0, "x1": 0.5, "y1": 1.0}
CUSTOMER = {"window_id": "W1", "name": "customer", "x0": 0.5, "y0": 0.0, "x1": 1.0, "y1": 0.7}
COUNTER = {"window_id": "W1", "name": "counter", "x0": 0.3, "y0": 0.6, "x1": 1.0, "y1": 0.95}

BAD_COUNTERS: list[tuple[list[dict[str, Any]], str]] = [
    ([{**COUNTER, "x1": 1.2}], "zone counter: x1: Input should be less than or equal to 1"),
    ([{**COUNTER, "y0": -0.1}], "zone counter: y0: Input should be greater than or equal to 0"),
    ([SEAT, CUSTOMER, {**COUNTER, "y0": 0.2}],
     "zone counter of window W1: zones.counter covers 71% of zones.customer; at most 50%"),
    ([SEAT, CUSTOMER, {**COUNTER, "x0": 0.0, "y0": 0.1}],
     "zone counter of window W1: zones.counter covers 85% of zones.seat; at most 50%"),
    # The customer zone drawn later over an existing counter zone: named by that write.
    ([SEAT, COUNTER, {**CUSTOMER, "y0": 0.5, "y1": 1.0}],
     "zone customer of window W1: zones.counter covers 70% of zones.customer; at most 50%"),
]


@pytest.mark.parametrize(("zones", "problem"), BAD_COUNTERS,
                         ids=[p[:34] for _, p in BAD_COUNTERS])
def test_hq_refuses_a_counter_zone_the_unit_would_refuse(
        org: OrgStore, zones: list[dict[str, Any]], problem: str) -> None:
    *good, last = zones
    for z in good:
        org.author("zone", z, NOW)
    with org.reading() as conn:
        before = conn.execute("SELECT * FROM org_zones ORDER BY name").fetchall()
    with pytest.raises(OrgInvalid) as caught:
        org.author("zone", last, NOW)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    with org.reading() as conn:
        assert conn.execute("SELECT * FROM org_zones ORDER BY name").fetchall() == before


def test_a_good_counter_zone_goes_out_with_the_window_zones(org: OrgStore) -> None:
    for z in (SEAT, CUSTOMER, COUNTER):
        org.author("zone", z, NOW)
    doc = served(org, "u1")
    assert doc is not None and set(doc["zones"]) == {"seat", "customer", "counter"}
    parsed = parse_hq_config(json.dumps(doc).encode())
    assert parsed.zones is not None and parsed.zones["counter"].x0 == 0.3


def _zone(x0: float, y0: float, x1: float, y1: float) -> dict[str, float]:
    return {"x0": x0, "y0": y0, "x1": x1, "y1": y1}


UNIT_REFUSES: list[tuple[dict[str, Any], str]] = [
    ({"counter": _zone(0.3, 0.6, 1.3, 0.95)},
     "zones.counter.x1: Input should be less than or equal to 1"),
    ({"counter": _zone(0.3, -0.2, 1.0, 0.95)},
     "zones.counter.y0: Input should be greater than or equal to 0"),
    ({"counter": _zone(0.5, 0.1, 1.0, 0.9)},
     "zones.counter covers 80% of zones.customer; at most 50%"),
    ({"counter": _zone(0.0, 0.0, 0.5, 0.9)}, "zones.counter covers 90% of zones.seat"),
]


@pytest.mark.parametrize(("extra", "problem"), UNIT_REFUSES,
                         ids=[p[:30] for _, p in UNIT_REFUSES])
def test_the_unit_refuses_a_bad_counter_zone_from_hq_naming_it(extra: dict[str, Any],
                                                               problem: str) -> None:
    zones = {"seat": _zone(0.0, 0.0, 0.5, 1.0), "customer": _zone(0.5, 0.0, 1.0, 1.0), **extra}
    with pytest.raises(ConfigError) as err:
        parse_hq_config(json.dumps({"version": "c", "zones": zones}).encode())
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_an_xlsx_periods_import_names_its_bad_rows_and_writes_nothing(org: OrgStore) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes("periods", "xlsx")))
    sheet = wb["data"]
    sheet.append(["W1", "closed", "", "mon,wed", "12:00", "12:30", "lunch"])
    sheet.append(["W1", "away", "2026-12-09", "tue", "09:00", "10:00", ""])
    sheet.append(["W2", "away", "2026-12-10", "", "11:00", "10:00", ""])
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ImportRefused) as caught:
        import_file(org, "periods", out.getvalue(), "periods.xlsx", NOW)
    assert [e.text() for e in caught.value.errors] == [
        "row 3: give either days (weekly) or date (one day), not both or neither",
        "row 4: end 10:00 must be after start 11:00 (a period ends the day it starts)"]
    assert served(org, "u1") is None
    sheet.delete_rows(3, 2)
    out = io.BytesIO()
    wb.save(out)
    result = import_file(org, "periods", out.getvalue(), "periods.xlsx", NOW)
    assert result.ids == ["W1.closed.mowe.1200"]
    assert [v.window_id for v in result.versions] == ["W1"]
