"""STAND-IN for ``picamera2.encoders.h264_encoder`` (the Pi 4's V4L2 hardware encoder).

The real class queues each buffer to /dev/video11 and a poll thread passes the
encoded output to the outputs; here a worker thread plays the hardware block
with libx264, so packets arrive on another thread, later than the frame, as
they do on a Pi 4.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import av

from ..standin import RIG
from ._x264 import open_x264
from .encoder import Encoder, Quality


class H264Encoder(Encoder):
    """Uses functionality from V4L2Encoder (stand-in: a worker thread with libx264)."""

    def __init__(self, bitrate=None, repeat=True, iperiod=None, framerate=None,
                 enable_sps_framerate=False, qp=None, profile=None):
        RIG.record("H264Encoder", bitrate=bitrate, repeat=repeat, iperiod=iperiod,
                   framerate=framerate)
        super().__init__()
        self.bitrate = bitrate
        self.iperiod = iperiod
        self.repeat = repeat
        self.qp = qp
        self.profile = profile
        self.framerate = framerate
        self._queue: queue.Queue[tuple[Any, int, Any] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def _setup(self, quality: Quality | None) -> None:
        if self.bitrate is None and self.qp is None:
            self.bitrate = int(6_000_000 * self.width * self.height * (self.framerate or 30)
                               / (1920 * 1080 * 30))

    def _start(self) -> None:
        if self.format not in ("YUV420",):
            raise RuntimeError("Unrecognised format", self.format, "for V4L2")
        self._container, self._stream = open_x264(
            self.width, self.height, self.framerate or 30, self.bitrate, self.iperiod, self.repeat
        )
        self._thread = threading.Thread(target=self._poll, name="standin-v4l2-h264", daemon=True)
        self._thread.start()

    def _encode(self, stream: Any, request: Any) -> None:
        timestamp_us = self._timestamp(request)
        request.acquire()  # the real encoder holds the buffer until the hardware is done
        self._queue.put((request, timestamp_us, stream))

    def _poll(self) -> None:
        while (item := self._queue.get()) is not None:
            request, timestamp_us, stream = item
            try:
                array = request.make_array(stream)
            finally:
                request.release()
            frame = av.VideoFrame.from_numpy_buffer(array, format="yuv420p", width=self.width)
            frame.pts = timestamp_us
            for packet in self._stream.encode(frame):
                self.outputframe(bytes(packet), packet.is_keyframe, timestamp=timestamp_us)
        for packet in self._stream.encode():
            self.outputframe(bytes(packet), packet.is_keyframe, timestamp=packet.pts)

    def _stop(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._container.close()
