"""Choosing int8 or float16 model files: auto takes int8 only where parity is recorded."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from vision.model_files import ModelSelectionError, resolve_model_files
from vision.models.fetch import ModelError
from vision.models.parity import ParityResult, SceneParity
from vision.preprocess.letterbox import resize

DET, LM = "pose_detection_int8", "pose_landmark_full_int8"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Stand-in model files: selection reads names and sha256, never loads a model."""
    for name in ("pose_detection.tflite", "pose_landmark_full.tflite"):
        (tmp_path / name).write_bytes(b"float16 " + name.encode())
    (tmp_path / f"{DET}.tflite").write_bytes(b"int8 detector")
    (tmp_path / f"{LM}.tflite").write_bytes(b"int8 landmark")
    return tmp_path


def manifest(parity: str) -> dict[str, Any]:
    """A manifest whose parity record is good, failed, absent or for other files."""
    shas = {DET: sha(b"int8 detector"), LM: sha(b"int8 landmark")}
    record: dict[str, Any] | None = {
        "sha256": dict(shas), "agreement": 0.998, "threshold": 0.99, "holds": True,
    }
    assert record is not None
    if parity == "failed":
        record.update(agreement=0.97, holds=False)
    elif parity == "other build":
        record["sha256"][LM] = sha(b"another build")
    elif parity == "absent":
        record = None
    return {
        "models": {DET: {"file": f"{DET}.tflite", "sha256": shas[DET]},
                   LM: {"file": f"{LM}.tflite", "sha256": shas[LM]}},
        "parity": record,
    }


@pytest.mark.parametrize(
    ("precision", "parity", "chosen", "reason"),
    [
        ("auto", "holds", "int8", "parity 0.9980 >= 0.99"),
        ("auto", "failed", "float16", "parity 0.9700 below 0.99"),
        ("auto", "other build", "float16", "not the build whose parity was measured"),
        ("auto", "absent", "float16", "parity not measured"),
        ("int8", "failed", "int8", "below"),  # asked for explicitly: taken, reason kept
        ("float16", "holds", "float16", ""),
    ],
)
def test_precision_choice(folder: Path, precision: Any, parity: str, chosen: str,
                          reason: str) -> None:
    files = resolve_model_files(precision, folder, manifest(parity))
    assert files.precision == chosen
    assert reason in files.reason
    suffix = "_int8.tflite" if chosen == "int8" else ".tflite"
    assert files.detector.name == "pose_detection" + suffix
    assert files.landmark.name == "pose_landmark_full" + suffix
    assert files.detector.parent == folder


def test_auto_falls_back_when_int8_files_are_missing(folder: Path) -> None:
    (folder / f"{LM}.tflite").unlink()
    files = resolve_model_files("auto", folder, manifest("holds"))
    assert files.precision == "float16" and "make models" in files.reason


def test_int8_without_files_is_a_clear_model_error(folder: Path) -> None:
    (folder / f"{DET}.tflite").unlink()
    with pytest.raises(ModelSelectionError, match=r"int8 models unavailable.*make models"):
        resolve_model_files("int8", folder, manifest("holds"))
    assert issubclass(ModelSelectionError, ModelError)  # the CLI prints it as one line


def test_unknown_precision_names_the_choices(folder: Path) -> None:
    with pytest.raises(ModelSelectionError, match=r"auto, int8, float16.*'int4'"):
        resolve_model_files("int4", folder, manifest("holds"))  # type: ignore[arg-type]


def scene(name: str, frames: int, evidence: int, ev_ok: int, state_ok: int,
          interval_ok: int) -> SceneParity:
    return SceneParity(name, frames, evidence, ev_ok, state_ok, interval_ok, (1, 1))


@pytest.mark.parametrize(
    ("scenes", "agreement", "holds"),
    [
        ([scene("a", 100, 100, 100, 100, 100)], 1.0, True),
        ([scene("a", 100, 100, 100, 100, 100), scene("b", 100, 100, 100, 98, 100)], 0.99, True),
        ([scene("a", 200, 180, 177, 200, 200)], 177 / 180, False),  # evidence is lowest
        ([scene("a", 100, 100, 100, 100, 97)], 0.97, False),
    ],
)
def test_parity_figure_is_the_lowest_rate(scenes: list[SceneParity], agreement: float,
                                          holds: bool) -> None:
    result = ParityResult(tuple(scenes))
    assert result.agreement == pytest.approx(agreement)
    assert result.holds is holds
    record = result.record({DET: {"sha256": "x"}, LM: {"sha256": "y"}})
    assert record["sha256"] == {DET: "x", LM: "y"} and record["holds"] is holds
    assert bool(result.disagreements()) is (agreement < 1.0)


def stripes(height: int, width: int) -> Image.Image:
    """One-pixel black and white columns: the pattern that aliases worst."""
    row = (np.arange(width) % 2 * 255).astype(np.uint8)
    return Image.fromarray(np.repeat(np.broadcast_to(row, (height, width))[..., None], 3, -1))


@pytest.mark.parametrize(
    ("src", "dst"),
    [((360, 320), (224, 199)), ((512, 512), (224, 224)), ((342, 548), (140, 224))],
)
def test_resize_averages_fine_texture_instead_of_aliasing(src: tuple[int, int],
                                                          dst: tuple[int, int]) -> None:
    image = stripes(*src)
    out = np.asarray(resize(image, dst[1], dst[0])).astype(np.float32)
    assert out.shape == (*dst, 3)
    nearest = np.asarray(image.resize((dst[1], dst[0]), Image.Resampling.NEAREST))
    assert nearest.std() > 100  # sampling alone turns the stripes into full-contrast bands
    # Averaging k x k samples over each footprint keeps the mean grey and takes
    # most of the contrast out. (Below a shrink of 2, two of the samples can
    # land on one source pixel, so a 1-pixel grating is damped, not erased.)
    assert abs(out.mean() - 127.5) < 12
    assert out.std() < 0.6 * nearest.std()


def test_resize_enlarges_with_bilinear() -> None:
    image = Image.fromarray(np.full((50, 40, 3), 77, np.uint8))
    out = np.asarray(resize(image, 80, 100))
    assert out.shape == (100, 80, 3) and (out == 77).all()
