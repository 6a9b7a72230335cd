"""What camera back-ends share: the start/stop/captures bookkeeping, device time
on the unit clock, and reconnecting.

``CameraPlumbing`` is the part every back-end has (file, OAK, Pi, USB): the
stop event, the one-iteration-at-a-time rule, ``video_info`` and ``stop()``.
``LiveCamera`` adds the session life cycle the Pi and USB back-ends share.

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
from typing import Generic, Protocol, TypeVar

from hal.camera.base import CameraError, Capture, StreamInfo
from hal.camera.h264 import sps_of

log = logging.getLogger(__name__)

Clock = Callable[[], float]


def require_positive(**values: float) -> None:
    """Raise ValueError naming the first of ``values`` (keyword = parameter name) not > 0."""
    for key, value in values.items():
        if value <= 0:
            raise ValueError(f"{key} must be > 0, got {value}")


def require_at_least(minimum: int, **values: int) -> None:
    """Raise ValueError naming the first of ``values`` below ``minimum``."""
    for key, value in values.items():
        if value < minimum:
            raise ValueError(f"{key} must be >= {minimum}, got {value}")


def stream_changed(old: StreamInfo, new: StreamInfo, *, compare_sps: bool = True) -> bool:
    """Whether a reopened device's stream differs from the one clips were opened with.

    ``compare_sps`` is False where the host encodes (same settings, same SPS):
    only the size can then change.
    """
    if (old.width, old.height) != (new.width, new.height):
        return True
    return compare_sps and sps_of(old.extradata or b"") != sps_of(new.extradata or b"")


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


class CameraPlumbing:
    """start/stop/captures bookkeeping shared by every back-end.

    ``captures()`` may be iterated once at a time, and only after start();
    ``stop()`` from any thread ends it, and releases the device at once if
    nobody iterates (otherwise ``captures()`` releases it on its way out).
    Subclasses say whether they are started, what to iterate and how to release.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._iterating = False
        self._info: StreamInfo | None = None

    @property
    def video_info(self) -> StreamInfo:
        """H.264 parameters of the recorded stream; valid after start()."""
        if self._info is None:
            raise CameraError(f"{self.name}: video_info is only known after start()")
        return self._info

    def stop(self) -> None:
        """Ask captures() to end and release the device; safe to call twice."""
        self._stop.set()
        with self._lock:
            if not self._iterating:
                self._release()

    def captures(self) -> Iterator[Capture]:
        """Captures until stop() (or the source ends); see the subclass."""
        with self._lock:
            if self._iterating:
                raise CameraError(f"{self.name}: captures() is already being iterated")
            if not self._started():
                raise CameraError(f"{self.name}: call start() before captures()")
            self._iterating = True
            run = self._run()
        try:
            yield from run
        finally:
            with self._lock:
                self._iterating = False
                self._finish()

    def _started(self) -> bool:
        raise NotImplementedError

    def _run(self) -> Iterator[Capture]:
        """What captures() yields; called with the lock held, so it must not block."""
        raise NotImplementedError

    def _release(self) -> None:
        """Release the device if open (lock held); never raises."""
        raise NotImplementedError

    def _finish(self) -> None:
        """After captures() ended (lock held)."""
        self._release()


class LiveSession(Session, Protocol):
    """A session that knows its stream once open (it has read up to a usable keyframe)."""

    info: StreamInfo


S = TypeVar("S", bound=LiveSession)


class LiveCamera(CameraPlumbing, Generic[S]):
    """A back-end whose device is opened as sessions run by ``supervise``.

    start() opens the first session (so a missing device fails there, with
    the subclass's message); captures() hands it to ``supervise``, which
    reopens through ``_open_session`` after each loss.
    """

    def __init__(
        self,
        name: str,
        clock: Clock,
        *,
        idle_period_s: float,
        reconnect_initial_s: float,
        reconnect_max_s: float,
    ) -> None:
        super().__init__(name)
        self._clock = clock
        self._supervise = {
            "idle_period_s": idle_period_s,
            "backoff_initial_s": reconnect_initial_s,
            "backoff_max_s": reconnect_max_s,
        }
        self._session: S | None = None

    def start(self) -> None:
        """Open the device and read up to its first usable frame (a keyframe with SPS/PPS)."""
        if self._session is not None:
            return
        self._stop.clear()
        session = self._open_session()
        self._info = session.info
        self._session = session
        self._log_started(session)

    def _open_session(self) -> S:
        """Open the device; raise CameraError saying what to check."""
        raise NotImplementedError

    def _log_started(self, session: S) -> None:
        raise NotImplementedError

    def _compare_sps(self) -> bool:
        """Whether the device's own SPS must stay the same across reconnects."""
        return True

    def _started(self) -> bool:
        return self._session is not None

    def _run(self) -> Iterator[Capture]:
        first, self._session = self._session, None
        assert first is not None
        return supervise(self.name, first, self._reopen, self._stop, self._clock,
                         **self._supervise)

    def _release(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
            log.info("%s stopped", self.name)

    def _finish(self) -> None:
        # supervise closed its sessions; one start() opened meanwhile waits for stop().
        log.info("%s stopped", self.name)

    def _reopen(self) -> S:
        session = self._open_session()
        if self._info is not None and stream_changed(
            self._info, session.info, compare_sps=self._compare_sps()
        ):
            log.warning("%s: stream parameters changed after reconnecting", self.name)
        return session
