"""Build the full-int8 models from the shipped float16 ones (``make models``).

    python -m vision.models.quantize [--dest DIR] [--force] [--parity] [--check]

Each float16 model is folded to float32 (vision.models.fold), calibrated on
package photographs (vision.models.calibration) and quantized by
ai-edge-quantizer's static int8 recipe: int8 weights (per channel) and int8
activations. The float input is kept while quantizing (calibration feeds
what the float models take), and so are the output heads (the last
convolutions and what follows): their logits span hundreds of units, where
int8 steps would make the person score coarse. The interpreter runs the rest
in int8 through XNNPACK. Last, the input becomes uint8 pixels normalised in
the graph (vision.models.uint8_input; outputs bit-identical), so the host
only copies the letterboxed crop in.

The result is byte-identical for the pinned tool versions on the same
platform; the manifest (manifest_int8.json) records its sha256. A rebuild that
differs (another platform or tool version) is kept but flagged, and
``auto`` precision then uses float16 until ``--parity`` re-measures agreement
with the float models on the composed scenes and records it. Build time only:
nothing here runs on the unit, nothing is downloaded at run time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from vision.model_files import MANIFEST_INT8, load_int8_manifest
from vision.models import calibration
from vision.models.fetch import MODELS_DIR, ModelError, fetch, load_manifest, sha256_file
from vision.models.fold import fold_float16
from vision.models.uint8_input import uint8_input

log = logging.getLogger(__name__)

TOOL = "ai-edge-quantizer"
RECIPE = "static_wi8_ai8 (min-max, int8 per-channel weights, int8 activations)"
CALIBRATION_THREADS = 2


# (op index in the folded graph, name of its first output) -> keep this op float?
FloatOps = Callable[[int, str], bool]


@dataclass(frozen=True, slots=True)
class Target:
    """One model to quantize: its float source, output file and the ops kept float.

    ``float_ops`` is measured, not guessed (docs/vision.md, Quantization): the
    ops whose int8 error moved the person score. Op indices are those of the
    folded graph of the source model, whose sha256 the manifest pins.
    """

    name: str
    source: str  # entry in the float manifest
    file: str
    kind: str  # "detector" or "landmark": which pre-processing the calibration uses
    float_ops: FloatOps
    float_note: str


def _detector_float(index: int, name: str) -> bool:
    # The SSD heads: score logits span hundreds of units, int8 steps of ~2 would
    # make the person score coarse (and cap it at 0.5 when calibration saw no
    # positive logit).
    return bool(re.search(r"classifier_person|regressor_person", name)) or name.startswith(
        "Identity"
    )


def _landmark_float(index: int, name: str) -> bool:
    # Ops 0-3 (the 128x128 stem) and 96 on (the 8x8..1x1 regression branch that
    # ends in the pose flag) carry the int8 error that moved the flag most.
    return index <= 3 or index >= 96 or name.startswith("Identity")


TARGETS: tuple[Target, ...] = (
    Target("pose_detection_int8", "pose_detection", "pose_detection_int8.tflite", "detector",
           _detector_float, "SSD classifier/regressor heads and outputs"),
    Target("pose_landmark_full_int8", "pose_landmark_full", "pose_landmark_full_int8.tflite",
           "landmark", _landmark_float,
           "stem ops 0-3 (128x128), regression branch ops 96-139 (pose flag), outputs"),
)


class QuantizeError(RuntimeError):
    """The quantizer is missing or failed; the message says what to do."""


def _versions() -> dict[str, str]:
    out = {}
    for package in (TOOL, "ai-edge-litert"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "missing"
    return out


def _inputs(kind: str, models_dir: Path) -> Iterator[dict[str, Any]]:
    """Calibration inputs, pre-processed exactly as the pipeline does."""
    from vision.detector import PoseDetector
    from vision.landmark import PoseLandmark

    model: PoseDetector | PoseLandmark
    if kind == "detector":
        model = PoseDetector(models_dir / "pose_detection.tflite")
    else:
        model = PoseLandmark(models_dir / "pose_landmark_full.tflite")
    for _, image in calibration.images():
        model.prepare(image)
        yield {"input_1": model.input_tensor.copy()}


def float_scope_regex(folded: bytes, keep: FloatOps) -> tuple[str, int]:
    """An exact regex on op scopes selecting the ops ``keep`` names; and their count.

    ai-edge-quantizer selects ops by a regex on their scope (output tensor names).
    """
    from ai_edge_litert.tools import flatbuffer_utils as fb
    from ai_edge_quantizer.utils import tfl_flatbuffer_utils

    model = fb.read_model_from_bytearray(bytearray(folded))
    sg = model.subgraphs[0]
    scopes = [
        tfl_flatbuffer_utils.get_op_scope(op, sg.tensors)
        for k, op in enumerate(sg.operators)
        if keep(k, sg.tensors[op.outputs[0]].name.decode())
    ]
    if not scopes:
        return r"(?!)", 0
    return "^(?:" + "|".join(re.escape(s) for s in scopes) + ")$", len(scopes)


def _quantize_one(target: Target, models_dir: Path) -> bytes:
    try:
        from ai_edge_quantizer import algorithm_manager, qtyping, quantizer
    except ImportError as exc:
        raise QuantizeError(
            f"{TOOL} is not installed: run `make models` "
            "(the development lock requirements/dev.txt has it)"
        ) from exc
    source = models_dir / load_manifest()["models"][target.source]["file"]
    folded = fold_float16(source.read_bytes())
    q = quantizer.Quantizer(bytearray(folded))
    ops = qtyping.TFLOperationName.ALL_SUPPORTED
    q.add_static_config(".*", ops, activation_num_bits=8, weight_num_bits=8)
    # Later entries win: the model input and the measured ops stay float.
    no_quant = algorithm_manager.AlgorithmName.NO_QUANTIZE
    regex, _ = float_scope_regex(folded, target.float_ops)
    q.update_quantization_recipe(regex, ops, algorithm_key=no_quant)
    q.update_quantization_recipe(".*", qtyping.TFLOperationName.INPUT, algorithm_key=no_quant)
    q.update_quantization_recipe(".*", qtyping.TFLOperationName.OUTPUT, algorithm_key=no_quant)
    data = list(_inputs(target.kind, models_dir))
    # The tool prints progress bars and a report on stdout/stderr: keep make quiet.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        ranges = q.calibrate({"serving_default": data}, num_threads=CALIBRATION_THREADS)
        result = q.quantize(ranges, enable_progress_bar=False, enable_progress_report=False)
    if result.quantized_model is None:
        raise QuantizeError(f"{TOOL} produced no model for {target.name}")
    from vision.detector import PoseDetector
    from vision.landmark import PoseLandmark

    pipeline = PoseDetector if target.kind == "detector" else PoseLandmark
    return uint8_input(bytes(result.quantized_model), pipeline.SCALE, pipeline.OFFSET)


def _entry(target: Target, path: Path, models_dir: Path) -> dict[str, Any]:
    src = load_manifest()["models"][target.source]
    return {
        "file": target.file,
        "sha256": sha256_file(path),
        "input": src["input"],
        "input_type": "uint8 RGB pixels; the graph computes pixel * scale + offset",
        "source": target.source,
        "source_sha256": src["sha256"],
        "float_ops": target.float_note,
    }


def build(models_dir: Path = MODELS_DIR, force: bool = False) -> dict[str, dict[str, Any]]:
    """Make every int8 model present in ``models_dir``; returns their manifest entries.

    Files already matching the manifest's sha256 are kept unless ``force``.
    """
    fetch(models_dir)  # the float sources, verified (idempotent)
    recorded = load_int8_manifest()["models"]
    entries = {}
    from rich.console import Console
    from rich.progress import track

    # The bar on a terminal only: make's logs and the tests read plain lines.
    for target in track(TARGETS, description="quantising int8 models", transient=True,
                        console=Console(stderr=True), disable=not sys.stderr.isatty()):
        path = models_dir / target.file
        want = recorded.get(target.name, {}).get("sha256")
        if not force and path.is_file() and sha256_file(path) == want:
            entries[target.name] = _entry(target, path, models_dir)
            continue
        start = time.perf_counter()
        partial = path.with_suffix(".partial")
        partial.write_bytes(_quantize_one(target, models_dir))
        partial.replace(path)
        entries[target.name] = entry = _entry(target, path, models_dir)
        same = entry["sha256"] == want
        log.info("%s built in %.1f s, sha256 %s (%s)", target.file, time.perf_counter() - start,
                 entry["sha256"][:12], "as recorded" if same else "NOT the recorded one")
        if not same:
            print(f"warning: {target.file} differs from manifest_int8.json ({want}); "
                  "auto precision uses float16 until `python -m vision.models.quantize "
                  "--parity` records agreement for it", file=sys.stderr)
    return entries


def write_manifest(entries: dict[str, dict[str, Any]], parity: dict[str, Any] | None,
                   path: Path = MANIFEST_INT8) -> None:
    """Record the built models, the tool versions, the calibration set and parity."""
    data = {
        "note": "Built by `python -m vision.models.quantize` (make models) from the float16 "
                "models in manifest.json; never downloaded.",
        "tool": _versions(),
        "recipe": RECIPE + "; each model's float_ops stay float; the input is uint8 "
                  "pixels, normalised in the graph (DEQUANTIZE, ADD) as the float pipeline does",
        "calibration": calibration.describe(),
        "models": entries,
        "parity": parity,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dest", type=Path, default=MODELS_DIR)
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--parity", action="store_true",
                        help="measure agreement with the float models and record it")
    parser.add_argument("--check", action="store_true",
                        help="only verify the int8 files against the manifest")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    if args.check:
        recorded = load_int8_manifest()["models"]
        bad = [t.file for t in TARGETS
               if not (args.dest / t.file).is_file()
               or sha256_file(args.dest / t.file) != recorded.get(t.name, {}).get("sha256")]
        for name in bad:
            print(f"{name}: missing or not the recorded build", file=sys.stderr)
        return 1 if bad else 0
    try:
        entries = build(args.dest, args.force)
    except (ModelError, QuantizeError, OSError) as exc:
        print(f"quantization failed: {exc}", file=sys.stderr)
        return 1
    if not args.parity:
        print(f"int8 models ready in {args.dest}")
        return 0
    from vision.model_files import ModelFiles
    from vision.models.parity import measure

    int8 = ModelFiles(args.dest / entries["pose_detection_int8"]["file"],
                      args.dest / entries["pose_landmark_full_int8"]["file"], "int8")
    result = measure(args.dest, int8_files=int8)
    print(result.summary())
    write_manifest(entries, result.record(entries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
