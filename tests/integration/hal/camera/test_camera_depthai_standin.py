"""OAK camera back-end against the depthai STAND-IN, plus the real depthai where it runs.

The stand-in (tests/standins/depthai_standin) uses real depthai messages,
queues and a real host-only ReplayVideo pipeline; only the device nodes are
stood in. With no OAK on this machine, the real depthai also proves the
"no device" error.
"""

from __future__ import annotations

import itertools
import logging
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from firmware.recorder import ClipWriter
from hal.camera.base import CameraError, Capture
from hal.camera.depthai.camera import DepthaiCamera
from hal.camera.depthai.pipeline import DepthaiSettings
from hal.camera.depthai.stream import DetectedFrame, detections_of
from tests.conftest import wait_for
from tests.helpers.unit.camera_checks import (
    assert_in_time_order,
    assert_logged_once,
    is_idle,
    packets_of,
    probe_video,
)

dai = pytest.importorskip("depthai")

from tests.standins.depthai_standin import (  # noqa: E402
    Camera,
    DepthaiStandin,
    DetectionNetwork,
    NNArchive,
    VideoEncoder,
)
from tests.standins.depthai_standin.device import StandinDevice, StandinPipeline  # noqa: E402
from tests.standins.depthai_standin.nodes import StandinOutput  # noqa: E402

W, H, FPS = 640, 360, 15
SQUARE = 48
STEP = 24  # px per frame: a detection paired with the wrong frame is off by a whole square


