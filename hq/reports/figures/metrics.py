"""The figures a bank manages its halls by, from summed rollup metrics (pure).

:func:`figures_of` turns the summed metrics of one staff member or org node into one
:class:`Figures`; :mod:`hq.reports.query.levels` reads them per level over a period.
Definitions (also in docs/scoring.md): satisfaction = rated transactions with a rating
>= 4 over rated transactions, both without suspect presses; unrated share = transactions
without a rating over transactions; attendance = shifts present over shifts scheduled
minus those on leave or away on business; handling quantiles per
:mod:`hq.reports.figures.hist`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hq.reports.figures.hist import quantile

Metrics = Mapping[str, float]
EXCUSES = ("closed", "leave", "business", "unexcused")


@dataclass(frozen=True)
class Figures:
    """One row of a report: a staff member or an org node over one period."""

    key: str
    label: str
    branch: str
    transactions: int
    handling_mean_s: float | None
    handling_median_s: float | None
    handling_p90_s: float | None
    ratings: dict[int, int]
    rated: int
    satisfaction_pct: float | None
    unrated: int
    unrated_pct: float | None
    suspect: int
    off_seat_count: int
    off_seat_s: float
    off_seat_by_level: dict[int, tuple[int, float]]
    off_seat_by_excuse: dict[str, tuple[int, float]]
    shifts: int
    present: int
    late: int
    left_early: int
    absent: int
    on_leave: int
    business: int
    attendance_pct: float | None
    session_s: float
    scheduled_s: float
    closed_s: float
    # Time in each window state (docs/window-states.md), from the units' window_state events.
    state_open_s: float = 0.0
    state_closed_s: float = 0.0
    state_away_s: float = 0.0
    # Queue threshold episodes (hq/reports/ingest/queue_events.py), seconds over the threshold.
    queue_alerts: int = 0
    queue_over_s: float = 0.0

    @property
    def off_seat_min(self) -> float:
        """Off-seat minutes, one decimal."""
        return round(self.off_seat_s / 60, 1)


def _i(m: Metrics, k: str) -> int:
    return round(m.get(k, 0.0))


def _pct(num: float, den: float) -> float | None:
    return round(100.0 * num / den, 1) if den > 0 else None


def figures_of(key: str, label: str, branch: str, m: Metrics) -> Figures:
    """Figures from summed metrics (see :mod:`hq.reports.ingest.entities` for their names)."""
    hist = {int(k[1:]): v for k, v in m.items() if k[0] == "h" and k[1:].isdigit()}
    dur_n = m.get("dur_n", 0.0)
    txn = _i(m, "txn")
    levels = sorted({int(k.removeprefix("os_n_l")) for k, v in m.items()
                     if k.startswith("os_n_l") and round(v) != 0})
    shifts, present = _i(m, "shift_n"), _i(m, "present_n")
    leave, business = _i(m, "leave_n"), _i(m, "business_n")
    return Figures(
        key=key, label=label, branch=branch, transactions=txn,
        handling_mean_s=round(m.get("dur_sum", 0.0) / dur_n, 1) if dur_n > 0 else None,
        handling_median_s=quantile(hist, 0.5), handling_p90_s=quantile(hist, 0.9),
        ratings={r: _i(m, f"r{r}") for r in range(1, 6)}, rated=_i(m, "rated"),
        satisfaction_pct=_pct(m.get("satisfied", 0.0), m.get("rated_ok", 0.0)),
        unrated=_i(m, "unrated"), unrated_pct=_pct(m.get("unrated", 0.0), txn),
        suspect=_i(m, "suspect"), off_seat_count=_i(m, "os_n"),
        off_seat_s=round(m.get("os_s", 0.0), 3),
        off_seat_by_level={lv: (_i(m, f"os_n_l{lv}"), round(m.get(f"os_s_l{lv}", 0.0), 3))
                           for lv in levels},
        off_seat_by_excuse={e: (_i(m, f"os_n_{e}"), round(m.get(f"os_s_{e}", 0.0), 3))
                            for e in EXCUSES},
        shifts=shifts, present=present, late=_i(m, "late_n"), left_early=_i(m, "early_n"),
        absent=max(0, shifts - present - leave - business), on_leave=leave,
        business=business, attendance_pct=_pct(present, shifts - leave - business),
        session_s=round(m.get("session_s", 0.0), 3),
        scheduled_s=round(m.get("sched_s", 0.0), 3), closed_s=round(m.get("closed_s", 0.0), 3),
        state_open_s=round(m.get("ws_open_s", 0.0), 3),
        state_closed_s=round(m.get("ws_closed_s", 0.0), 3),
        state_away_s=round(m.get("ws_away_s", 0.0), 3),
        queue_alerts=_i(m, "q_alert_n"), queue_over_s=round(m.get("q_over_s", 0.0), 3))

