"""``counterunit zones snapshot`` on the file camera playing a composed scene: a real person
(bb1_front, from opencv-doc) stands in the customer zone, the seat is empty.

Real parts throughout: PyAV file camera, the configured SceneAnalyzer with the
LiteRT models, Pillow drawing; the PNG is read back and its pixels checked.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from firmware.cli.install import add_parsers
from firmware.config.unit import parse_config
from firmware.tools.zones_snapshot import (
    DETECTION_COLOUR,
    ZONE_COLOURS,
    ZONE_LINE,
    Snapshot,
    SnapshotError,
    ZoneReport,
    draw,
    grab_frames,
    take_snapshot,
)
from hal.camera.base import Capture, Frame
from vision.compose.scenes import Appearance, SceneSpec, compose

SIZE = (640, 360)
SPEC = SceneSpec(2.0, fps=10, size=SIZE, appearances=(
    Appearance("bb1_front", "customer", 0, 2, enter_s=0.0),))


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snapshot") / "customer_only.mp4"
    truth = compose(SPEC, path)
    assert truth.intervals["customer"] == [(0, 2.0)] and not truth.intervals.get("seat")
    return path


def write_config(folder: Path, video: Path) -> Path:
    cfg = folder / "unit.toml"
    cfg.write_text(f'[camera]\ntype = "file"\npath = "{video}"\nrealtime = false\n'
                   'analysis_width = 480\n')
    return cfg


def cli(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser(prog="counterunit")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    code: int = args.func(args)
    return code


def test_snapshot_of_a_customer_and_an_empty_seat(scene: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "zones.png"
    assert cli("zones", "snapshot", "--config", write_config(tmp_path, scene),
               "--out", out, "--frames", "3") == 0
    report = capsys.readouterr().out.splitlines()
    assert report[0] == f"{out}: 480x270, frame at t=0.40 s"
    seat = re.match(r"seat: person seen no \(score (\d\.\d\d)", report[1])
    customer = re.match(r"customer: person seen yes \(score (\d\.\d\d)", report[2])
    assert seat and float(seat[1]) < 0.5, report[1]
    assert customer and float(customer[1]) >= 0.5, report[2]

    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape == (270, 480, 3)  # the analysis resolution, not the video's 640x360
    # Zone borders in the zone colours, inside each zone: seat = left half, customer = right.
    mid = slice(40, 200)
    assert (image[mid, 0:ZONE_LINE] == ZONE_COLOURS[0]).all()
    assert (image[mid, 240 - ZONE_LINE:240] == ZONE_COLOURS[0]).all()
    assert (image[mid, 240:240 + ZONE_LINE] == ZONE_COLOURS[1]).all()
    assert (image[mid, 480 - ZONE_LINE:480] == ZONE_COLOURS[1]).all()
    assert (image[0:ZONE_LINE, 100:140] == ZONE_COLOURS[0]).all()
    # The detector's box is drawn in the customer zone only.
    yellow = (image == DETECTION_COLOUR).all(axis=2)
    assert yellow[:, 240:].sum() > 100 and yellow[:, :240].sum() == 0


def test_missing_camera_is_a_clear_error(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "zones.png"
    code = cli("zones", "snapshot", "--config", write_config(tmp_path, tmp_path / "gone.mp4"),
               "--out", out)
    err = capsys.readouterr().err
    assert code == 1 and err == f"camera error: {tmp_path / 'gone.mp4'}: no such file\n"
    assert not out.exists()


def test_bad_config_and_bad_output_folder(scene: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("zones", "snapshot", "--config", tmp_path / "none.toml", "--out",
               tmp_path / "z.png") == 2
    assert "file not found" in capsys.readouterr().err
    assert cli("zones", "snapshot", "--config", write_config(tmp_path, scene), "--out",
               tmp_path / "no/such/dir/z.png") == 1
    assert capsys.readouterr().err == (
        f"error: cannot write {tmp_path / 'no/such/dir/z.png'}: folder "
        f"{tmp_path / 'no/such/dir'} does not exist\n")


def test_take_snapshot_scores_every_zone(scene: Path, tmp_path: Path) -> None:
    cfg = parse_config({"camera": {"type": "file", "path": str(scene), "realtime": False}})
    snap = take_snapshot(cfg, frames=1)
    assert snap.size == SIZE
    seat, customer = snap.zones
    assert (seat.zone, seat.person, customer.zone, customer.person) == (
        "seat", False, "customer", True)
    assert customer.box == (320, 0, 640, 360) and seat.box == (0, 0, 320, 360)
    assert customer.landmark is not None and customer.landmark > 0.5
    for _, x0, y0, x1, y1 in customer.detections:  # boxes land inside the customer zone
        assert 320 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 360


class StandInCamera:
    """A live camera that never delivers a frame: frame-less captures, per the convention."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def captures(self) -> Iterator[Capture]:
        while not self.stopped:
            self.clock[0] += 0.5
            yield Capture(self.clock[0], None, ())


def test_no_frame_within_the_deadline() -> None:
    now = [0.0]
    camera = StandInCamera(now)
    with pytest.raises(SnapshotError, match="no frame within 3 s"):
        grab_frames(camera, 2, timeout_s=3.0, clock=lambda: now[0])  # type: ignore[arg-type]
    assert camera.started and camera.stopped and now[0] == pytest.approx(3.5)


def test_draw_legend_and_size_without_models() -> None:
    image = np.full((120, 200, 3), 128, np.uint8)
    zones = (
        ZoneReport("seat", ZONE_COLOURS[0], (0, 0, 100, 120), False, 0.01, 0.01, None, (), None),
        ZoneReport("customer", ZONE_COLOURS[1], (100, 0, 200, 120), True, 0.93, 0.93, 0.81,
                   ((0.81, 120, 10, 180, 100),), 0.4),
    )
    picture = np.asarray(draw(Snapshot(Frame(image, 1.0), zones)))
    assert picture.shape == (120, 200, 3)
    assert (picture[30:60, 100:100 + ZONE_LINE] == ZONE_COLOURS[1]).all()
    assert (picture[30:60, 120] == DETECTION_COLOUR).all()
    # Legend text in each zone's colour sits in the darkened bottom band.
    band = picture[80:]
    for colour in ZONE_COLOURS[:2]:
        assert (band == colour).all(axis=2).any()
    assert zones[1].line() == ("customer: person seen yes (score 0.93, landmark 0.93, "
                               "detector 0.81, 1 box(es), foreground 40%)")
    assert zones[0].legend() == "seat: person no, score 0.01, detector boxes none"
