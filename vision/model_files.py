"""Which model files the unit loads: float16 as shipped, or the int8 builds.

``auto`` takes the int8 pair only when manifest_int8.json records that its
parity with the float models holds *for these very files* (same sha256);
anything else (no int8 build, a rebuild on another platform, parity not
measured or failed) falls back to float16, and says why once in the log.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vision.models.manifest import ModelError, sha256_file

log = logging.getLogger(__name__)

Precision = Literal["auto", "int8", "float16"]
PRECISIONS: tuple[Precision, ...] = ("auto", "int8", "float16")
PACKAGED_DIR = Path(__file__).resolve().parent / "models"
MANIFEST_INT8 = PACKAGED_DIR / "manifest_int8.json"

FLOAT16 = {"detector": "pose_detection.tflite", "landmark": "pose_landmark_full.tflite"}
INT8 = {"detector": "pose_detection_int8", "landmark": "pose_landmark_full_int8"}


class ModelSelectionError(ModelError):
    """The requested precision cannot be served; the message says what to run.

    A ModelError, so the CLI reports it as one line, without a traceback.
    """


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """The detector and landmark model files, their precision and why it was chosen."""

    detector: Path
    landmark: Path
    precision: Literal["int8", "float16"]
    reason: str = ""


def load_int8_manifest(path: Path = MANIFEST_INT8) -> dict[str, Any]:
    """manifest_int8.json, or an empty skeleton when there is none."""
    if not path.is_file():
        return {"models": {}, "parity": None}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def float16_files(models_dir: Path) -> ModelFiles:
    return ModelFiles(models_dir / FLOAT16["detector"], models_dir / FLOAT16["landmark"],
                      "float16")


def int8_status(models_dir: Path, manifest: dict[str, Any]) -> tuple[
    ModelFiles | None, bool, str
]:
    """The int8 pair if present, whether recorded parity holds for it, and why (text)."""
    entries = manifest.get("models", {})
    paths = {}
    for role, name in INT8.items():
        entry = entries.get(name)
        if entry is None:
            return None, False, f"manifest_int8.json has no {name}"
        path = models_dir / entry["file"]
        if not path.is_file():
            return None, False, f"{path} missing (run `make models`)"
        paths[role] = path
    files = ModelFiles(paths["detector"], paths["landmark"], "int8")
    parity = manifest.get("parity")
    if not parity:
        return files, False, "parity not measured"
    for role, name in INT8.items():
        if sha256_file(paths[role]) != parity.get("sha256", {}).get(name):
            return files, False, f"{paths[role].name} is not the build whose parity was measured"
    agreement = float(parity.get("agreement", 0.0))
    threshold = float(parity.get("threshold", 1.0))
    if not parity.get("holds") or agreement < threshold:
        return files, False, f"parity {agreement:.4f} below {threshold:.2f}"
    return files, True, f"parity {agreement:.4f} >= {threshold:.2f} recorded for these files"


def resolve_model_files(precision: Precision = "auto", models_dir: str | Path | None = None,
                        manifest: dict[str, Any] | None = None) -> ModelFiles:
    """The files to load for ``precision`` from ``models_dir`` (default: the packaged folder).

    ``int8`` insists on the int8 files (ModelSelectionError when absent);
    ``auto`` takes them only where recorded parity holds, else float16.
    ``manifest`` replaces manifest_int8.json (tests).
    """
    if precision not in PRECISIONS:
        raise ModelSelectionError(
            f"model_precision must be one of {', '.join(PRECISIONS)}, got {precision!r}"
        )
    folder = Path(models_dir) if models_dir is not None else PACKAGED_DIR
    if precision == "float16":
        return float16_files(folder)
    files, holds, reason = int8_status(
        folder, load_int8_manifest() if manifest is None else manifest
    )
    if files is not None and (holds or precision == "int8"):
        chosen = ModelFiles(files.detector, files.landmark, "int8", reason)
    elif precision == "int8":
        raise ModelSelectionError(f"int8 models unavailable: {reason}")
    else:
        f = float16_files(folder)
        chosen = ModelFiles(f.detector, f.landmark, "float16", f"int8 not used: {reason}")
    log.info("vision models: %s (%s)", chosen.precision, chosen.reason)
    return chosen
