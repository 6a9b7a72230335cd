"""STAND-IN for ``picamera2.encoders.encoder``: the ``Encoder`` base class, same API."""

from __future__ import annotations

import threading
from enum import Enum
from typing import Any

from ..outputs import Output


class Quality(Enum):
    VERY_LOW = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    VERY_HIGH = 4


class Encoder:
    """Base class: outputs, size/format set by ``start_encoder``, start/stop, timestamps."""

    def __init__(self, framerate: float = 30) -> None:
        self.width = 0
        self.height = 0
        self.stride = 0
        self.format: str | None = None
        self._output: list[Output] = []
        self._running = False
        self.name: str | None = None
        self._framerate = framerate
        self._lock = threading.Lock()
        self._output_lock = threading.Lock()
        self.firsttimestamp: int | None = None
        self.frames_encoded = 0

    @property
    def running(self) -> bool:
        return self._running

    @property
    def output(self) -> Any:
        return self._output[0] if len(self._output) == 1 else self._output

    @output.setter
    def output(self, value: Any) -> None:
        if isinstance(value, list):
            for out in value:
                if not isinstance(out, Output):
                    raise RuntimeError("Must pass Output")
        elif isinstance(value, Output):
            value = [value]
        else:
            raise RuntimeError("Must pass Output")
        self._output = value

    def encode(self, stream: Any, request: Any) -> None:
        with self._lock:
            if not self._running:
                return
            self._encode(stream, request)
        self.frames_encoded += 1

    def _encode(self, stream: Any, request: Any) -> None:
        raise NotImplementedError

    def start(self, quality: Quality | None = None) -> None:
        with self._lock:
            if self._running:
                raise RuntimeError("Encoder already running")
            self.frames_encoded = 0
            self._setup(quality)
            self._running = True
            self.firsttimestamp = None
            for out in self._output:
                out.start()
            self._start()

    def _start(self) -> None:
        pass

    def stop(self) -> None:
        with self._lock:
            if not self._running:
                raise RuntimeError("Encoder already stopped")
            self._running = False
            self._stop()
            for out in self._output:
                out.stop()

    def _stop(self) -> None:
        pass

    def _setup(self, quality: Quality | None) -> None:
        pass

    def outputframe(
        self, frame: Any, keyframe: bool = True, timestamp: int | None = None,
        packet: Any = None, audio: bool = False,
    ) -> None:
        with self._output_lock:
            for out in self._output:
                out.outputframe(frame, keyframe, timestamp, packet, audio)

    def _timestamp(self, request: Any) -> int:
        """µs since the first encoded frame, from the sensor timestamp (as the real one)."""
        ts = int(request.get_metadata()["SensorTimestamp"] / 1000)
        if self.firsttimestamp is None:
            self.firsttimestamp = ts
            return 0
        return ts - self.firsttimestamp
