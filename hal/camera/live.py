"""What live camera back-ends share: device time on the unit clock, and reconnecting.

A live back-end opens the device as a *session* (one open-to-close span) and
lets ``supervise`` run sessions one after another: when a session reports the
device lost, the loss is logged once, frame-less captures keep the unit loop
ticking about every ``idle_period_s`` while reopening is retried with a
doubling back-off, and the recovery is logged once when a session opens again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from hal.camera.base import CameraError, Capture

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class DeviceLost(CameraError):
    """The device stopped delivering mid-stream (unplugged, cable, driver error)."""


class ClockMap:
    """Maps device timestamps (seconds, any origin) onto the unit clock.

    The first timestamp seen is pinned to ``clock()`` at that moment; later
    ones keep the device's own spacing, which is exact where the unit clock
    would add scheduling jitter. The offset so includes the first frame's
    delivery latency (a few ms), constant for the session.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._offset: float | None = None

    def __call__(self, device_s: float) -> float:
        if self._offset is None:
            self._offset = self._clock() - device_s
        return device_s + self._offset


class Session(Protocol):
    """One open span of a device."""

    def captures(self) -> Iterator[Capture]:
        """Captures until the device is lost (raise DeviceLost) or stop is set."""
        ...

    def close(self) -> None:
        """Release the device; never raises."""
        ...


def supervise(
    name: str,
    first: Session,
    reopen: Callable[[], Session],
    stop: threading.Event,
    clock: Clock,
    *,
    idle_period_s: float = 0.5,
    backoff_initial_s: float = 0.25,
    backoff_max_s: float = 4.0,
) -> Iterator[Capture]:
    """Captures from ``first`` and, after each loss, from reopened sessions until ``stop``.

    Capture times never go backwards, whatever the sessions report.
    """
    session: Session | None = first
    last_t = -float("inf")
    lost_at: float | None = None
    backoff = backoff_initial_s
    try:
        while not stop.is_set():
            if session is None:
                try:
                    session = reopen()
                except CameraError as exc:
                    log.debug("%s: still unavailable: %s", name, exc)
                    # Real seconds, not the unit clock, which may be a replay's.
                    deadline = time.monotonic() + backoff
                    backoff = min(backoff * 2, backoff_max_s)
                    while not stop.is_set():
                        last_t = max(last_t, clock())
                        yield Capture(last_t, None, ())
                        remaining = deadline - time.monotonic()
                        if remaining <= 0 or stop.wait(min(idle_period_s, remaining)):
                            break
                    continue
                assert lost_at is not None
                log.info("%s: camera back after %.1f s", name, clock() - lost_at)
                lost_at = None
                backoff = backoff_initial_s
            try:
                for cap in session.captures():
                    if cap.t < last_t:
                        cap = Capture(last_t, cap.frame, cap.packets)
                    last_t = cap.t
                    yield cap
                    if stop.is_set():
                        break
                else:
                    if not stop.is_set():
                        raise DeviceLost(f"{name}: stream ended")
            except DeviceLost as exc:
                lost_at = clock()
                log.warning("%s: camera lost (%s); reconnecting", name, exc)
            finally:
                session.close()
                session = None
    finally:
        if session is not None:
            session.close()
