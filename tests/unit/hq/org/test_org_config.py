"""Config documents HQ generates for a window, checked against hand-worked expectations, and
the versions that follow authoring changes; the unit's own parser and roster accept them."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from firmware.config.from_hq import parse_hq_config
from firmware.daemon.roster import Roster
from hq.org.authoring.store import OrgStore
from hq.org.config.document import resolve_rules
from hq.org.config.versions import served_document, versions_of
from hq.org.records.errors import OrgInvalid
from hq.org.schedules.shifts import Instance, expand_weekly, opening_hours
from tests.servers.postgres_fixtures import Backend

T0 = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
UTC = dt.UTC


@pytest.mark.parametrize(("days", "tz", "first", "last", "expected"), [
    # Shanghai is UTC+8 all year: 09:00-17:00 local is 01:00-09:00 UTC.
    ("mon,tue", "Asia/Shanghai", dt.date(2026, 12, 7), dt.date(2026, 12, 9), [
        Instance(dt.date(2026, 12, 7), dt.datetime(2026, 12, 7, 1, tzinfo=UTC),
                 dt.datetime(2026, 12, 7, 9, tzinfo=UTC)),
        Instance(dt.date(2026, 12, 8), dt.datetime(2026, 12, 8, 1, tzinfo=UTC),
                 dt.datetime(2026, 12, 8, 9, tzinfo=UTC))]),
    # London moves to BST on Sunday 29 March 2026: Saturday 09:00 is 09:00Z, Sunday 08:00Z.
    ("sat,sun", "Europe/London", dt.date(2026, 3, 28), dt.date(2026, 3, 29), [
        Instance(dt.date(2026, 3, 28), dt.datetime(2026, 3, 28, 9, tzinfo=UTC),
                 dt.datetime(2026, 3, 28, 17, tzinfo=UTC)),
        Instance(dt.date(2026, 3, 29), dt.datetime(2026, 3, 29, 8, tzinfo=UTC),
                 dt.datetime(2026, 3, 29, 16, tzinfo=UTC))]),
    ("wed", "Asia/Shanghai", dt.date(2026, 12, 7), dt.date(2026, 12, 8), []),
])
def test_weekly_templates_expand_into_utc_instances(days: str, tz: str, first: dt.date,
                                                    last: dt.date,
                                                    expected: list[Instance]) -> None:
    assert expand_weekly(days.split(","), dt.time(9), dt.time(17), first, last,
                         ZoneInfo(tz)) == expected


@pytest.mark.parametrize(("templates", "expected"), [
    ([], []),
    ([("mon,tue", "09:00", "12:00"), ("wed", "09:00", "12:00"), ("mon", "13:00", "17:00")],
     [{"days": ["mon", "tue", "wed"], "start": "09:00", "end": "12:00"},
      {"days": ["mon"], "start": "13:00", "end": "17:00"}]),
    ([("sun,mon", "08:30", "12:00"), ("mon", "08:30", "12:00")],
     [{"days": ["mon", "sun"], "start": "08:30", "end": "12:00"}]),
])
def test_opening_hours_merge_templates(templates: list[tuple[str, str, str]],
                                       expected: list[dict[str, Any]]) -> None:
    assert opening_hours(templates) == expected


@pytest.mark.parametrize(("layers", "expected"), [
    ([None, None, None, None], None),
    ([{"off_seat_l1_s": 60.0}, None, None, None],
     {"rating_window_s": 10.0, "off_seat_alert_s": [60.0, 300.0, 600.0],
      "min_transaction_s": 0.0}),
    ([{"off_seat_l1_s": 60.0, "rating_window_s": 15.0}, {"rating_window_s": None},
      {"rating_window_s": 20.0}, {"off_seat_l3_s": 900.0, "min_transaction_s": 5.0}],
     {"rating_window_s": 20.0, "off_seat_alert_s": [60.0, 300.0, 900.0],
      "min_transaction_s": 5.0}),
])
def test_rules_resolve_from_org_down_to_the_window(layers: list[Any],
                                                   expected: dict[str, Any] | None) -> None:
    assert resolve_rules(layers) == expected


def test_resolved_rules_a_unit_would_refuse_are_an_error() -> None:
    with pytest.raises(ValueError, match="off_seat_alert_s must be strictly ascending"):
        resolve_rules([{"off_seat_l1_s": 400.0}, None, None, None])


@pytest.fixture
def org(tmp_path: Path, backend: Backend) -> Iterator[OrgStore]:
    store = OrgStore(backend.migrated(tmp_path) / "events.db")
    for kind, data in [
        ("settings", {"badge_uid_salt": "s3cret"}),
        ("branch", {"branch_id": "B1", "name": "Main"}),
        ("branch", {"branch_id": "B2", "name": "East", "tz": "Asia/Urumqi"}),
        ("hall", {"hall_id": "H1", "branch_id": "B1", "name": "Hall 1"}),
        ("hall", {"hall_id": "H2", "branch_id": "B2", "name": "Hall 2"}),
        ("window", {"window_id": "W1", "hall_id": "H1", "name": "Window 1"}),
        ("window", {"window_id": "W2", "hall_id": "H1", "name": "Window 2"}),
        ("window", {"window_id": "W3", "hall_id": "H2", "name": "Window 3"}),
        ("staff", {"staff_no": "1001", "name": "王芳", "badge_uid": "04:a1:b2:c3",
                   "home_branch_id": "B1", "photo_id": "p1001"}),
        ("staff", {"staff_no": "1002", "name": "Li Wei", "badge_uid": "0012345678",
                   "home_branch_id": "B2"}),
        ("staff", {"staff_no": "1003", "name": "No Badge", "home_branch_id": "B1"}),
        ("staff", {"staff_no": "1004", "name": "Left", "badge_uid": "AABBCCDD",
                   "home_branch_id": "B1", "active": False}),
        ("template", {"window_id": "W1", "staff_no": "1002", "days": "mon,wed",
                      "start": "09:00", "end": "17:00", "valid_from": "2026-12-07",
                      "valid_to": "2026-12-20"}),
        ("rules", {"level": "org", "off_seat_l1_s": 60}),
        ("rules", {"level": "hall", "node_id": "H1", "rating_window_s": 20}),
        ("rules", {"level": "window", "node_id": "W2", "off_seat_l3_s": 900}),
    ]:
        store.author(kind, data, T0)
    for unit, window in [("u1", "W1"), ("u2", "W2"), ("u3", "W3")]:
        store.bind(unit, window, T0)
    yield store
    store.close()


def served(org: OrgStore, unit: str) -> dict[str, Any]:
    with org.reading() as conn:
        body = served_document(conn, unit)
    assert body is not None
    return dict(json.loads(body))


def mac(uid: str) -> str:
    return hmac.new(b"s3cret", uid.encode(), hashlib.sha256).hexdigest()


def latest_version(org: OrgStore, window: str) -> int:
    with org.reading() as conn:
        return versions_of(conn, window)[0].version


def test_window_document_by_hand(org: OrgStore) -> None:
    # W1: home staff of B1 with a badge (1001; 1003 has none, 1004 is inactive) and 1002,
    # who is from B2 but scheduled here; the template's hours; org rules + hall H1's window.
    assert served(org, "u1") == {
        "version": str(latest_version(org, "W1")),
        "roster": {"staff": [
            {"staff_id": "1001", "name": "王芳", "staff_number": "1001", "photo_id": "p1001",
             "badge_uid_sha256": [mac("04A1B2C3")]},
            {"staff_id": "1002", "name": "Li Wei", "staff_number": "1002", "photo_id": "",
             "badge_uid_sha256": [mac("0012345678")]}]},
        "schedule": {"shifts": [{"days": ["mon", "wed"], "start": "09:00", "end": "17:00"}]},
        "rules": {"rating_window_s": 20.0, "off_seat_alert_s": [60.0, 300.0, 600.0],
                  "min_transaction_s": 0.0},
    }
    # W2: no templates (no schedule section: the unit keeps its own), its own level 3.
    w2 = served(org, "u2")
    assert "schedule" not in w2 and [e["staff_id"] for e in w2["roster"]["staff"]] == ["1001"]
    assert w2["rules"]["off_seat_alert_s"] == [60.0, 300.0, 900.0]
    # W3 (branch B2): only 1002; the org's rules alone.
    w3 = served(org, "u3")
    assert [e["staff_id"] for e in w3["roster"]["staff"]] == ["1002"]
    assert w3["rules"] == {"rating_window_s": 10.0, "off_seat_alert_s": [60.0, 300.0, 600.0],
                           "min_transaction_s": 0.0}


def test_the_unit_accepts_the_document_and_knows_the_badge(org: OrgStore) -> None:
    with org.reading() as conn:
        body = served_document(conn, "u1")
    assert body is not None
    doc = parse_hq_config(body)  # the unit's own validation
    assert doc.roster is not None
    roster = Roster(doc.roster.staff, "s3cret")  # the salt in the unit's unit.toml
    _, staff = roster.lookup("04-A1-B2-C3")  # as a reader might print it
    assert staff is not None and staff.staff_id == "1001"
    assert Roster(doc.roster.staff, "counterunit").lookup("04A1B2C3")[1] is None


def test_a_change_makes_a_version_only_for_the_windows_it_affects(org: OrgStore) -> None:
    before = {w: latest_version(org, w) for w in ("W1", "W2", "W3")}
    _, made = org.author("branch", {"branch_id": "B2", "name": "East (renamed)",
                                    "tz": "Asia/Urumqi"}, T0)
    assert made == []  # a branch's name is in no document
    _, made = org.author("staff", {"staff_no": "1001", "name": "王芳芳",
                                   "badge_uid": "04A1B2C3", "home_branch_id": "B1"}, T0)
    assert sorted((v.window_id, v.version) for v in made) == [
        ("W1", before["W1"] + 1), ("W2", before["W2"] + 1)]
    assert served(org, "u1")["version"] == str(before["W1"] + 1)
    assert latest_version(org, "W3") == before["W3"]


def test_rules_that_break_a_window_are_refused_and_nothing_is_written(org: OrgStore) -> None:
    # Level 1 at 400 s is above the default level 2 (300 s) every window inherits.
    with pytest.raises(OrgInvalid) as caught:
        org.author("rules", {"level": "org", "off_seat_l1_s": 400}, T0)
    assert caught.value.problems[0].startswith("rules as they apply to window W1: "
                                               "off_seat_alert_s must be strictly ascending")
    with org.reading() as conn:
        row = conn.execute("SELECT off_seat_l1_s FROM org_rules WHERE level = 'org'").fetchone()
    assert row[0] == 60.0


@pytest.mark.parametrize(("kind", "data", "problem"), [
    ("hall", {"hall_id": "H9", "branch_id": "B9", "name": "x"},
     "branch_id: no branch 'B9' (author it first)"),
    ("staff", {"staff_no": "2001", "name": "Dup", "badge_uid": "04A1B2C3"},
     "badge_uid: badge 04A1B2C3 already belongs to staff 1001"),
    ("shift", {"window_id": "W9", "staff_no": "9999", "date": "2026-12-07", "start": "09:00",
               "end": "10:00"}, "staff_no: no staff member '9999'"),
    ("rules", {"level": "branch", "node_id": "B9", "rating_window_s": 5},
     "node_id: no branch 'B9'"),
])
def test_references_must_exist(org: OrgStore, kind: str, data: dict[str, Any],
                               problem: str) -> None:
    with pytest.raises(OrgInvalid) as caught:
        org.author(kind, data, T0)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_dated_shifts_and_template_instances_are_kept_in_utc(org: OrgStore) -> None:
    org.author("shift", {"window_id": "W3", "staff_no": "1002", "date": "2026-12-08",
                         "start": "10:00", "end": "14:00"}, T0)
    with org.reading() as conn:
        rows = [tuple(r) for r in conn.execute(
            "SELECT shift_id, window_id, start_utc, end_utc FROM org_shifts ORDER BY start_utc")]
    assert rows == [
        ("t:W1.1002.mowe.0900:2026-12-07", "W1", "2026-12-07T01:00:00.000000Z",
         "2026-12-07T09:00:00.000000Z"),
        # Urumqi is UTC+6.
        ("d:W3:1002:2026-12-08:1000", "W3", "2026-12-08T04:00:00.000000Z",
         "2026-12-08T08:00:00.000000Z"),
        ("t:W1.1002.mowe.0900:2026-12-09", "W1", "2026-12-09T01:00:00.000000Z",
         "2026-12-09T09:00:00.000000Z"),
        ("t:W1.1002.mowe.0900:2026-12-14", "W1", "2026-12-14T01:00:00.000000Z",
         "2026-12-14T09:00:00.000000Z"),
        ("t:W1.1002.mowe.0900:2026-12-16", "W1", "2026-12-16T01:00:00.000000Z",
         "2026-12-16T09:00:00.000000Z"),
    ]
    org.delete("template", "W1.1002.mowe.0900", T0)
    with org.reading() as conn:
        left = [r[0] for r in conn.execute("SELECT shift_id FROM org_shifts")]
    assert left == ["d:W3:1002:2026-12-08:1000"]
    assert "schedule" not in served(org, "u1")  # the window's hours went with it


def test_zones_reach_the_unit_once_both_roles_are_authored(org: OrgStore) -> None:
    before = latest_version(org, "W1")
    org.author("zone", {"window_id": "W1", "name": "seat", "x0": 0.0, "y0": 0.0,
                        "x1": 0.4, "y1": 1.0}, T0)
    # Half a set would make the unit refuse the whole document: nothing new goes out.
    assert latest_version(org, "W1") == before and "zones" not in served(org, "u1")
    org.author("zone", {"window_id": "W1", "name": "customer", "x0": 0.4, "y0": 0.1,
                        "x1": 1.0, "y1": 0.9, "exit_hold_s": 6.0}, T0)
    assert latest_version(org, "W1") == before + 1
    doc = served(org, "u1")
    assert doc["zones"] == {
        "seat": {"x0": 0.0, "y0": 0.0, "x1": 0.4, "y1": 1.0, "enter_dwell_s": 2.0,
                 "exit_hold_s": 8.5},
        "customer": {"x0": 0.4, "y0": 0.1, "x1": 1.0, "y1": 0.9, "enter_dwell_s": 2.0,
                     "exit_hold_s": 6.0}}
    parsed = parse_hq_config(json.dumps(doc).encode())  # the unit's own validation
    assert parsed.zones is not None and parsed.zones["customer"].exit_hold_s == 6.0
    assert "zones" not in served(org, "u2")  # W2 has none of its own
