"""OAK camera through depthai v3: the device encodes H.264 and detects people.

The host neither encodes nor runs the model: encoded frames go to the
recorder as they are (Annex-B, SPS/PPS taken from the first keyframe for the
``avcC`` box), small RGB preview frames go to analysis, and the device's
person detections ride along on each frame (``DetectedFrame.detections``).

Times: depthai stamps every message with the capture time on the host's
steady clock (it keeps the device clock synced to it); ``ClockMapper`` moves
those stamps onto the unit clock passed in, so packets, frames and the loop
share one clock. Losing the device (unplug, crash, a stalled stream) closes
the session; captures() then keeps reopening it with backoff and yields
frame-less captures every ``heartbeat_s`` meanwhile, logging the loss and the
recovery once each.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import av
import av.error

from hal.camera.base import CameraError, Capture, Frame, Packet, StreamInfo
from hal.camera.depthai.pipeline import DepthaiSettings, Session, open_session
from hal.camera.depthai.stream import (
    ClockMapper,
    DetectionPairer,
    DeviceDetection,
    Monotonic,
    SequenceGuard,
    clip_box,
    has_idr,
    parameter_sets,
    split_nals,
)
from hal.camera.live import CameraPlumbing

if TYPE_CHECKING:
    from hal.camera.depthai.config import DepthaiCameraConfig

log = logging.getLogger(__name__)

_POLL = datetime.timedelta(milliseconds=50)
_TICK = 2 / 90_000  # two ticks of the muxer's clock keep pts strictly increasing


def _import_depthai() -> Any:
    try:
        import depthai
    except ImportError:
        raise CameraError("camera.type 'depthai' needs the depthai package (pip install "
                          "depthai==3.12.0)") from None
    return depthai


class DepthaiCamera(CameraPlumbing):
    """A ``Camera`` on an OAK device; see the module docstring.

    ``dai`` is the depthai module (imported on start() when not given);
    tests pass a stand-in with the same API. ``first_keyframe_timeout_s``
    bounds start(), ``stall_s`` is how long a silent stream counts as a lost
    device, and reopening backs off from ``heartbeat_s`` up to ``max_backoff_s``.
    """

    @classmethod
    def from_config(cls, cfg: DepthaiCameraConfig, clock: Callable[[], float]) -> DepthaiCamera:
        """From its ``[camera]`` section; nothing opens until start()."""
        from hal.camera.depthai.pipeline import DepthaiSettings

        return cls(DepthaiSettings(**cfg.model_dump(exclude={"type"})), clock=clock)

    def __init__(
        self,
        settings: DepthaiSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        dai: Any = None,
        first_keyframe_timeout_s: float = 10.0,
        stall_s: float = 3.0,
        heartbeat_s: float = 0.5,
        max_backoff_s: float = 4.0,
    ) -> None:
        super().__init__("OAK camera")
        self.settings = settings
        self._clock = clock
        self._dai = dai
        self._first_timeout = first_keyframe_timeout_s
        self._stall = stall_s
        self._heartbeat = heartbeat_s
        self._max_backoff = max_backoff_s
        self._session: Session | None = None
        self._pending: list[Packet] = []
        self._mapper = ClockMapper()
        self._packet_t = Monotonic(_TICK)
        self._frame_t = Monotonic(1e-6)
        self._seq = SequenceGuard()
        s = settings
        self._pairer = DetectionPairer(
            tolerance=0.5 / s.fps, max_wait=1.0, expect_detections=s.model_path is not None
        )
        self._last_t = float("-inf")
        self._last_message = 0.0
        self._warned_sps = False

    # ---- start / stop ------------------------------------------------------------

    def start(self) -> None:
        """Open the OAK, start its pipeline and wait for the first keyframe.

        The first keyframe carries SPS/PPS, which the recorder needs before it
        can open a clip, so start() returns only once it has come.
        """
        if self._session is not None:
            return
        if self._dai is None:
            self._dai = _import_depthai()
        model = self.settings.model_path
        if model is not None and not model.is_file():
            raise CameraError(f"camera.model_path {model}: no such file on this unit")
        self._stop.clear()
        session = open_session(self._dai, self.settings)
        try:
            self._info = self._await_keyframe(session)
        except BaseException:
            session.close()
            raise
        self._session = session
        self._last_message = self._clock()
        info = self._info
        log.info("OAK camera %s started: recording %dx%d h264 at %.2f fps%s", session.device_id,
                 info.width, info.height, info.fps,
                 " with on-device detection" if self.settings.model_path else "")

    def _await_keyframe(self, session: Session) -> StreamInfo:
        deadline = time.monotonic() + self._first_timeout
        while time.monotonic() < deadline and not self._stop.is_set():
            try:
                msg = session.video.get(_POLL)
            except Exception as exc:  # QueueException is not a RuntimeError
                raise CameraError(f"OAK device {session.device_id}: lost while starting "
                                  f"({exc})") from None
            if msg is None:
                continue
            packet = self._packet(msg)
            if packet is None:
                continue
            extradata = parameter_sets(split_nals(packet.data))
            if extradata is None:
                continue  # an IDR without SPS/PPS in front cannot open a clip; wait for one
            width, height = _decoded_size(packet.data, session.device_id)
            self._pending.append(packet)
            return StreamInfo(kind="video", codec="h264", extradata=extradata, width=width,
                              height=height, fps=self.settings.fps)
        raise CameraError(f"OAK device {session.device_id}: no H.264 keyframe within "
                          f"{self._first_timeout:g} s of starting")

    def _release(self) -> None:
        if self._session is not None:
            self._session.close()
            log.info("OAK camera %s stopped", self._session.device_id)
        self._session = None

    # ---- captures ----------------------------------------------------------------

    def captures(self) -> Iterator[Capture]:
        """Captures in time order until stop(); frame-less heartbeats while the OAK is away."""
        return super().captures()

    def _started(self) -> bool:
        return self._session is not None

    def _run(self) -> Iterator[Capture]:
        while not self._stop.is_set():
            if self._session is None:
                yield from self._reconnect()
                continue
            try:
                cap = self._poll(self._session)
            except Exception as exc:
                self._lose(f"{type(exc).__name__}: {exc}")
                continue
            if cap is not None:
                yield cap
            elif self._clock() - self._last_message > self._stall:
                self._lose(f"no message for {self._stall:g} s")

    def _poll(self, session: Session) -> Capture | None:
        packets = self._pending
        self._pending = []
        first = session.video.get(_POLL)
        now = self._clock()
        for msg in [first, *session.video.tryGetAll()] if first is not None else []:
            p = self._packet(msg)
            if p is not None:
                packets.append(p)
        for img in session.preview.tryGetAll():
            self._pairer.add_frame(self._frame(img), now)
        if session.detections is not None:
            for dets in session.detections.tryGetAll():
                self._pairer.add_detections(self._to_unit(dets.getTimestamp(), now),
                                            self._detections(dets))
        frames = self._pairer.ready(now)
        if first is not None or frames:
            self._last_message = now
        if not packets and not frames:
            return None
        # More than one frame ready (a burst after a stall): analysis wants the newest.
        frame = frames[-1] if frames else None
        times = [p.pts for p in packets] + ([frame.t] if frame else [])
        t = max(self._last_t, *times)
        self._last_t = t
        return Capture(t=t, frame=frame, packets=tuple(packets))

    def _to_unit(self, stamp: datetime.timedelta, arrival: float) -> float:
        return self._mapper.map(stamp.total_seconds(), arrival)

    def _packet(self, msg: Any) -> Packet | None:
        data = bytes(msg.getData())
        units = split_nals(data)
        keyframe = msg.getFrameType() == self._dai.EncodedFrame.FrameType.I and has_idr(units)
        if not self._seq.accept(msg.getSequenceNum(), keyframe):
            return None
        if keyframe and self._info is not None:
            extradata = parameter_sets(units)
            if extradata is not None and extradata != self._info.extradata and not self._warned_sps:
                self._warned_sps = True
                log.warning("OAK camera: SPS/PPS changed after reconnecting; clips keep the "
                            "first ones (check that nobody changed the device's settings)")
        pts = self._packet_t(self._to_unit(msg.getTimestamp(), self._clock()))
        return Packet(kind="video", data=data, pts=pts, duration=1.0 / self.settings.fps,
                      keyframe=keyframe)

    def _frame(self, img: Any) -> Frame:
        if img.getType() == self._dai.ImgFrame.Type.RGB888i:
            rgb = img.getFrame()
        else:  # any other type: depthai converts to BGR
            rgb = img.getCvFrame()[..., ::-1]
        t = self._frame_t(self._to_unit(img.getTimestamp(), self._clock()))
        return Frame(rgb.copy(), t)

    def _detections(self, msg: Any) -> tuple[DeviceDetection, ...]:
        s = self.settings
        out = [
            DeviceDetection(int(d.label), float(d.confidence),
                            clip_box(d.xmin, d.ymin, d.xmax, d.ymax))
            for d in msg.detections
            if d.label == s.person_label and d.confidence >= s.confidence_threshold
        ]
        out.sort(key=lambda d: -d.score)
        return tuple(out)

    # ---- loss and recovery -------------------------------------------------------

    def _lose(self, why: str) -> None:
        session = self._session
        assert session is not None
        log.warning("OAK camera %s lost (%s); reconnecting", session.device_id, why)
        session.close()
        self._session = None
        self._pending = []
        self._pairer.clear()
        self._seq.reset()
        self._mapper.reset()

    def _reconnect(self) -> Iterator[Capture]:
        backoff = self._heartbeat
        attempts = 0
        last_error = ""
        while not self._stop.is_set():
            attempts += 1
            try:
                session = open_session(self._dai, self.settings)
            except CameraError as exc:
                if str(exc) != last_error:
                    log.debug("OAK camera: reopen attempt %d failed: %s", attempts, exc)
                    last_error = str(exc)
            else:
                self._session = session
                self._last_message = self._clock()
                log.info("OAK camera %s recovered after %d attempt(s)", session.device_id,
                         attempts)
                return
            # Frame-less captures keep the unit's timers ticking while we wait.
            waited = 0.0
            while waited < backoff and not self._stop.is_set():
                self._stop.wait(min(self._heartbeat, backoff - waited))
                waited += self._heartbeat
                t = max(self._last_t, self._clock())
                self._last_t = t
                yield Capture(t=t, frame=None, packets=())
            backoff = min(self._max_backoff, backoff * 2)


def _decoded_size(data: bytes, device_id: str) -> tuple[int, int]:
    """Decode the first keyframe: proves the stream is H.264 we can mux, and gives its size."""
    try:
        ctx = av.CodecContext.create("h264", "r")
        frames = []
        for pkt in ctx.parse(data):
            frames.extend(ctx.decode(pkt))
        for pkt in ctx.parse(None):
            frames.extend(ctx.decode(pkt))
        frames.extend(ctx.decode(None))
    except av.error.FFmpegError as exc:
        raise CameraError(f"OAK device {device_id}: first keyframe does not decode "
                          f"({exc})") from None
    if not frames:
        raise CameraError(f"OAK device {device_id}: first keyframe does not decode")
    return frames[0].width, frames[0].height
