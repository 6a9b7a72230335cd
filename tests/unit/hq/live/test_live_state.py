"""hq.live.state: a window's live state from events, table by table, and in any order."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from hq.live.state import OFFLINE_AFTER, Plan, WindowLive, status_of, tile, transition
from hq.live.store import decode, encode

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def run(events: list[tuple[str, float, dict[str, Any]]],
        start: WindowLive | None = None) -> WindowLive:
    live = start or WindowLive()
    for type_, minute, data in events:
        live = transition(live, type_, data, at(minute), "u1")
    return live


Ev = tuple[str, float, dict[str, Any]]
LOGIN: Ev = ("login", 0, {"staff_id": "S1", "name": "Wang", "session_id": "s1"})

# (events, expected fields)
CASES: list[tuple[str, list[tuple[str, float, dict[str, Any]]], dict[str, Any]]] = [
    ("login shows the staff", [LOGIN],
     {"staff_id": "S1", "staff_name": "Wang", "session_id": "s1"}),
    ("logout clears staff and any absence",
     [LOGIN, ("absence_started", 1, {"absence_id": "a1"}), ("logout", 2, {"session_id": "s1"})],
     {"staff_id": None, "absent_since": None, "absence_id": None}),
    ("logout of an older session keeps the current one",
     [LOGIN, ("logout", 1, {"session_id": "s0"})], {"staff_id": "S1"}),
    ("absence starts at its event time",
     [LOGIN, ("absence_started", 5, {"absence_id": "a1"})],
     {"absent_since": at(5), "absence_level": 0, "absence_id": "a1"}),
    ("alert raises the level of the absence",
     [LOGIN, ("absence_started", 5, {"absence_id": "a1"}),
      ("alert_raised", 8, {"alert": "off_seat", "level": 1, "absence_id": "a1", "away_s": 180}),
      ("alert_raised", 12, {"alert": "off_seat", "level": 2, "absence_id": "a1", "away_s": 420})],
     {"absent_since": at(5), "absence_level": 2, "alert_active": True, "alert_level": 2,
      "alert_kind": "off_seat", "alert_utc": at(12)}),
    ("absence_ended seats the staff again; alert_cleared ends the alert",
     [LOGIN, ("absence_started", 5, {"absence_id": "a1"}),
      ("alert_raised", 8, {"alert": "off_seat", "level": 1, "absence_id": "a1", "away_s": 180}),
      ("absence_ended", 9, {"absence_id": "a1"}),
      ("alert_cleared", 9, {"alert": "off_seat", "absence_id": "a1", "level": 1})],
     {"absent_since": None, "absence_level": 0, "alert_active": False, "alert_level": 1}),
    ("an alert ahead of its absence_started dates the absence from away_s",
     [LOGIN, ("alert_raised", 8, {"alert": "off_seat", "level": 1, "absence_id": "a1",
                                  "away_s": 180})],
     {"absent_since": at(5), "absence_level": 1}),
    ("an alert arriving after its absence ended does not reopen it",
     [LOGIN, ("absence_started", 5, {"absence_id": "a1"}),
      ("absence_ended", 9, {"absence_id": "a1"}),
      ("alert_raised", 8, {"alert": "off_seat", "level": 1, "absence_id": "a1", "away_s": 180})],
     {"absent_since": None, "absence_level": 0}),
    ("absence_started after its alert keeps the level",
     [LOGIN, ("alert_raised", 8, {"alert": "off_seat", "level": 1, "absence_id": "a1",
                                  "away_s": 180}),
      ("absence_started", 5, {"absence_id": "a1"})],
     {"absent_since": at(5), "absence_level": 1}),
    ("transaction start and end",
     [LOGIN, ("transaction_started", 3, {"txn_id": "t1"})],
     {"txn_id": "t1", "txn_started": at(3)}),
    ("ended transaction leaves no customer",
     [("transaction_started", 3, {"txn_id": "t1"}), ("transaction_ended", 6, {"txn_id": "t1"})],
     {"txn_id": None, "txn_started": None}),
    ("a rated outcome is the last rating; an unrated one changes nothing",
     [("rating", 3, {"outcome": "rated", "rating": 4}), ("rating", 6, {"outcome": "timeout"})],
     {"last_rating": 4, "last_rating_utc": at(3)}),
    ("counter closed and reopened",
     [("counter_closed", 1, {})], {"counter_open": False}),
    ("events of other types move only the last event time",
     [("clip_closed", 7, {"clip_id": "c"})], {"last_event_utc": at(7), "staff_id": None}),
    ("an older event of an aspect changes nothing",
     [("transaction_started", 5, {"txn_id": "t2"}), ("transaction_ended", 4, {"txn_id": "t1"})],
     {"txn_id": "t2", "last_event_utc": at(5)}),
    ("wrong types in the data become None",
     [("login", 0, {"staff_id": 7, "name": None, "session_id": "s"})],
     {"staff_id": None, "session_id": "s"}),
]


@pytest.mark.parametrize(("events", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_transitions(events: list[tuple[str, float, dict[str, Any]]],
                     expected: dict[str, Any]) -> None:
    live = run(events)
    assert {k: getattr(live, k) for k in expected} == expected


def test_any_arrival_order_gives_the_same_state() -> None:
    events: list[Ev] = [LOGIN, ("absence_started", 5, {"absence_id": "a1"}),
              ("alert_raised", 8, {"alert": "off_seat", "level": 1, "absence_id": "a1",
                                   "away_s": 180}),
              ("transaction_started", 2, {"txn_id": "t1"}),
              ("rating", 4, {"outcome": "rated", "rating": 5})]
    results = {encode(run(list(order))) for order in itertools.permutations(events)}
    assert len(results) == 1
    live = decode(results.pop())
    assert (live.staff_id, live.absent_since, live.absence_level, live.txn_id,
            live.last_rating) == ("S1", at(5), 1, "t1", 5)


STATUS = [
    # (staff logged in, absent, counter open, plan, status)
    (True, False, True, Plan(), "staffed"),
    (True, True, True, Plan(scheduled=True), "off_seat"),
    (True, False, False, Plan(scheduled=True), "closed"),
    (False, False, False, Plan(), "closed"),
    (False, False, True, Plan(leave="business"), "business"),
    (False, False, True, Plan(leave="leave"), "leave"),
    (False, False, True, Plan(scheduled=True), "unstaffed"),
    (False, False, True, Plan(), "not_scheduled"),
    (True, False, True, Plan(leave="business"), "staffed"),  # someone is at the window
]


@pytest.mark.parametrize(("staff", "absent", "open_", "plan", "status"), STATUS)
def test_status_order(staff: bool, absent: bool, open_: bool, plan: Plan, status: str) -> None:
    live = WindowLive(staff_id="S1" if staff else None, absent_since=at(1) if absent else None,
                      counter_open=open_)
    assert status_of(live, plan) == status


def test_tile_level_only_while_off_seat_and_online_by_last_seen() -> None:
    live = run([LOGIN, ("absence_started", 5, {"absence_id": "a1"}),
                ("alert_raised", 8, {"alert": "off_seat", "level": 2, "absence_id": "a1",
                                     "away_s": 180})])
    t = tile(live, Plan(scheduled=True), at(8), at(9))
    assert (t.status, t.level, t.off_seat_since, t.online) == ("off_seat", 2, at(5), True)
    late = tile(live, Plan(), at(8), at(8) + OFFLINE_AFTER + dt.timedelta(seconds=1))
    assert late.online is False
    back = transition(live, "absence_ended", {"absence_id": "a1"}, at(10), "u1")
    t = tile(back, Plan(), at(10), at(10))
    assert (t.status, t.level, t.off_seat_since) == ("staffed", 0, None)
    assert tile(WindowLive(), Plan(), None, at(0)).online is False


def test_encode_round_trip() -> None:
    live = run([LOGIN, ("transaction_started", 3, {"txn_id": "t1"}),
                ("rating", 4, {"outcome": "rated", "rating": 3})])
    assert decode(encode(live)) == live
