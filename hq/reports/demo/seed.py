"""``counterunit hq seed-demo``: a reproducible fleet of plausible activity.

The organisation (branches, halls, windows, staff, weekly shift templates, leave, unit
bindings) is authored through :mod:`hq.org.authoring.bulk`, the org's own writers;
everything the units would send goes through :meth:`hq.storage.events.SqliteEventStore.ingest` as
:class:`~sync.schema.EventEnvelope` batches, exactly as synced units deliver it.

The story, per window: a regular staff member scheduled Monday to Saturday 09:00-17:00
local (Sunday closed); a lunch break 12:00-13:00 with the window temporarily closed;
busy mornings and afternoons, quiet edges; short off-seat episodes, now and then a long
one; ratings skewed per staff member; sometimes late or leaving early; a day or two of
leave, a few long leaves covered by relief staff, afternoons away on business; and one
unit (the last window's) that stops syncing five days before the end.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hq.org.authoring.bulk import write_many
from hq.org.authoring.store import OrgStore
from hq.org.records.models import MAX_TEMPLATE_DAYS
from hq.reports.figures.periods import day_start_utc
from hq.reports.ingest.shifts import settle_dirty
from hq.reports.tables.schema import ensure_schema
from hq.storage.events import SqliteEventStore
from sync.schema import EventEnvelope

TZ = "Asia/Shanghai"
HOURS = {9: 0.9, 10: 1.6, 11: 1.4, 13: 0.8, 14: 1.3, 15: 1.5, 16: 1.0}  # arrivals by hour
PROFILES = ((0.62, 0.28, 0.06, 0.03, 0.01), (0.40, 0.35, 0.15, 0.07, 0.03),
            (0.22, 0.30, 0.25, 0.14, 0.09))  # P(rating 5..1): good, average, poor
SYLLABLES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
STOP_DAYS = 5


@dataclass(frozen=True)
class SeedSpec:
    """What to seed: counts per parent (halls per branch, windows per hall)."""

    branches: int = 2
    halls: int = 2
    windows: int = 4
    days: int = 30
    seed: int = 1
    txn_per_day: float = 40.0
    end: dt.date | None = None  # last local day seeded; default yesterday (UTC)
    prompts: bool = True  # also send rating_prompted (the timeline); off makes it leaner
    batch: int = 2000

    def __post_init__(self) -> None:
        for name, lo, hi in (("branches", 1, 100), ("halls", 1, 50), ("windows", 1, 100),
                             ("days", 1, 3700), ("batch", 1, 100000)):
            v = getattr(self, name)
            if not lo <= v <= hi:
                raise ValueError(f"--{name} {v} must be within {lo}..{hi}")
        if not 0 <= self.txn_per_day <= 500:
            raise ValueError(f"--txn-per-day {self.txn_per_day} must be within 0..500")


@dataclass
class _Window:
    window_id: str
    unit_id: str
    staff: str
    relief: str
    profile: int
    off_seat_rate: float


class _Ids:
    """Event uuids in creation order (a counter in the top 48 bits, random below), so
    HQ's uuid index grows at its end as it would with time-ordered ids."""

    def __init__(self) -> None:
        self.n = 0

    def next(self, rng: random.Random) -> str:
        self.n += 1
        return str(uuid.UUID(int=(self.n << 80) | rng.getrandbits(76), version=4))


class _Unit:
    """Builds one unit's events with reproducible uuids and increasing mono time."""

    def __init__(self, unit_id: str, counter: str, rng: random.Random, ids: _Ids) -> None:
        self.unit_id, self.counter, self.rng, self.ids = unit_id, counter, rng, ids
        self.events: list[EventEnvelope] = []
        self.n = 0

    def emit(self, type_: str, at: dt.datetime, **data: Any) -> None:
        self.events.append(EventEnvelope(
            uuid=self.ids.next(self.rng), type=type_,
            unit_id=self.unit_id, counter_id=self.counter, utc=at, mono=at.timestamp(),
            boot_id="seed", clock_synced=True, data=data))

    def next_id(self, kind: str) -> str:
        self.n += 1
        return f"{self.unit_id}-{kind}{self.n}"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 2)))


