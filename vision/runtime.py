"""TFLite interpreter factory: LiteRT first, tflite_runtime as a fallback.

Nothing is imported at module import time, so importing ``vision`` never
loads a native runtime; the choice happens when a model is first opened.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Module paths tried in order; both expose the same ``Interpreter`` class.
RUNTIMES: tuple[str, ...] = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")


class RuntimeMissingError(RuntimeError):
    """No TFLite runtime is installed."""


class ModelLoadError(RuntimeError):
    """A model file is missing or the runtime refused it."""


def _interpreter_class() -> Any:
    for name in RUNTIMES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        return module.Interpreter
    raise RuntimeMissingError(
        "no TFLite runtime found: install `ai-edge-litert` (preferred) or `tflite-runtime`"
    )


def make_interpreter(model_path: str | Path, threads: int = 1) -> Any:
    """An interpreter with tensors allocated for ``model_path``.

    XNNPACK is LiteRT's default CPU delegate, so ``threads`` is what sets the
    parallelism. Raises RuntimeMissingError when neither runtime is installed
    and ModelLoadError when the file is absent or not a valid model.
    """
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    path = Path(model_path)
    if not path.is_file():
        raise ModelLoadError(f"model file not found: {path} (run `make models`)")
    cls = _interpreter_class()
    try:
        interpreter = cls(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"cannot load model {path}: {exc}") from exc
    log.debug("loaded %s with %d thread(s) via %s", path.name, threads, cls.__module__)
    return interpreter
