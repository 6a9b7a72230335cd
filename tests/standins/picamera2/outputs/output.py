"""STAND-IN for ``picamera2.outputs.output``: the real ``Output`` base class, unchanged in API."""

from __future__ import annotations

from typing import Any


class Output:
    """Handles output functionality of encoders (same attributes and methods as the real one)."""

    def __init__(self, pts: Any = None) -> None:
        self.recording = False
        self.ptsoutput = pts
        self.needs_pacing = False
        self.needs_add_stream = False

    def start(self) -> None:
        self.recording = True

    def stop(self) -> None:
        self.recording = False

    def outputframe(
        self,
        frame: Any,
        keyframe: bool = True,
        timestamp: int | None = None,
        packet: Any = None,
        audio: bool = False,
    ) -> None:
        """Called by the encoder for each encoded frame (timestamp in µs)."""

    def _add_stream(self, encoder_stream: Any, *args: Any, **kwargs: Any) -> None:
        pass
