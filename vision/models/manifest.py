"""The model manifest as the unit reads it at run time: where the files are, their
sha256, and the error a missing or altered file raises. Fetching them is set-up work
(vision/models/fetch.py), which the running unit never imports.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
MANIFEST = MODELS_DIR / "manifest.json"


class ModelError(RuntimeError):
    """A model file is missing or does not match the manifest."""


def load_manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_path(name: str, models_dir: Path = MODELS_DIR) -> Path:
    """Path of a verified model file; raises ModelError with the fix if absent."""
    entry = load_manifest()["models"][name]
    path = models_dir / entry["file"]
    if not path.exists():
        raise ModelError(f"model {name} missing at {path}; run `make models`")
    return path


def verify(models_dir: Path = MODELS_DIR) -> list[str]:
    """Names of manifest models that are missing or whose sha256 differs."""
    bad = []
    for name, entry in load_manifest()["models"].items():
        path = models_dir / entry["file"]
        if not path.exists() or sha256_file(path) != entry["sha256"]:
            bad.append(name)
    return bad
