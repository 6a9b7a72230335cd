"""STAND-IN for ``picamera2.request.CompletedRequest`` (the methods the back-end uses)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


class CompletedRequest:
    """A completed camera request holding one buffer per configured stream.

    Same reference counting as the real one: ``release`` past zero raises.
    """

    def __init__(self, buffers: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        self._buffers = buffers
        self._metadata = metadata
        self.ref_count = 1
        self.lock = threading.Lock()

    def acquire(self) -> None:
        with self.lock:
            if self.ref_count == 0:
                raise RuntimeError("CompletedRequest: acquiring lock with ref_count 0")
            self.ref_count += 1

    def release(self) -> None:
        with self.lock:
            self.ref_count -= 1
            if self.ref_count < 0:
                raise RuntimeError("CompletedRequest: lock now has negative ref_count")

    def get_metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    def make_array(self, name: str) -> np.ndarray:
        """A copy of the stream's buffer; YUV420 comes as (height * 3 / 2, stride) like the real."""
        if self.ref_count <= 0:
            raise RuntimeError("CompletedRequest: buffer used after release")
        if name not in self._buffers:
            raise RuntimeError(f"Stream {name!r} is not defined")
        return np.copy(self._buffers[name])
