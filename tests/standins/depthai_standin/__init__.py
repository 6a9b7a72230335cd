"""STAND-IN for the device side of ``depthai`` v3 (OAK cameras), for tests only.

Real depthai types (messages, queues, enums) and a real host-only
``ReplayVideo`` pipeline, with the on-device nodes stood in; see ``device.py``.
"""

from .device import DepthaiStandin, StandinDevice, StandinPipeline
from .nodes import Camera, DetectionNetwork, NNArchive, StandinOutput, VideoEncoder

__all__ = [
    "Camera",
    "DepthaiStandin",
    "DetectionNetwork",
    "NNArchive",
    "StandinDevice",
    "StandinOutput",
    "StandinPipeline",
    "VideoEncoder",
]
