"""``counterunit zones snapshot``: one camera frame with the zones and what vision sees in them.

The installer aims the camera and sets the zones from this picture: each
zone's rectangle and name, the detector's boxes with their scores, and a
legend line per zone (person seen or not, the score). The frames go through
the configured SceneAnalyzer (so foreground is what the unit would compute),
then every model stage runs on each zone crop of the last frame, whatever the
landmark score, so the detector's boxes are always there to look at.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from firmware.config.unit import UnitConfig
from hal.camera.base import Camera, CameraError, Frame
from vision.analyzer import SceneAnalyzer
from vision.evidence import Evidence

log = logging.getLogger(__name__)

# Zone colours in config order: distinct, and none of them the detection colour.
ZONE_COLOURS: tuple[tuple[int, int, int], ...] = (
    (0, 200, 255), (255, 160, 0), (200, 0, 255), (0, 255, 120), (255, 60, 140), (120, 120, 255))
DETECTION_COLOUR = (255, 255, 0)
ZONE_LINE = 3


class SnapshotError(RuntimeError):
    """The snapshot could not be taken (no frame, nothing to analyse); the message says why."""


@dataclass(frozen=True, slots=True)
class ZoneReport:
    """What vision saw in one zone of the snapshot frame.

    ``box`` is the zone in analysis-frame pixels; ``detections`` are
    (score, x0, y0, x1, y1) in the same pixels. ``landmark``/``detector`` are
    None when that stage did not run; ``foreground`` is None until the zone
    has learned its empty view (it needs a few seconds of stable empty zone).
    """

    zone: str
    colour: tuple[int, int, int]
    box: tuple[int, int, int, int]
    person: bool
    score: float
    landmark: float | None
    detector: float | None
    detections: tuple[tuple[float, int, int, int, int], ...]
    foreground: float | None

    def legend(self) -> str:
        """The short line drawn on the picture."""
        boxes = ", ".join(f"{d[0]:.2f}" for d in self.detections) or "none"
        return (f"{self.zone}: person {'yes' if self.person else 'no'}, "
                f"score {self.score:.2f}, detector boxes {boxes}")

    def line(self) -> str:
        """The report line."""
        def num(v: float | None) -> str:
            return "-" if v is None else f"{v:.2f}"

        fg = "not learned yet" if self.foreground is None else f"{self.foreground:.0%}"
        return (f"{self.zone}: person seen {'yes' if self.person else 'no'} "
                f"(score {self.score:.2f}, landmark {num(self.landmark)}, "
                f"detector {num(self.detector)}, {len(self.detections)} box(es), "
                f"foreground {fg})")


@dataclass(frozen=True)
class Snapshot:
    frame: Frame
    zones: tuple[ZoneReport, ...]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the analysis frame."""
        return int(self.frame.image.shape[1]), int(self.frame.image.shape[0])


