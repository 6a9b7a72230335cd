"""STAND-IN for ``picamera2.outputs`` (only the ``Output`` base class)."""

from .output import Output

__all__ = ["Output"]