def _org(spec: SeedSpec, rng: random.Random,
         records: list[tuple[str, Any]]) -> list[_Window]:
    """The tree, staff and unit bindings, appended to ``records`` for :func:`write_many`."""
    wins: list[_Window] = []
    bound = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    for b in range(1, spec.branches + 1):
        bid = f"B{b:02d}"
        records.append(("branch", {"branch_id": bid, "name": f"第{b}支行", "tz": TZ}))
        reliefs = []
        for r in range(1, max(1, spec.halls * spec.windows // 5) + 1):
            no = f"{bid}R{r:02d}"
            records.append(("staff", {"staff_no": no, "name": _name(rng),
                                      "home_branch_id": bid}))
            reliefs.append(no)
        for h in range(1, spec.halls + 1):
            hid = f"{bid}H{h}"
            records.append(("hall", {"hall_id": hid, "branch_id": bid,
                                     "name": f"{b}号网点{h}号大厅"}))
            for w in range(1, spec.windows + 1):
                wid = f"{hid}W{w:02d}"
                records.append(("window", {"window_id": wid, "hall_id": hid,
                                           "name": f"{w}号窗口"}))
                unit = f"U-{wid}"
                records.append(("bind", (unit, wid, bound)))
                staff = f"{wid}S"
                records.append(("staff", {"staff_no": staff, "name": _name(rng),
                                          "home_branch_id": bid}))
                wins.append(_Window(wid, unit, staff, rng.choice(reliefs),
                                    rng.choices((0, 1, 2), (3, 5, 2))[0],
                                    rng.uniform(0.5, 2.5)))
    return wins


def _schedule(w: _Window, days: list[dt.date], plan: dict[dt.date, str],
              records: list[tuple[str, Any]]) -> int:
    """Monday-Saturday 09:00-17:00 templates over ``days`` and the regular's leave;
    returns the number of dated shifts the templates make."""
    for k in range(0, len(days), MAX_TEMPLATE_DAYS):
        span = days[k:k + MAX_TEMPLATE_DAYS]
        records.append(("template", {
            "template_id": f"{w.window_id}.week{k // MAX_TEMPLATE_DAYS}",
            "window_id": w.window_id, "staff_no": w.staff,
            "days": ("mon", "tue", "wed", "thu", "fri", "sat"), "start": dt.time(9),
            "end": dt.time(17), "valid_from": span[0], "valid_to": span[-1]}))
    for d, kind in sorted(plan.items()):
        if d.weekday() == 6 or kind == "absent":
            continue
        leave: dict[str, Any] = {"leave_id": f"{w.staff}-{d.isoformat()}", "staff_no": w.staff,
                                 "kind": kind}
        if kind == "leave":
            leave |= {"start": d, "end": d}
        else:
            leave |= {"start": dt.datetime.combine(d, dt.time(14)),
                      "end": dt.datetime.combine(d, dt.time(17)), "note": "away on business"}
        records.append(("leave", leave))
    return sum(d.weekday() != 6 for d in days)


def _leave_plan(rng: random.Random, days: list[dt.date]) -> dict[dt.date, str]:
    """day -> 'leave' | 'business' | 'absent' for one staff member."""
    plan: dict[dt.date, str] = {}
    for d in days:
        roll = rng.random()
        if roll < 0.012:
            plan[d] = "leave"
        elif roll < 0.03:
            plan[d] = "business"
        elif roll < 0.035:
            plan[d] = "absent"
    if len(days) > 40 and rng.random() < 0.08:  # a long leave, two to four weeks
        start = rng.randrange(len(days) - 30)
        for d in days[start:start + rng.randint(14, 28)]:
            plan[d] = "leave"
    return plan


def _txn_times(rng: random.Random, n: int) -> list[float]:
    hours, weights = list(HOURS), list(HOURS.values())
    return sorted(h * 3600 + rng.random() * 3600 for h in rng.choices(hours, weights, k=n))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p < limit:
            return k
        k += 1


def _day(u: _Unit, w: _Window, day0: dt.datetime, spec: SeedSpec, what: str | None,
         factor: float) -> None:
    """One working day of a window; ``what`` is the regular's leave plan for the day."""
    rng = u.rng
    at = lambda s: day0 + dt.timedelta(seconds=s)  # noqa: E731 - local seconds to UTC
    if what == "absent":
        return  # nobody came and nobody covered
    staff = w.relief if what == "leave" else w.staff
    login = 9 * 3600 + rng.uniform(-240, 150)
    if rng.random() < 0.05:
        login += rng.uniform(600, 1800)  # late
    logout = 17 * 3600 + rng.uniform(0, 240)
    if what == "business":
        logout = 14 * 3600
    elif rng.random() < 0.03:
        logout -= rng.uniform(1200, 3600)  # left early
    session = u.next_id("s")
    u.emit("login", at(login), staff_id=staff, session_id=session, staff_number=staff,
           name=staff)
    busy: list[tuple[float, float]] = [(12 * 3600, 13 * 3600)]
    u.emit("counter_closed", at(12 * 3600))
    aid = u.next_id("a")
    u.emit("absence_started", at(12 * 3600 + 60), staff_id=staff, session_id=session,
           absence_id=aid, clip_id=None, counter_open=False)
    u.emit("absence_ended", at(12 * 3600 + 3480), staff_id=staff, session_id=session,
           absence_id=aid, duration_s=3420.0, max_level=0)
    u.emit("counter_opened", at(13 * 3600))
    for _ in range(_poisson(rng, w.off_seat_rate * factor)):
        roll = rng.random()
        dur = (rng.uniform(30, 119) if roll < 0.7 else rng.uniform(120, 299) if roll < 0.9
               else rng.uniform(300, 599) if roll < 0.98 else rng.uniform(600, 1800))
        t0 = rng.uniform(login + 600, logout - dur - 60)
        if any(a < t0 + dur and t0 < b for a, b in busy):
            continue
        busy.append((t0, t0 + dur))
        aid = u.next_id("a")
        u.emit("absence_started", at(t0), staff_id=staff, session_id=session,
               absence_id=aid, clip_id=None, counter_open=True)
        level = sum(dur >= lim for lim in (120, 300, 600))
        for lv, lim in zip(range(1, level + 1), (120, 300, 600), strict=False):
            u.emit("alert_raised", at(t0 + lim), staff_id=staff, session_id=session,
                   alert="off_seat", level=lv, absence_id=aid, away_s=float(lim))
        u.emit("absence_ended", at(t0 + dur), staff_id=staff, session_id=session,
               absence_id=aid, duration_s=round(dur, 3), max_level=level)
        if level:
            u.emit("alert_cleared", at(t0 + dur), alert="off_seat", absence_id=aid,
                   level=level)
    free = 0.0
    probs = PROFILES[w.profile]
    for t in _txn_times(rng, _poisson(rng, spec.txn_per_day * factor)):
        t = max(t, free + 5)
        for a, b in sorted(busy):
            if a <= t < b:
                t = b + 5
        dur = min(1800.0, rng.lognormvariate(math.log(150), 0.6))
        if t < login or t + dur + 30 > logout:
            continue
        txn = u.next_id("t")
        u.emit("transaction_started", at(t), txn_id=txn, staff_id=staff, session_id=session,
               clip_id=txn)
        u.emit("transaction_ended", at(t + dur), txn_id=txn, staff_id=staff,
               session_id=session, duration_s=round(dur, 3), reason="customer_left",
               short=dur < 5)
        if spec.prompts:
            u.emit("rating_prompted", at(t + dur), txn_id=txn, staff_id=staff,
                   trigger="transaction_end")
        roll = rng.random()
        if roll < 0.12:
            u.emit("rating", at(t + dur + 10), txn_id=txn, staff_id=staff, outcome="timeout",
                   rating=None, key=None, suspect=False, trigger="transaction_end",
                   invalid_keys=0, latency_s=10.0)
        else:
            rating = rng.choices((5, 4, 3, 2, 1), probs)[0]
            suspect = roll > 0.97
            u.emit("rating", at(t + dur + rng.uniform(1, 8)), txn_id=txn, staff_id=staff,
                   outcome="rated", rating=rating, key=rating, suspect=suspect,
                   trigger="transaction_end", invalid_keys=0, latency_s=3.0)
            if rating <= 1:
                u.emit("alert_raised", at(t + dur + 9), alert="dissatisfied", level=1,
                       txn_id=txn, staff_id=staff, rating=rating, suspect=suspect)
        free = t + dur + 20
    u.emit("logout", at(logout), staff_id=staff, session_id=session, reason="tap",
           duration_s=round(logout - login, 3))


def seed(data: Path, spec: SeedSpec,
         progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Fill the HQ in ``data`` per ``spec``; returns counts (windows, shifts, events).

    ``progress(done, total)`` is told after each unit's month is stored.
    """
    rng = random.Random(spec.seed)
    end = spec.end or (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))
    days = [end - dt.timedelta(days=i) for i in range(spec.days - 1, -1, -1)]
    path = data / "events.db"
    store = SqliteEventStore(path)
    records: list[tuple[str, Any]] = []
    wins = _org(spec, rng, records)
    plans = {w.window_id: _leave_plan(rng, days) for w in wins}
    shifts = sum(_schedule(w, days, plans[w.window_id], records) for w in wins)
    org = OrgStore.sharing(store)
    with org.transaction() as conn:
        ensure_schema(conn)  # the reports' triggers queue every shift and leave written
        write_many(conn, records, dt.datetime.combine(end, dt.time(), dt.UTC))
        settle_dirty(conn)
    events = 0
    stop = end - dt.timedelta(days=STOP_DAYS)
    ids = _Ids()
    units = [_Unit(w.unit_id, w.window_id, random.Random(f"{spec.seed}/{w.window_id}"), ids)
             for w in wins]
    # Month by month across the fleet, as units sync: each unit's month is one batch.
    months: dict[tuple[int, int], list[dt.date]] = {}
    for d in days:
        months.setdefault((d.year, d.month), []).append(d)
    total, done = len(months) * len(wins), 0
    for chunk in months.values():
        for i, (w, u) in enumerate(zip(wins, units, strict=True)):
            for d in chunk:
                if d.weekday() == 6 or (i == len(wins) - 1 and d > stop):
                    continue
                _day(u, w, day_start_utc(d, TZ), spec, plans[w.window_id].get(d),
                     0.6 if d.weekday() == 5 else 1)
            for k in range(0, len(u.events), spec.batch):
                store.ingest(u.unit_id, u.events[k:k + spec.batch])
            events += len(u.events)
            u.events = []
            done += 1
            if progress is not None:
                progress(done, total)
    store.close()
    return {"windows": len(wins), "shifts": shifts, "events": events}
