"""``[camera] type = "depthai"``: defaults, bounds and cross-field rules, table-first."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hal.camera.depthai.config import DepthaiCameraConfig


def test_defaults_are_valid_and_give_a_keyframe_every_second() -> None:
    cfg = DepthaiCameraConfig.model_validate({})
    assert (cfg.type, cfg.device_id, cfg.model_path) == ("depthai", None, None)
    assert cfg.keyframe_frequency == 15


@pytest.mark.parametrize(("fps", "interval", "frequency"), [
    (15.0, 1.0, 15), (30.0, 2.0, 60), (25.0, 0.2, 5), (1.0, 0.2, 1), (12.5, 1.0, 12),
])
def test_keyframe_frequency_is_frames_per_interval(fps: float, interval: float,
                                                   frequency: int) -> None:
    cfg = DepthaiCameraConfig.model_validate(
        {"fps": fps, "keyframe_interval_s": interval, "analysis_fps": 1.0})
    assert cfg.keyframe_frequency == frequency


@pytest.mark.parametrize(("field", "value", "rule"), [
    ("fps", 0.5, "greater than or equal to 1"),
    ("fps", 61, "less than or equal to 60"),
    ("record_width", 1281, "multiple of 2"),
    ("record_height", 4000, "less than or equal to 2160"),
    ("record_bitrate", 1000, "greater than or equal to 64000"),
    ("keyframe_interval_s", 10, "less than or equal to 5"),
    ("preview_width", 100, "greater than or equal to 160"),
    ("analysis_fps", 0, "greater than 0"),
    ("confidence_threshold", 1.0, "less than or equal to 0.99"),
    ("person_label", -1, "greater than or equal to 0"),
    ("device_id", "", "at least 1 character"),
    ("device_id", "bad id!", "should match pattern"),
    ("model_path", "/opt/models/person.blob", "must be an NN archive"),
    ("type", "file", "'depthai'"),
    ("colour", "red", "Extra inputs are not permitted"),
])
def test_bad_values_name_the_key_and_the_rule(field: str, value: object, rule: str) -> None:
    with pytest.raises(ValidationError) as err:
        DepthaiCameraConfig.model_validate({field: value})
    text = str(err.value)
    assert field in text and rule in text, text


@pytest.mark.parametrize(("values", "rule"), [
    ({"fps": 10, "analysis_fps": 12}, "must not exceed fps"),
    ({"record_width": 640, "record_height": 360, "preview_width": 800},
     "must fit within the recorded size"),
])
def test_cross_field_rules(values: dict[str, object], rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        DepthaiCameraConfig.model_validate(values)


@pytest.mark.parametrize("name", ["yolov6n.tar.xz", "ssd.tar.gz", "model.tar"])
def test_nn_archives_are_accepted(name: str) -> None:
    cfg = DepthaiCameraConfig.model_validate({"model_path": Path("/opt/counterunit/models") / name})
    assert cfg.model_path is not None and cfg.model_path.name == name


def test_every_field_is_described() -> None:
    for name, field in DepthaiCameraConfig.model_fields.items():
        assert field.description, f"{name} has no description"
