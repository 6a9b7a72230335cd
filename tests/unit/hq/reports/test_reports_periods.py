"""Pure helpers of the rollups: period covers, day splits, comparisons, quantiles."""

from __future__ import annotations

import datetime as dt

import pytest

from hq.reports.figures import hist, periods

D = dt.date


@pytest.mark.parametrize(("first", "last", "keys"), [
    (D(2026, 1, 1), D(2026, 12, 31), ["Y2026"]),
    (D(2026, 3, 1), D(2026, 3, 31), ["M2026-03"]),
    (D(2026, 2, 27), D(2026, 4, 1), ["D2026-02-27", "D2026-02-28", "M2026-03", "D2026-04-01"]),
    (D(2026, 3, 2), D(2026, 3, 4), ["D2026-03-02", "D2026-03-03", "D2026-03-04"]),
    (D(2026, 3, 2), D(2026, 3, 3), ["D2026-03-02", "D2026-03-03"]),
    (D(2025, 12, 31), D(2027, 1, 1), ["D2025-12-31", "Y2026", "D2027-01-01"]),
])
def test_cover(first: dt.date, last: dt.date, keys: list[str]) -> None:
    assert periods.cover(first, last) == keys


def test_period_keys() -> None:
    assert periods.period_keys(D(2026, 1, 1)) == ("D2026-01-01", "M2026-01", "Y2026")


def test_split_by_day_in_shanghai() -> None:
    start = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)  # 22:00 local
    end = dt.datetime(2026, 3, 3, 22, 0, tzinfo=dt.UTC)  # 06:00 local two days on
    assert list(periods.split_by_day(start, end, "Asia/Shanghai")) == [
        (D(2026, 3, 2), 7200.0), (D(2026, 3, 3), 86400.0), (D(2026, 3, 4), 21600.0)]


@pytest.mark.parametrize(("first", "last", "how", "expected"), [
    (D(2026, 3, 1), D(2026, 3, 31), "previous", (D(2026, 2, 1), D(2026, 2, 28))),
    (D(2026, 1, 1), D(2026, 12, 31), "previous", (D(2025, 1, 1), D(2025, 12, 31))),
    (D(2026, 3, 2), D(2026, 3, 8), "previous", (D(2026, 2, 23), D(2026, 3, 1))),
    (D(2028, 2, 29), D(2028, 2, 29), "year-1", (D(2027, 2, 28), D(2027, 2, 28))),
    (D(2026, 3, 1), D(2026, 3, 31), "year-2", (D(2024, 3, 1), D(2024, 3, 31))),
])
def test_shift_period(first: dt.date, last: dt.date, how: str,
                      expected: tuple[dt.date, dt.date]) -> None:
    assert periods.shift_period(first, last, how) == expected


@pytest.mark.parametrize(("seconds", "b", "value"), [
    (0, 0, 2.5), (4.99, 0, 2.5), (62, 12, 62.5), (599.9, 119, 597.5), (600, 120, 630.0),
    (3599, 169, 3570.0), (3600, 170, 3600.0), (99999, 170, 3600.0), (-3, 0, 2.5),
])
def test_bins(seconds: float, b: int, value: float) -> None:
    assert hist.bin_of(seconds) == b
    assert hist.bin_value(b) == value


@pytest.mark.parametrize(("durations", "q", "expected"), [
    ([62, 75, 118, 240], 0.5, 77.5), ([62, 75, 118, 240], 0.9, 242.5),
    ([40, 180], 0.5, 42.5), ([], 0.5, None), ([10] * 9 + [700], 0.9, 12.5),
    ([10] * 9 + [700], 1.0, 690.0),
])
def test_quantile(durations: list[float], q: float, expected: float | None) -> None:
    h: dict[int, float] = {}
    for d in durations:
        h[hist.bin_of(d)] = h.get(hist.bin_of(d), 0) + 1
    assert hist.quantile(h, q) == expected
