"""Zones, letterboxing and parameter validation: bad input gets a clear error."""

from __future__ import annotations

import numpy as np
import pytest

from vision.params import AnalyzerParams, ParamsError
from vision.preprocess.letterbox import ImageError, check_rgb, letterbox
from vision.zones import DEFAULT_ZONES, Zone, ZoneError, check_unique


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", 0, 0, 1, 1), "name"),
        (("a", -0.1, 0, 1, 1), "x0=-0.1"),
        (("a", 0, 0, 1.5, 1), "x1=1.5"),
        (("a", 0.5, 0, 0.5, 1), "x0 < x1"),
        (("a", 0, 0.7, 1, 0.2), "y0 < y1"),
    ],
)
def test_zone_validation(args: tuple, message: str) -> None:
    with pytest.raises(ZoneError, match=message):
        Zone(*args)


@pytest.mark.parametrize(
    ("zone", "size", "pixels"),
    [
        (Zone("l", 0, 0, 0.5, 1), (640, 360), (0, 0, 320, 360)),
        (Zone("r", 0.5, 0, 1, 1), (640, 360), (320, 0, 640, 360)),
        (Zone("tiny", 0.999, 0.999, 1, 1), (100, 100), (99, 99, 100, 100)),  # never empty
    ],
)
def test_zone_pixels(zone: Zone, size: tuple[int, int], pixels: tuple) -> None:
    assert zone.pixels(*size) == pixels
    image = np.zeros((size[1], size[0], 3), np.uint8)
    x0, y0, x1, y1 = pixels
    assert zone.crop(image).shape == (y1 - y0, x1 - x0, 3)


def test_crop_is_a_view_of_the_frame() -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    crop = Zone("r", 0.5, 0, 1, 1).crop(image)
    crop[:] = 7
    assert image[:, 5:].min() == 7 and image[:, :5].max() == 0


def test_overlap() -> None:
    assert Zone("r", 0.5, 0, 1, 1).overlap((0.75, 0, 1.25, 1)) == pytest.approx(0.5)


def test_zone_names_must_be_unique() -> None:
    check_unique(DEFAULT_ZONES)
    with pytest.raises(ZoneError, match="duplicate"):
        check_unique([Zone("a", 0, 0, 1, 1), Zone("a", 0, 0, 0.5, 1)])
    with pytest.raises(ZoneError, match="at least one"):
        check_unique([])


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((10, 10), np.uint8), "H x W x 3"),
        (np.zeros((10, 10, 4), np.uint8), "H x W x 3"),
        (np.zeros((10, 10, 3), np.float32), "uint8"),
        (np.zeros((1, 10, 3), np.uint8), "too small"),
        ([[1, 2, 3]], "numpy array"),
    ],
)
def test_bad_images_are_rejected(image: object, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        check_rgb(image)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("shape", "new", "pad"),
    [
        ((360, 320), (199, 224), (12, 0)),  # tall crop: padded left and right
        ((100, 400), (224, 56), (0, 84)),  # wide crop: padded top and bottom
        ((224, 224), (224, 224), (0, 0)),
    ],
)
def test_letterbox_geometry_and_mapping(shape: tuple[int, int], new: tuple[int, int],
                                        pad: tuple[int, int]) -> None:
    image = np.full((*shape, 3), 255, np.uint8)
    canvas, lb = letterbox(image, 224)
    assert (lb.new_w, lb.new_h) == new and (lb.pad_x, lb.pad_y) == pad
    rows, cols = lb.inside()
    assert canvas[rows, cols].min() == 255
    assert canvas.sum() == 255 * 3 * new[0] * new[1]  # padding is black
    # The image's corners map back to 0 and 1.
    x, y = lb.to_source(np.array([pad[0] / 224, (pad[0] + new[0]) / 224]),
                        np.array([pad[1] / 224, (pad[1] + new[1]) / 224]))
    np.testing.assert_allclose(x, [0, 1], atol=1e-9)
    np.testing.assert_allclose(y, [0, 1], atol=1e-9)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fg_enter": 1.5}, "fg_enter"),
        ({"confirm_mean": 0.2, "reject_mean": 0.3}, "reject_mean"),
        ({"window": 0}, "window"),
        ({"window": 20, "max_passes": 10}, "window"),
        ({"threads": 0}, "threads"),
        ({"recheck_s": 0.0}, "recheck_s"),
        ({"ambiguous": (0.8, 0.2)}, "ambiguous"),
        ({"roi_scale": 0.5}, "roi_scale"),
        ({"evidence": "magic"}, "evidence"),
    ],
)
def test_analyzer_params_validation(changes: dict, message: str) -> None:
    with pytest.raises(ParamsError, match=message):
        AnalyzerParams(**changes)


def test_analyzer_params_defaults_are_valid() -> None:
    params = AnalyzerParams()
    assert params.presence.enter_dwell_s == 2.0 and params.evidence == "combined"
