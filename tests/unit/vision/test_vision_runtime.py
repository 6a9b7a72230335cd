"""Interpreter factory: runtime choice, clear errors, nothing loaded on import."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from vision import runtime
from vision.runtime import ModelLoadError, RuntimeMissingError, make_interpreter


def test_missing_model_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="make models"):
        make_interpreter(tmp_path / "absent.tflite")


def test_invalid_model_file_is_a_load_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tflite"
    bogus.write_bytes(b"not a flatbuffer" * 8)
    with pytest.raises(ModelLoadError, match="cannot load"):
        make_interpreter(bogus)


def test_threads_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="threads"):
        make_interpreter(tmp_path / "x.tflite", threads=0)


def test_neither_runtime_installed_names_both(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    def no_runtime(name: str) -> ModuleType:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", no_runtime)
    model = tmp_path / "m.tflite"
    model.write_bytes(b"x")
    with pytest.raises(RuntimeMissingError, match=r"ai-edge-litert.*tflite-runtime"):
        make_interpreter(model)


def test_falls_back_to_tflite_runtime(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made: list[tuple[str, int]] = []

    class FakeInterpreter:
        def __init__(self, model_path: str, num_threads: int) -> None:
            made.append((Path(model_path).name, num_threads))

        def allocate_tensors(self) -> None:
            pass

    fake = ModuleType("tflite_runtime.interpreter")
    fake.Interpreter = FakeInterpreter  # type: ignore[attr-defined]

    def only_tflite(name: str) -> ModuleType:
        if name == "tflite_runtime.interpreter":
            return fake
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", only_tflite)
    model = tmp_path / "m.tflite"
    model.write_bytes(b"x")
    assert isinstance(make_interpreter(model, threads=3), FakeInterpreter)
    assert made == [("m.tflite", 3)]
    assert runtime.RUNTIMES[0] == "ai_edge_litert.interpreter"  # LiteRT stays preferred


def test_importing_vision_loads_no_runtime_or_model() -> None:
    code = (
        "import sys\n"
        "import vision.analyzer, vision.compose.scenes, vision.detector, vision.landmark\n"
        "bad = [m for m in ('ai_edge_litert', 'tflite_runtime', 'firmware') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
