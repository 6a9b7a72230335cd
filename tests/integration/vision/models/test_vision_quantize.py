"""The int8 build: exact folding, the recorded files, int8 compute, a uint8 input changing nothing.

Real LiteRT and the real models (``make models`` builds the int8 pair).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from vision.detector import PoseDetector
from vision.landmark import PoseLandmark
from vision.model_files import INT8, Precision, load_int8_manifest, resolve_model_files
from vision.models import calibration
from vision.models.fetch import MODELS_DIR, load_manifest, sha256_file
from vision.models.fold import fold_float16
from vision.models.quantize import TARGETS, main
from vision.models.uint8_input import InputError, uint8_input
from vision.runtime import ModelLoadError

MANIFEST = load_int8_manifest()


def ops(interp: Interpreter) -> Counter[str]:
    return Counter(d["op_name"] for d in interp._get_ops_details())


@pytest.mark.parametrize("name", ["pose_detection", "pose_landmark_full"])
def test_folding_float16_weights_changes_no_output(name: str) -> None:
    source = (MODELS_DIR / f"{name}.tflite").read_bytes()
    folded = fold_float16(source)
    a, b = Interpreter(model_content=source), Interpreter(model_content=folded)
    a.allocate_tensors()
    b.allocate_tensors()
    assert ops(a)["DEQUANTIZE"] > 100 and ops(b)["DEQUANTIZE"] == ops(b)["DENSIFY"] == 0
    assert list(b.get_signature_list()) == ["serving_default"]
    shape = a.get_input_details()[0]["shape"]
    x = np.random.default_rng(1).uniform(-1, 1, shape).astype(np.float32)
    for interp in (a, b):
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        interp.invoke()
    for da, db in zip(a.get_output_details(), b.get_output_details(), strict=True):
        assert da["name"] == db["name"]
        np.testing.assert_array_equal(a.get_tensor(da["index"]), b.get_tensor(db["index"]))


def test_built_files_are_the_recorded_build() -> None:
    assert main(["--check"]) == 0
    float_manifest = load_manifest()["models"]
    for target in TARGETS:
        entry = MANIFEST["models"][target.name]
        assert entry["source_sha256"] == float_manifest[target.source]["sha256"]
        assert sha256_file(MODELS_DIR / entry["file"]) == entry["sha256"]
    assert MANIFEST["tool"]["ai-edge-quantizer"] and MANIFEST["calibration"]


@pytest.mark.parametrize(("role", "pipeline"), [("detector", PoseDetector),
                                                ("landmark", PoseLandmark)])
def test_int8_models_compute_in_int8_between_pixels_and_float_outputs(
    role: str, pipeline: type[PoseDetector] | type[PoseLandmark]
) -> None:
    files = resolve_model_files("int8")
    interp = Interpreter(model_path=str(getattr(files, role)))
    interp.allocate_tensors()
    details = interp.get_tensor_details()
    # uint8 pixels in, scaled as the float pipeline scales them; float outputs...
    (inp,) = interp.get_input_details()
    assert inp["dtype"] == np.uint8
    assert inp["quantization"] == (float(np.float32(pipeline.SCALE)), 0)
    assert {d["dtype"] for d in interp.get_output_details()} == {np.float32}
    # ...and most convolutions take int8 activations and int8 weights.
    convs = [d for d in interp._get_ops_details() if d["op_name"].endswith("CONV_2D")]
    int8 = [d for d in convs
            if details[d["inputs"][0]]["dtype"] == np.int8
            and details[d["inputs"][1]]["dtype"] == np.int8]
    assert len(int8) >= 0.6 * len(convs), f"{len(int8)}/{len(convs)} convolutions in int8"


@pytest.mark.parametrize(("source", "pipeline"), [("pose_detection", PoseDetector),
                                                  ("pose_landmark_full", PoseLandmark)])
def test_uint8_input_normalises_in_the_graph_bit_for_bit(
    source: str, pipeline: type[PoseDetector] | type[PoseLandmark], tmp_path: Path
) -> None:
    original = MODELS_DIR / f"{source}.tflite"
    converted = tmp_path / f"{source}_uint8.tflite"
    converted.write_bytes(uint8_input(original.read_bytes(), pipeline.SCALE, pipeline.OFFSET))
    host, graph = pipeline(original), pipeline(converted)
    assert graph.input_tensor.dtype == np.uint8 and host.input_tensor.dtype == np.float32
    images = [img for _, img in calibration.images()][:10]
    results = [host.run(img) for img in images]
    assert [graph.run(img) for img in images] == results
    assert graph.run_many(images[:3]) == results[:3]  # the staging buffer is uint8 too


def test_uint8_input_refuses_a_model_that_already_takes_pixels() -> None:
    once = uint8_input((MODELS_DIR / "pose_detection.tflite").read_bytes(), 2 / 255, -1.0)
    with pytest.raises(InputError, match="not float32"):
        uint8_input(once, 2 / 255, -1.0)


def test_a_pixel_input_scaled_for_another_range_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wrong.tflite"
    # A detector whose graph would read pixels as 0..1, not -1..1.
    path.write_bytes(uint8_input((MODELS_DIR / "pose_detection.tflite").read_bytes(),
                                 1 / 255, 0.0))
    with pytest.raises(ModelLoadError, match="another pixel range"):
        PoseDetector(path)


def test_int8_landmark_agrees_with_float16_on_package_photographs() -> None:
    """A quick per-pass check; the pipeline-level figure is test_quantized_parity."""
    f16 = PoseLandmark(resolve_model_files("float16").landmark)
    i8 = PoseLandmark(resolve_model_files("int8").landmark)
    diffs = [abs(f16.run(img).presence - i8.run(img).presence)
             for _, img in calibration.images()]
    assert float(np.mean(diffs)) < 0.1 and float(np.median(diffs)) < 0.05


@pytest.mark.parametrize("precision", ["float16", "int8"])
def test_prepare_leaves_no_stale_pixels_between_crops(precision: Precision) -> None:
    """prepare writes into the interpreter's buffer; a reused model equals a fresh one."""
    images = [img for _, img in calibration.images()][:6]
    path = resolve_model_files(precision).landmark
    reused = PoseLandmark(path)
    for i, image in enumerate(images):
        reused.prepare(image)
        reused.invoke()
        fresh = PoseLandmark(path)
        fresh.prepare(image)
        np.testing.assert_array_equal(reused.input_tensor, fresh.input_tensor, err_msg=str(i))


def test_check_fails_for_a_folder_without_the_build(tmp_path: Path) -> None:
    assert INT8["detector"] in MANIFEST["models"]
    assert main(["--check", "--dest", str(tmp_path)]) == 1