def grab_frames(camera: Camera, count: int, timeout_s: float = 15.0,
                clock: Callable[[], float] = time.monotonic) -> list[Frame]:
    """Start the camera, take up to ``count`` analysis frames, stop it.

    Raises CameraError from start() (device absent), and SnapshotError when
    no frame arrives within ``timeout_s`` (a live camera yields frame-less
    captures while it retries) or the source ends without one.
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    camera.start()
    frames: list[Frame] = []
    deadline = clock() + timeout_s
    try:
        for capture in camera.captures():
            if capture.frame is not None:
                frames.append(capture.frame)
                if len(frames) >= count:
                    break
            if clock() > deadline:
                break
    finally:
        camera.stop()
    if not frames:
        raise SnapshotError(f"the camera delivered no frame within {timeout_s:.0f} s")
    return frames


def _evidence(analyzer: SceneAnalyzer, crop: np.ndarray, mask: np.ndarray | None) -> Evidence:
    all_stages = getattr(analyzer.scorer, "all_stages", None)
    if callable(all_stages):
        ev: Evidence = all_stages(crop, mask)
        return ev
    return analyzer.scorer.score(crop, mask)


def analyse(frames: list[Frame], analyzer: SceneAnalyzer) -> Snapshot:
    """Feed the frames through the analyzer, then score every zone of the last one."""
    for f in frames:
        analyzer.process(f.image, f.t)
    last = frames[-1]
    h, w = last.image.shape[:2]
    reports = []
    for i, zone in enumerate(analyzer.zones):
        obs = analyzer.last(zone.name)
        ev = _evidence(analyzer, zone.crop(last.image), None if obs is None else obs.mask)
        x0, y0, x1, y1 = zone.pixels(w, h)
        zw, zh = x1 - x0, y1 - y0
        boxes = tuple(
            (d.score, x0 + round(d.box[0] * zw), y0 + round(d.box[1] * zh),
             x0 + round(d.box[2] * zw), y0 + round(d.box[3] * zh))
            for d in ev.detections)
        reports.append(ZoneReport(
            zone.name, ZONE_COLOURS[i % len(ZONE_COLOURS)], (x0, y0, x1, y1),
            ev.score >= analyzer.params.person_score, ev.score, ev.landmark, ev.posedet, boxes,
            None if obs is None else obs.foreground))
    return Snapshot(last, tuple(reports))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def draw(snapshot: Snapshot) -> Image.Image:
    """The annotated picture, at the analysis resolution."""
    image = Image.fromarray(snapshot.frame.image).convert("RGB")
    width, height = image.size
    pen = ImageDraw.Draw(image)
    font = _font(max(10, height // 36))
    for z in snapshot.zones:
        for score, x0, y0, x1, y1 in z.detections:
            pen.rectangle((x0, y0, max(x0, x1 - 1), max(y0, y1 - 1)), outline=DETECTION_COLOUR,
                          width=2)
            pen.text((x0 + 3, y0 + 2), f"{score:.2f}", fill=DETECTION_COLOUR, font=font)
    for z in snapshot.zones:
        x0, y0, x1, y1 = z.box
        # Inside the zone's own pixels, so neighbouring zones' borders never overwrite.
        pen.rectangle((x0, y0, x1 - 1, y1 - 1), outline=z.colour, width=ZONE_LINE)
        tag = pen.textbbox((x0 + ZONE_LINE + 2, y0 + ZONE_LINE + 2), z.zone, font=font)
        pen.rectangle((tag[0] - 2, tag[1] - 2, tag[2] + 2, tag[3] + 2), fill=z.colour)
        pen.text((x0 + ZONE_LINE + 2, y0 + ZONE_LINE + 2), z.zone, fill=(0, 0, 0), font=font)
    # Legend band at the bottom, one line per zone in the zone's colour.
    line_h = pen.textbbox((0, 0), "Ag", font=font)[3] + 4
    top = height - line_h * len(snapshot.zones) - 4
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(overlay).rectangle((0, top, width, height), fill=(0, 0, 0, 170))
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    pen = ImageDraw.Draw(image)
    for i, z in enumerate(snapshot.zones):
        pen.text((6, top + 2 + i * line_h), z.legend(), fill=z.colour, font=font)
    return image


def take_snapshot(cfg: UnitConfig, frames: int = 5,
                  clock: Callable[[], float] = time.monotonic) -> Snapshot:
    """Grab frames from the configured camera and analyse them with the configured vision."""
    from firmware.wiring.camera import build_camera
    from firmware.wiring.vision import build_analyzer

    grabbed = grab_frames(build_camera(cfg, clock), frames, clock=clock)
    log.info("snapshot: %d frame(s) of %dx%d", len(grabbed), grabbed[-1].image.shape[1],
             grabbed[-1].image.shape[0])
    return analyse(grabbed, build_analyzer(cfg))


def snapshot_command(cfg: UnitConfig, out: Path, frames: int) -> list[str]:
    """Take the snapshot, write the PNG, return the report lines (raises on failure)."""
    if not out.parent.is_dir():
        raise SnapshotError(f"cannot write {out}: folder {out.parent} does not exist")
    snap = take_snapshot(cfg, frames)
    try:
        draw(snap).save(out, format="PNG")
    except OSError as exc:
        raise SnapshotError(f"cannot write {out}: {exc.strerror or exc}") from None
    width, height = snap.size
    return [f"{out}: {width}x{height}, frame at t={snap.frame.t:.2f} s",
            *(z.line() for z in snap.zones)]


__all__ = ["CameraError", "Snapshot", "SnapshotError", "ZoneReport", "analyse", "draw",
           "grab_frames", "snapshot_command", "take_snapshot"]
