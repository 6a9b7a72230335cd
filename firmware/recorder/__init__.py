"""Clip recording: pre-roll ring, fragmented-MP4 writer, recorder and power-cut salvage."""

from firmware.recorder.recorder import Recorder
from firmware.recorder.ring import PacketRing
from firmware.recorder.salvage import SalvageResult, salvage
from firmware.recorder.writer import ClipWriter, ClosedClip, RecorderError

__all__ = [
    "ClipWriter",
    "ClosedClip",
    "PacketRing",
    "Recorder",
    "RecorderError",
    "SalvageResult",
    "salvage",
]
