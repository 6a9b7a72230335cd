"""STAND-IN for ``picamera2.Picamera2``: same method signatures, frames from ``RIG``.

A camera thread plays the part of libcamera plus picamera2's event loop: for
each frame it builds a ``CompletedRequest`` (main and lores buffers in the
configured YUV420 layout with padded strides), passes it to every running
encoder (as ``process_requests`` does) and queues it for ``capture_request``.
It runs in lock-step with the consumer (the next frame is made once the last
was taken), so tests are deterministic and nothing is dropped. When the rig is
unplugged, frames stop: ``capture_request(wait=...)`` then times out like the
real ``Job.get_result`` (or, in "error" mode, raises RuntimeError at once).
"""

from __future__ import annotations

import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import av
import numpy as np

from .request import CompletedRequest
from .standin import RIG


def _align(value: int, to: int) -> int:
    return (value + to - 1) // to * to


def _even(size: tuple[int, int]) -> tuple[int, int]:
    """``align_stream(optimal=False)``: both dimensions rounded down to even."""
    return size[0] - size[0] % 2, size[1] - size[1] % 2


def yuv420_buffer(rgb: np.ndarray, width: int, height: int, stride: int) -> np.ndarray:
    """A YUV420 buffer laid out as libcamera gives it: Y rows then U, V at half stride."""
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        width=width, height=height, format="yuv420p"
    )
    planes = frame.to_ndarray().reshape(-1)  # packed I420, no padding
    y = planes[: width * height].reshape(height, width)
    c = (height // 2, width // 2)
    u = planes[width * height : width * height + c[0] * c[1]].reshape(c)
    v = planes[width * height + c[0] * c[1] :].reshape(c)
    out = np.zeros(height * stride * 3 // 2, np.uint8)
    y_pad = np.zeros((height, stride), np.uint8)
    y_pad[:, :width] = y
    u_pad = np.zeros((c[0], stride // 2), np.uint8)
    u_pad[:, : c[1]] = u
    v_pad = np.zeros((c[0], stride // 2), np.uint8)
    v_pad[:, : c[1]] = v
    out[: height * stride] = y_pad.reshape(-1)
    out[height * stride : height * stride + u_pad.size] = u_pad.reshape(-1)
    out[height * stride + u_pad.size :] = v_pad.reshape(-1)
    return out.reshape(height * 3 // 2, stride)


class Picamera2:
    """STAND-IN for the real class; see the module docstring."""

    def __init__(self, camera_num=0, verbose_console=None, tuning=None, allocator=None):
        RIG.record("Picamera2", camera_num=camera_num)
        if camera_num >= len(self.global_camera_info()):
            raise RuntimeError(
                f'No camera number {camera_num} found - use "rpicam-hello --list-cameras" '
                "to check connected cameras"
            )
        self.camera_idx = camera_num
        self.is_open = True
        self.started = False
        self.camera_config: dict[str, Any] = {}
        self.encode_stream_name = "main"
        self._encoders: set[Any] = set()
        self.completed_requests: list[CompletedRequest] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._frame_ns = 33_333_333

    @staticmethod
    def global_camera_info() -> list[dict[str, Any]]:
        RIG.record("global_camera_info")
        if not RIG.attached:
            return []
        return [{"Model": "imx708", "Location": 2, "Rotation": 180,
                 "Id": "/base/soc/i2c0mux/i2c@1/imx708@1a", "Num": 0}]

    def create_video_configuration(
        self, main={}, lores=None, raw={}, transform=None, colour_space=None,  # noqa: B006
        buffer_count=6, controls={}, display="main", encode="main", queue=True,  # noqa: B006
        sensor={}, use_case="video",  # noqa: B006
    ) -> dict[str, Any]:
        RIG.record("create_video_configuration", main=main, lores=lores, controls=controls,
                   encode=encode, buffer_count=buffer_count)
        if not self.is_open:
            raise RuntimeError("Camera not opened")
        main = {"format": "XBGR8888", "size": (1280, 720), "preserve_ar": True} | main
        main["size"] = _even(main["size"])
        if lores is not None:
            lores = {"format": "YUV420", "size": main["size"], "preserve_ar": False} | lores
            lores["size"] = _even(lores["size"])
        return {"use_case": use_case, "buffer_count": buffer_count, "queue": queue,
                "main": main, "lores": lores, "raw": raw, "controls": dict(controls),
                "display": display, "encode": encode}

    def configure(self, camera_config=None) -> None:
        RIG.record("configure", camera_config=camera_config)
        config = dict(camera_config)
        for name in ("main", "lores"):
            stream = config.get(name)
            if stream is None:
                continue
            if stream["format"] != "YUV420":
                raise RuntimeError(f"stand-in only models YUV420 streams, not {stream['format']}")
            stream = dict(stream)
            stream["stride"] = _align(stream["size"][0], 64)  # libcamera pads rows
            config[name] = stream
        if config.get("lores") is not None:
            lw, lh = config["lores"]["size"]
            mw, mh = config["main"]["size"]
            if lw > mw or lh > mh:
                raise RuntimeError("lores stream dimensions may not exceed main stream")
        rate = config["controls"].get("FrameRate", 30.0)
        self._frame_ns = round(1e9 / rate)
        self.camera_config = config
        self.encode_stream_name = config.get("encode", "main")

    def camera_configuration(self) -> dict[str, Any]:
        return self.camera_config

    def start_encoder(self, encoder=None, output=None, pts=None, quality=None, name=None) -> None:
        RIG.record("start_encoder", encoder=type(encoder).__name__, stream=name)
        if encoder is None:
            raise RuntimeError("No encoder specified")
        if output is not None:
            encoder.output = output
        streams = self.camera_configuration()
        if not streams:
            raise RuntimeError("Camera has not been configured")
        if name is None:
            name = self.encode_stream_name
        if streams.get(name) is None:
            raise RuntimeError(f"Encode stream {name} was not defined")
        encoder.name = name
        encoder.width, encoder.height = streams[name]["size"]
        encoder.format = streams[name]["format"]
        encoder.stride = streams[name]["stride"]
        if getattr(encoder, "framerate", 0) is None:
            encoder.framerate = 1e9 / self._frame_ns
        encoder.start(quality=quality)
        self._encoders.add(encoder)

    def start(self, config=None, show_preview=False) -> None:
        RIG.record("start")
        if not self.camera_config:
            raise RuntimeError("Camera has not been configured")
        if self.started:
            return
        self.started = True
        self._thread = threading.Thread(target=self._run, name="standin-libcamera", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sizes = {n: (s["size"], s["stride"]) for n in ("main", "lores")
                 if (s := self.camera_config.get(n)) is not None}
        while True:
            with self._cond:
                self._cond.wait_for(lambda: not self.started or not self.completed_requests)
                if not self.started:
                    return
            with RIG.lock:
                if RIG.unplug_after_frames is not None and RIG.frame_no >= RIG.unplug_after_frames:
                    RIG.unplug_after_frames = None
                    RIG.attached = False
                if not RIG.attached:
                    break  # no more frames from this camera object, as with a pulled cable
                n = RIG.frame_no
                RIG.frame_no += 1
            rgb = RIG.frames[n % len(RIG.frames)]
            buffers = {name: yuv420_buffer(rgb, size[0], size[1], stride)
                       for name, (size, stride) in sizes.items()}
            ts = RIG.sensor_start_ns + RIG.gap_ns + n * self._frame_ns
            metadata = {"SensorTimestamp": ts, "FrameDuration": self._frame_ns // 1000}
            request = CompletedRequest(buffers, metadata)
            for encoder in list(self._encoders):
                if encoder.running:
                    encoder.encode(encoder.name, request)
            with self._cond:
                self.completed_requests.append(request)
                self._cond.notify_all()

    def capture_request(self, wait=None, signal_function=None, flush=None) -> CompletedRequest:
        RIG.record("capture_request", wait=wait)
        timeout = None if wait in (None, True) else float(wait)
        with self._cond:
            failing = lambda: not RIG.attached and RIG.unplug_mode == "error"  # noqa: E731
            got = self._cond.wait_for(
                lambda: self.completed_requests or failing(), timeout=timeout
            )
            if self.completed_requests:
                request = self.completed_requests.pop(0)
                self._cond.notify_all()
                return request
        if got:
            raise RuntimeError("Camera frontend has timed out!")
        raise FutureTimeout()

    def cancel_all_and_flush(self) -> None:
        RIG.record("cancel_all_and_flush")

    def stop_encoder(self, encoders=None) -> None:
        RIG.record("stop_encoder")
        for encoder in list(self._encoders):
            encoder.stop()
        self._encoders.clear()

    def stop(self) -> None:
        RIG.record("stop")
        with self._cond:
            self.started = False
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.completed_requests.clear()

    def close(self) -> None:
        RIG.record("close")
        if not self.is_open:
            return
        self.stop()
        self.is_open = False
