"""Waiting-customer threshold per service: raise after ``above`` for ``for_s``, clear with
hysteresis. Pure: ``observe``/``tick`` take the state and ``now`` and return events.

A service is "high" while its waiting count is above ``above``; it raises
``queue_alert_raised`` once it has been high continuously for ``for_s``. A raised alert
clears (``queue_alert_cleared``) once the count has stayed at or below
``clear_at_or_below`` for ``clear_for_s``; counts in between keep it raised. A lost feed
(``feed_lost``) restarts the timers: a stale count is evidence of nothing, so it neither
raises nor clears an alert.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from firmware.machine.model import Emit


@dataclass(frozen=True, slots=True)
class AlertRule:
    above: int
    for_s: float
    clear_at_or_below: int
    clear_for_s: float


@dataclass(frozen=True, slots=True)
class ServiceWatch:
    waiting: int | None = None
    high_since: float | None = None  # continuously above `above` since
    low_since: float | None = None  # continuously at/below `clear_at_or_below` since
    raised_at: float | None = None
    peak: int = 0
    alert_id: str | None = None


@dataclass(frozen=True, slots=True)
class AlertState:
    id_prefix: str
    services: tuple[tuple[str, ServiceWatch], ...] = ()
    next_n: int = 1

    def watch(self, service: str) -> ServiceWatch:
        return dict(self.services).get(service, ServiceWatch())

    def with_watch(self, service: str, w: ServiceWatch) -> AlertState:
        items = dict(self.services)
        items[service] = w
        return replace(self, services=tuple(sorted(items.items())))


Result = tuple[AlertState, list[Emit]]


def observe(state: AlertState, service: str, waiting: int, now: float, rule: AlertRule) -> Result:
    """A new waiting count for ``service`` at ``now``."""
    w = state.watch(service)
    high = waiting > rule.above
    low = waiting <= rule.clear_at_or_below
    w = replace(
        w,
        waiting=waiting,
        high_since=(w.high_since if w.high_since is not None else now) if high else None,
        low_since=(w.low_since if w.low_since is not None else now) if low else None,
        peak=max(w.peak, waiting) if w.raised_at is not None else w.peak,
    )
    return _check(state.with_watch(service, w), service, now, rule)


def tick(state: AlertState, now: float, rules: dict[str, AlertRule]) -> Result:
    """Time passed: timers of every watched service with a rule are checked."""
    out: list[Emit] = []
    for service, _ in state.services:
        rule = rules.get(service)
        if rule is not None:
            state, emits = _check(state, service, now, rule)
            out += emits
    return state, out


def feed_lost(state: AlertState) -> AlertState:
    """The feed went stale: forget the timers (raised alerts stay raised)."""
    items = tuple((s, replace(w, waiting=None, high_since=None, low_since=None))
                  for s, w in state.services)
    return replace(state, services=items)


def _check(state: AlertState, service: str, now: float, rule: AlertRule) -> Result:
    w = state.watch(service)
    if w.raised_at is None and w.high_since is not None and now - w.high_since >= rule.for_s:
        alert_id = f"{state.id_prefix}-q{state.next_n}"
        state = replace(state, next_n=state.next_n + 1)
        w = replace(w, raised_at=now, peak=w.waiting or 0, alert_id=alert_id, low_since=None)
        return state.with_watch(service, w), [Emit("queue_alert_raised", now, {
            "alert": "queue", "alert_id": alert_id, "service": service, "waiting": w.waiting,
            "threshold": rule.above, "for_s": rule.for_s, "high_since": w.high_since})]
    if w.raised_at is not None and w.low_since is not None and (
            now - w.low_since >= rule.clear_for_s):
        emit = Emit("queue_alert_cleared", now, {
            "alert": "queue", "alert_id": w.alert_id, "service": service, "waiting": w.waiting,
            "threshold": rule.above, "clear_at_or_below": rule.clear_at_or_below,
            "peak": w.peak, "duration_s": round(now - w.raised_at, 3)})
        w = replace(w, raised_at=None, alert_id=None, peak=0)
        return state.with_watch(service, w), [emit]
    return state, []
