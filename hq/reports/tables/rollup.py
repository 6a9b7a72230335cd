"""Adding an entity's figures to the rollups, and taking them back when it changes.

A contribution is a mapping (local day, window, staff, metric) -> value. ``settle``
compares an entity's new contribution with the one stored for it and applies only the
difference to the day, month and year rows, so recomputing an entity any number
of times, in any event order, leaves each figure counted once.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict

from hq.reports.figures.periods import period_keys_of

Key = tuple[str, str, str, str]  # (ISO local day, window_id, staff_no, metric)
Contribution = dict[Key, float]

_UPSERT = ("INSERT INTO rpt_rollup (period, window_id, staff_no, metric, value) "
           "VALUES (?, ?, ?, ?, ?) ON CONFLICT (period, window_id, staff_no, metric) "
           "DO UPDATE SET value = value + excluded.value")


def add(c: Contribution, day: dt.date, window_id: str, staff_no: str | None, metric: str,
        value: float = 1.0) -> None:
    """Accumulate ``value`` into ``c``."""
    k = (day.isoformat(), window_id, staff_no or "", metric)
    c[k] = c.get(k, 0.0) + value


def apply_delta(conn: sqlite3.Connection, delta: Contribution) -> None:
    """Add ``delta`` to every period row each day of it belongs to."""
    rows: dict[tuple[str, str, str, str], float] = defaultdict(float)
    for (day, window_id, staff_no, metric), value in delta.items():
        if value == 0:
            continue
        for period in period_keys_of(day):
            rows[(period, window_id, staff_no, metric)] += value
    if rows:
        conn.executemany(_UPSERT, [(*k, v) for k, v in rows.items()])


def encode(c: Contribution) -> str:
    """Compact JSON of a contribution: ``[window, staff, [[day, metric, value], ...]]``
    when every key shares one window and staff member (all entities do), else the keys."""
    pairs = {(k[1], k[2]) for k in c}
    if len(pairs) == 1:
        ((w, staff),) = pairs
        return json.dumps([w, staff, [[k[0], k[3], v] for k, v in c.items()]],
                          separators=(",", ":"), ensure_ascii=False)
    return json.dumps([[*k, v] for k, v in c.items()], separators=(",", ":"),
                      ensure_ascii=False)


def decode(text: str) -> Contribution:
    """Inverse of :func:`encode`."""
    data = json.loads(text)
    if len(data) == 3 and isinstance(data[0], str):
        w, staff, rows = data
        return {(d, w, staff, m): v for d, m, v in rows}
    return {(k[0], k[1], k[2], k[3]): k[4] for k in data}


def settle(conn: sqlite3.Connection, entity: str, new: Contribution) -> None:
    """Make ``entity``'s share of the rollups equal ``new`` (exactly once)."""
    row = conn.execute("SELECT data FROM rpt_contrib WHERE entity = ?", [entity]).fetchone()
    old = decode(row[0]) if row is not None else {}
    if old == new:
        return
    delta: Contribution = dict(new)
    for k, v in old.items():
        delta[k] = delta.get(k, 0.0) - v
    apply_delta(conn, delta)
    if new:
        conn.execute("INSERT INTO rpt_contrib (entity, data) VALUES (?, ?) ON CONFLICT "
                     "(entity) DO UPDATE SET data = excluded.data",
                     [entity, encode(new)])
    else:
        conn.execute("DELETE FROM rpt_contrib WHERE entity = ?", [entity])
