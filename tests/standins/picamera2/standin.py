"""The stand-in's test rig: what is "plugged in", which Pi it is, and the call log.

Not part of the real picamera2 API: tests drive the stand-in through ``RIG``.
Frames are decoded once from a real video and replayed in a loop; sensor
timestamps advance by exactly one frame period per frame, starting at
``sensor_start_ns`` (the real ones are kernel monotonic nanoseconds).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np


@dataclass
class Rig:
    """State shared by every stand-in object; reset per test."""

    platform: Literal["VC4", "PISP"] = "VC4"
    attached: bool = True
    sensor_start_ns: int = 7_000_000_000
    unplug_after_frames: int | None = None
    unplug_mode: Literal["hang", "error"] = "hang"
    frames: list[np.ndarray] = field(default_factory=list)  # RGB source frames
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    frame_no: int = 0  # frames produced so far, across camera objects
    gap_ns: int = 0  # sensor time that passed while unplugged
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, video: Path) -> None:
        """Decode ``video`` once; the camera replays its frames in a loop."""
        with av.open(str(video)) as src:
            self.frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]

    def record(self, name: str, **kwargs: Any) -> None:
        with self.lock:
            self.calls.append((name, kwargs))

    def names(self) -> list[str]:
        """Call names in order (``capture_request`` runs collapsed to one entry each)."""
        with self.lock:
            out: list[str] = []
            for name, _ in self.calls:
                if not (out and out[-1] == name == "capture_request"):
                    out.append(name)
            return out

    def unplug(self) -> None:
        """The ribbon cable comes off: frames stop, the camera disappears from the list."""
        self.attached = False

    def replug(self, gap_s: float = 3.0) -> None:
        self.gap_ns += int(gap_s * 1e9)
        self.attached = True

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


RIG = Rig()
