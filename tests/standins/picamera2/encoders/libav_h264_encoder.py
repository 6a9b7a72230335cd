"""STAND-IN for ``picamera2.encoders.libav_h264_encoder``: libx264 via PyAV, as the real one.

Encodes on the caller's thread (the camera loop) and passes each packet to the
outputs with its pts in µs, exactly like the real class.
"""

from __future__ import annotations

from typing import Any

import av

from ..standin import RIG
from ._x264 import open_x264
from .encoder import Encoder, Quality


class LibavH264Encoder(Encoder):
    """Encoder class that uses libx264 for h.264 encoding."""

    def __init__(self, bitrate=None, repeat=True, iperiod=30, framerate=30, qp=None, profile=None):
        RIG.record("LibavH264Encoder", bitrate=bitrate, repeat=repeat, iperiod=iperiod,
                   framerate=framerate)
        super().__init__()
        self.repeat = repeat
        self.bitrate = bitrate
        self.iperiod = iperiod
        self.framerate = framerate
        self.qp = qp
        self.profile = profile
        self._container: Any = None
        self._stream: Any = None

    def _setup(self, quality: Quality | None) -> None:
        if self.bitrate is None and self.qp is None:
            self.bitrate = 7_000_000

    def _start(self) -> None:
        if self.format not in ("YUV420",):
            raise RuntimeError(f"stand-in models only YUV420 input, not {self.format}")
        self._container, self._stream = open_x264(
            self.width, self.height, self.framerate, self.bitrate, self.iperiod, self.repeat
        )

    def _encode(self, stream: Any, request: Any) -> None:
        timestamp_us = self._timestamp(request)
        array = request.make_array(stream)
        frame = av.VideoFrame.from_numpy_buffer(array, format="yuv420p", width=self.width)
        frame.pts = timestamp_us
        for packet in self._stream.encode(frame):
            self.outputframe(bytes(packet), packet.is_keyframe, timestamp=packet.pts, packet=packet)

    def _stop(self) -> None:
        for packet in self._stream.encode():
            self.outputframe(bytes(packet), packet.is_keyframe, timestamp=packet.pts, packet=packet)
        self._container.close()