def square_video(path: Path, seconds: float = 2.0) -> Path:
    """A white square crossing a grey frame: its position tells which frame is which."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i in range(round(seconds * FPS)):
            img = np.full((H, W, 3), 60, np.uint8)
            x = (i * STEP) % (W - SQUARE)
            img[150 : 150 + SQUARE, x : x + SQUARE] = 255
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def bright_box(rgb: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(rgb.mean(axis=2) > 180)
    h, w = rgb.shape[:2]
    return (xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h)


def square_detector(rgb: np.ndarray, t: float) -> list[tuple[int, float, tuple[float, ...]]]:
    """Plays the person model: the square is a 'person' (label 0), plus a low-score ghost."""
    return [(0, 0.9, bright_box(rgb)), (0, 0.2, (0.0, 0.0, 0.1, 0.1)), (7, 0.95, (0, 0, 1, 1))]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return square_video(tmp_path_factory.mktemp("oak") / "square.mp4")


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    path = tmp_path / "person.tar.xz"
    path.write_bytes(b"stand-in archive")
    return path


def settings(model: Path | None, **kw: object) -> DepthaiSettings:
    base: dict[str, object] = dict(record_width=W, record_height=H, fps=FPS, preview_width=320,
                                   preview_height=180, analysis_fps=5.0, model_path=model,
                                   confidence_threshold=0.5)
    base.update(kw)
    return DepthaiSettings(**base)  # type: ignore[arg-type]


class Consumer:
    """Iterates captures() on its own thread, as the unit loop does."""

    def __init__(self, cam: DepthaiCamera) -> None:
        self.cam = cam
        self.caps: list[Capture] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for cap in self.cam.captures():
                self.caps.append(cap)
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def frames(self) -> list[DetectedFrame]:
        return [c.frame for c in list(self.caps) if isinstance(c.frame, DetectedFrame)]

    def finish(self) -> list[Capture]:
        self.cam.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "captures() did not end after stop()"
        assert self.error is None, self.error
        return self.caps


@pytest.fixture()
def running(video: Path, model: Path) -> Iterator[tuple[DepthaiStandin, DepthaiCamera]]:
    standin = DepthaiStandin(video, detector=square_detector)
    cam = DepthaiCamera(settings(model), dai=standin, heartbeat_s=0.1, max_backoff_s=0.2)
    cam.start()
    yield standin, cam
    cam.stop()


def test_standin_pipeline_records_the_v3_graph_the_backend_builds(
    running: tuple[DepthaiStandin, DepthaiCamera], model: Path
) -> None:
    standin, _ = running
    [pipe] = standin.pipelines
    assert pipe.device.max_reconnection_attempts == 0
    [cam] = pipe.nodes_of(Camera)
    [enc] = pipe.nodes_of(VideoEncoder)
    [nn] = pipe.nodes_of(DetectionNetwork)
    assert cam.board_socket == dai.CameraBoardSocket.CAM_A
    video_out, preview_out = cam.outputs
    assert (video_out.size, video_out.type, video_out.fps) == ((W, H), dai.ImgFrame.Type.NV12, FPS)
    assert enc.input is video_out and video_out.links == [enc]
    assert enc.profile == dai.VideoEncoderProperties.Profile.H264_MAIN
    assert (enc.keyframe_frequency, enc.bitrate, enc.num_b_frames) == (FPS, 512_000, 0)
    assert enc.rate_control == dai.VideoEncoderProperties.RateControlMode.CBR
    assert (preview_out.size, preview_out.type) == ((320, 180), dai.ImgFrame.Type.RGB888i)
    assert preview_out.resize_mode == dai.ImgResizeMode.STRETCH and preview_out.fps == 5.0
    assert nn.source is cam and nn.archive is not None and nn.archive.path == str(model)
    assert (nn.fps, nn.resize_mode, nn.confidence_threshold) == (5.0, dai.ImgResizeMode.STRETCH,
                                                                 0.5)
    assert len(enc.out.queues) == len(preview_out.queues) == len(nn.out.queues) == 1


def test_standin_packets_mux_into_an_fmp4_clip_ffprobe_plays(
    running: tuple[DepthaiStandin, DepthaiCamera], tmp_path: Path
) -> None:
    _, cam = running
    info = cam.video_info
    assert (info.codec, info.width, info.height, info.fps) == ("h264", W, H, FPS)
    assert info.extradata is not None and info.extradata.startswith(b"\x00\x00\x00\x01\x67")
    consumer = Consumer(cam)
    wait_for(lambda: sum(len(c.packets) for c in consumer.caps) >= 2 * FPS + 2, 15,
             "two seconds of packets")
    caps = consumer.finish()
    packets = packets_of(caps)
    assert packets[0].keyframe, "the first packet handed out must be the keyframe start() saw"
    assert all(b.pts > a.pts for a, b in itertools.pairwise(packets))
    assert_in_time_order(caps)
    keys = [p for p in packets if p.keyframe]
    assert len(keys) >= 2
    writer = ClipWriter(tmp_path / "oak.mp4", info, None)
    writer.write(packets)
    clip = writer.close()
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe not installed (make apt)")
    stream = probe_video(clip.path)
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", W, H)
    assert int(stream["nb_read_frames"]) == len(packets)
    with av.open(str(clip.path)) as box:  # every frame decodes, with no error
        assert sum(1 for _ in box.decode(video=0)) == len(packets)


def test_standin_detections_ride_on_the_frame_they_were_made_from(
    running: tuple[DepthaiStandin, DepthaiCamera],
) -> None:
    _, cam = running
    consumer = Consumer(cam)
    wait_for(lambda: len(consumer.frames()) >= 6, 15, "six analysis frames")
    consumer.finish()
    frames = consumer.frames()
    for f in frames:
        assert f.image.shape == (180, 320, 3) and f.image.dtype == np.uint8
        dets = detections_of(f)
        assert dets is not None, "the network ran on every analysed frame"
        # Only 'person' (label 0) at or above the threshold; the ghost and label 7 are gone.
        assert [d.label for d in dets] == [0]
        seen = bright_box(f.image)
        assert dets[0].box == pytest.approx(seen, abs=0.02), "detection from another frame"
    times = [f.t for f in frames]
    assert times == sorted(times)
    assert np.diff(times).mean() == pytest.approx(1 / 5.0, abs=0.05)


def test_standin_without_a_model_runs_no_network_and_frames_carry_none(video: Path) -> None:
    standin = DepthaiStandin(video, detector=square_detector)
    cam = DepthaiCamera(settings(None), dai=standin)
    cam.start()
    consumer = Consumer(cam)
    wait_for(lambda: len(consumer.frames()) >= 2, 15, "two analysis frames")
    consumer.finish()
    assert standin.opened and not any(
        p.nodes_of(DetectionNetwork) for p in standin.pipelines)
    assert all(detections_of(f) is None for f in consumer.frames())


def test_standin_unplug_gives_heartbeats_then_recovers_logging_each_once(
    running: tuple[DepthaiStandin, DepthaiCamera], caplog: pytest.LogCaptureFixture
) -> None:
    standin, cam = running
    caplog.set_level(logging.INFO, logger="hal.camera.depthai.camera")
    consumer = Consumer(cam)
    wait_for(lambda: len(consumer.frames()) >= 2, 15, "frames before the unplug")
    standin.unplug()
    unplugged_at = len(consumer.caps)
    wait_for(lambda: sum(map(is_idle, consumer.caps[unplugged_at:])) >= 5, 15, "heartbeats")
    standin.plug()
    before = len(consumer.frames())
    wait_for(lambda: len(consumer.frames()) >= before + 3, 20, "frames after the replug")
    caps = consumer.finish()
    assert standin.opened == ["18443010C1E4F51200"] * 2
    lost, _ = assert_logged_once(caplog, "lost", "recovered")
    assert lost.levelno == logging.WARNING
    assert_in_time_order(caps)
    after = packets_of(caps[unplugged_at:])
    assert after and after[0].keyframe, "after a reconnect the stream restarts at a keyframe"


def test_real_depthai_without_an_oak_raises_a_clear_camera_error() -> None:
    if dai.Device.getAllAvailableDevices():
        pytest.skip("an OAK is attached to this machine")
    cam = DepthaiCamera(settings(None))
    with pytest.raises(CameraError, match=r"no OAK device found over USB; check .*udev"):
        cam.start()


def test_standin_asked_for_an_absent_device_id_lists_what_it_found(video: Path) -> None:
    cam = DepthaiCamera(settings(None, device_id="14442C10D13EABCE00"),
                        dai=DepthaiStandin(video))
    with pytest.raises(CameraError, match=r"14442C10D13EABCE00 not found \(found: "
                                          r"18443010C1E4F51200 \(1\.1\)\)"):
        cam.start()


def test_standin_unplugged_at_start_names_the_device_id(video: Path) -> None:
    standin = DepthaiStandin(video)
    standin.unplug()
    cam = DepthaiCamera(settings(None, device_id="18443010C1E4F51200"), dai=standin)
    with pytest.raises(CameraError, match="no OAK device 18443010C1E4F51200 found over USB"):
        cam.start()


def test_missing_model_file_is_a_camera_error_before_any_device_work(tmp_path: Path,
                                                                     video: Path) -> None:
    standin = DepthaiStandin(video)
    cam = DepthaiCamera(settings(tmp_path / "gone.tar.xz"), dai=standin)
    with pytest.raises(CameraError, match=r"camera.model_path .*gone.tar.xz: no such file"):
        cam.start()
    assert standin.opened == []


def _real_params(real: object, name: str) -> list[set[str]]:
    """Parameter names of each overload in a pybind11 docstring of the real depthai."""
    doc = getattr(real, name).__doc__ or ""
    sigs = re.findall(rf"{name}\(self[^)]*\)", doc) or re.findall(rf"{name}\([^)]*\)", doc)
    return [set(re.findall(r"(\w+):", s)) - {"self"} for s in sigs]


@pytest.mark.parametrize(("standin_cls", "real_cls", "own_init"), [
    (Camera, dai.node.Camera, False), (VideoEncoder, dai.node.VideoEncoder, False),
    (DetectionNetwork, dai.node.DetectionNetwork, False), (StandinOutput, dai.Node.Output, False),
    (StandinDevice, dai.Device, True), (StandinPipeline, dai.Pipeline, True),
    (NNArchive, dai.NNArchive, True),
])
def test_standin_methods_exist_in_real_depthai_with_the_same_parameter_names(
    standin_cls: type, real_cls: type, own_init: bool
) -> None:
    import inspect

    helpers = {"nodes_of", "die", "send", "close"} if standin_cls is not StandinDevice else set()
    public = [n for n, v in vars(standin_cls).items()
              if ((callable(v) or isinstance(v, classmethod)) and n[0].islower()
              and n not in helpers) or (own_init and n == "__init__")]
    assert public
    for name in public:
        assert hasattr(real_cls, name), f"{real_cls.__name__} has no {name}"
        fn = getattr(standin_cls, name)
        fn = fn.__func__ if hasattr(fn, "__func__") else fn
        ours = [p for p in inspect.signature(fn).parameters if p not in {"self", "cls"}]
        overloads = _real_params(real_cls, name)
        assert any(set(ours) <= real for real in overloads), (
            f"{real_cls.__name__}.{name}{tuple(ours)} matches no real overload {overloads}")
