"""Retention policy, table-first with hand-worked dates (hq/retention/policy.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from hq.retention.policy import (
    CLIP,
    EVENT,
    TRANSACTION,
    Item,
    Period,
    PeriodError,
    Periods,
    check_periods,
    due,
    earliest_cutoff,
    effective,
)

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
# Organisation: clips 30 days, events 365; branch B2 keeps clips 90 days, B3 events 730.
P = Periods(Period(30, 365), {"B2": Period(90, None), "B3": Period(None, 730)})


@pytest.mark.parametrize(("branch", "expected"), [
    (None, Period(30, 365)),      # filed nowhere: the default
    ("B1", Period(30, 365)),      # no override
    ("B2", Period(90, 365)),      # clips overridden, events inherited
    ("B3", Period(30, 730)),      # events overridden, clips inherited
])
def test_effective_period(branch: str | None, expected: Period) -> None:
    assert effective(P, branch) == expected


def test_clip_never_outlives_its_events() -> None:
    assert effective(Periods(Period(None, 10)), "B1") == Period(10, 10)
    assert effective(Periods(Period(None, None)), "B1") == Period(None, None)


def _at(y: int, m: int, d: int, h: int = 12, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=dt.UTC)


# (kind, branch, recorded at, txn, due?) — cutoffs at NOW = 2026-06-30 12:00Z:
# clips 30 d -> 2026-05-31 12:00; B2 clips 90 d -> 2026-04-01 12:00;
# events 365 d -> 2025-06-30 12:00; B3 events 730 d -> 2024-06-30 12:00.
CASES = [
    (CLIP, "B1", _at(2026, 5, 31, 11, 59), "t1", True),    # a minute before the cutoff
    (CLIP, "B1", _at(2026, 5, 31, 12, 0), "t2", False),    # exactly at it: kept
    (CLIP, "B2", _at(2026, 5, 1), "t3", False),            # B2 keeps clips 90 days
    (CLIP, "B2", _at(2026, 4, 1, 11, 0), "t4", True),      # past B2's 90 days
    (CLIP, None, _at(2026, 1, 1), None, True),             # no branch: default
    (TRANSACTION, "B1", _at(2025, 6, 30, 11, 0), "t5", True),
    (TRANSACTION, "B1", _at(2025, 7, 1), "t6", False),
    (TRANSACTION, "B3", _at(2025, 1, 1), "t7", False),     # B3 keeps events 730 days
    (EVENT, "B3", _at(2024, 6, 29), None, True),
    (EVENT, "B2", _at(2025, 6, 1), "t8", True),            # B2 inherits 365 for events
    (CLIP, "B1", _at(2026, 1, 1), "held", False),          # held by its transaction
    (EVENT, "B1", _at(2024, 1, 1), "held", False),         # an event of the held txn
    (TRANSACTION, "B1", _at(2024, 1, 1), "held", False),   # the held transaction itself
]


@pytest.mark.parametrize(("kind", "branch", "utc", "txn", "expected"), CASES)
def test_due(kind: str, branch: str | None, utc: dt.datetime, txn: str | None,
             expected: bool) -> None:
    key = txn if kind == TRANSACTION and txn else f"k-{utc:%Y%m%d%H%M}"
    item = Item(kind, "u1", key, branch, utc, txn_id=txn)
    held = frozenset({("u1", "held")})
    assert (due([item], P, held, frozenset(), NOW) == [item]) is expected


def test_a_clip_held_by_its_clip_id() -> None:
    """A clip event names the clip but no transaction: the hold's clip still covers it."""
    item = Item(EVENT, "u1", "e1", "B1", _at(2020, 1, 1), clip_id="c9")
    assert due([item], P, frozenset(), frozenset({("u1", "c9")}), NOW) == []
    assert due([item], P, frozenset(), frozenset({("u2", "c9")}), NOW) == [item]


def test_nothing_configured_keeps_everything() -> None:
    item = Item(EVENT, "u1", "e1", "B1", _at(1990, 1, 1))
    assert due([item], Periods(), frozenset(), frozenset(), NOW) == []
    assert earliest_cutoff(Periods(), EVENT, NOW) is None


def test_earliest_cutoff_is_the_shortest_period() -> None:
    assert earliest_cutoff(P, CLIP, NOW) == _at(2026, 5, 31)           # 30 days
    assert earliest_cutoff(P, EVENT, NOW) == _at(2025, 6, 30)          # 365 days


@pytest.mark.parametrize(("periods", "field"), [
    (Periods(Period(0, 10)), "default.clip_days"),
    (Periods(Period(10, 40000)), "default.event_days"),
    (Periods(Period(10, 20), {"B1": Period(30, None)}), "B1.clip_days"),
    (Periods(Period(10, 20), {"B1": Period(None, 5)}), "B1.event_days"),
    (Periods(Period(50, 20)), "default.clip_days"),
    (Periods(Period(True, 20)), "default.clip_days"),
])
def test_bad_periods_name_the_field(periods: Periods, field: str) -> None:
    with pytest.raises(PeriodError) as err:
        check_periods(periods)
    assert err.value.field == field
    assert str(err.value).startswith(field + ":")


def test_good_periods_pass() -> None:
    check_periods(P)
    check_periods(Periods(Period(None, 10)))
