"""STAND-IN for the ``picamera2`` package (Raspberry Pi camera), for tests only.

Mirrors the parts of picamera2 0.3.x the back-end uses (``Picamera2``,
``encoders``, ``outputs``, ``platform``) with the same signatures; frames come
from a real video via ``picamera2.standin.RIG``, and encoders produce real
H.264 with PyAV. Not the real library: never installed, only put on sys.path by
tests.
"""

from .picamera2 import Picamera2
from .request import CompletedRequest

__all__ = ["CompletedRequest", "Picamera2"]
