"""A LiteRT model fed one letterboxed RGB crop: the part both detectors share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vision.preprocess import Letterbox, letterbox
from vision.runtime import make_interpreter


class LetterboxedModel:
    """Interpreter plus a reusable square input tensor, filled as ``pixel * scale + offset``.

    Subclasses set ``INPUT`` (side in pixels), ``SCALE`` and ``OFFSET`` (the
    model's input range) and read their outputs by name via ``output_index``.
    """

    INPUT: int
    SCALE: float
    OFFSET: float

    def __init__(self, model_path: str | Path, threads: int = 1) -> None:
        self._interp: Any = make_interpreter(model_path, threads)
        self._input = self._interp.get_input_details()[0]["index"]
        self._outputs = {d["name"]: d["index"] for d in self._interp.get_output_details()}
        self._canvas = np.zeros((self.INPUT, self.INPUT, 3), np.uint8)
        self._tensor = np.zeros((1, self.INPUT, self.INPUT, 3), np.float32)

    def output_index(self, name: str) -> int:
        return int(self._outputs[name])

    @property
    def interpreter(self) -> Any:
        """The underlying LiteRT interpreter (benchmarks compare against it)."""
        return self._interp

    @property
    def input_tensor(self) -> np.ndarray:
        """The input buffer ``prepare`` fills (1 x INPUT x INPUT x 3, float32)."""
        return self._tensor

    def prepare(self, image: np.ndarray) -> Letterbox:
        """Letterbox ``image`` into the input tensor in the model's range; returns the mapping."""
        canvas, lb = letterbox(image, self.INPUT, self._canvas)
        np.multiply(canvas, self.SCALE, out=self._tensor[0], casting="unsafe")
        if self.OFFSET:
            self._tensor += self.OFFSET
        return lb

    def invoke(self) -> None:
        self._interp.set_tensor(self._input, self._tensor)
        self._interp.invoke()

    def tensor(self, index: int) -> np.ndarray:
        return self._interp.get_tensor(index)
