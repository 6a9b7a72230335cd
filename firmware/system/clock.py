"""Unit clock: monotonic seconds for ordering, wall time for people, and the
facts needed to trust the latter (boot id, NTP synchronisation)."""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_STA_UNSYNC = 0x0040


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h>; only ``status`` is read. The kernel struct
    # ends in padding, so an over-sized buffer is harmless.
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long),
                ("status", ctypes.c_int), ("_rest", ctypes.c_byte * 256)]


def clock_synchronized() -> bool:
    """True when the kernel says the wall clock is disciplined (NTP/chrony/timesyncd)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return False
    return state != 5 and not tx.status & _STA_UNSYNC  # 5 == TIME_ERROR


def boot_id() -> str:
    """The kernel's boot id; a random one where the kernel does not tell."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return str(uuid.uuid4())


@dataclass(frozen=True)
class UnitClock:
    """Maps unit-clock seconds to UTC. Live: monotonic time. Replay: media time
    from ``wall_base`` (the events are then marked as not clock-synchronised)."""

    now: Callable[[], float]
    wall_base: dt.datetime
    mono_base: float
    synced: Callable[[], bool]
    follow_wall: bool = False

    @classmethod
    def live(cls) -> UnitClock:
        # Wall time is re-read at every event: a unit without an RTC battery
        # boots with a wrong clock that NTP corrects later.
        return cls(time.monotonic, dt.datetime.now(dt.UTC), time.monotonic(),
                   clock_synchronized, follow_wall=True)

    @classmethod
    def media(cls, now: Callable[[], float], wall_base: dt.datetime | None = None) -> UnitClock:
        base = wall_base or dt.datetime.now(dt.UTC).replace(microsecond=0)
        return cls(now, base, 0.0, lambda: False)

    def utc_at(self, t: float) -> dt.datetime:
        if self.follow_wall:
            return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=self.now() - t)
        return self.wall_base + dt.timedelta(seconds=t - self.mono_base)


class MediaClock:
    """The unit's clock in replay: the media time of the latest capture.

    Back-ends that stamp their own input (keypad, badge) read it, so a key
    pressed while frame t is processed is stamped t, however fast the replay runs.
    """

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t
