"""A LiteRT model fed one letterboxed RGB crop: the part both detectors share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vision.preprocess import Letterbox, fit
from vision.runtime import ModelLoadError, make_interpreter


class LetterboxedModel:
    """Interpreter whose own input buffer is filled in place as ``pixel * scale + offset``.

    ``prepare`` writes the normalised crop straight into the interpreter's input
    tensor (no staging array, no ``set_tensor`` copy per pass); the padding
    value is written only where the letterbox geometry changed.

    Subclasses set ``INPUT`` (side in pixels), ``SCALE`` and ``OFFSET`` (the
    model's input range) and read their outputs by name via ``output_index``.
    """

    INPUT: int
    SCALE: float
    OFFSET: float

    def __init__(self, model_path: str | Path, threads: int = 1) -> None:
        self._interp: Any = make_interpreter(model_path, threads)
        detail = self._interp.get_input_details()[0]
        if detail["dtype"] != np.float32 or tuple(detail["shape"]) != (
            1, self.INPUT, self.INPUT, 3
        ):
            raise ModelLoadError(
                f"{model_path}: expected a float32 1x{self.INPUT}x{self.INPUT}x3 input, got "
                f"{detail['dtype'].__name__} {list(detail['shape'])}"
            )
        self._input = detail["index"]
        # Holding the accessor (not the array it returns) is what LiteRT allows
        # across invoke().
        self._input_view = self._interp.tensor(self._input)
        self._outputs = {d["name"]: d["index"] for d in self._interp.get_output_details()}
        self._padded: Letterbox | None = None  # geometry whose padding is in the tensor

    def output_index(self, name: str) -> int:
        return int(self._outputs[name])

    @property
    def interpreter(self) -> Any:
        """The underlying LiteRT interpreter (benchmarks compare against it)."""
        return self._interp

    @property
    def input_tensor(self) -> np.ndarray:
        """A copy of the input ``prepare`` filled (1 x INPUT x INPUT x 3, float32)."""
        return np.array(self._interp.get_tensor(self._input))

    def prepare(self, image: np.ndarray) -> Letterbox:
        """Letterbox ``image`` into the input tensor in the model's range; returns the mapping."""
        resized, lb = fit(image, self.INPUT)
        tensor = self._input_view()[0]
        if lb != self._padded:
            tensor.fill(self.OFFSET)  # black padding, in the model's range
            self._padded = lb
        rows, cols = lb.inside()
        inside = tensor[rows, cols]
        np.multiply(resized, self.SCALE, out=inside, casting="unsafe")
        if self.OFFSET:
            inside += self.OFFSET
        del tensor, inside  # no view into the interpreter may outlive prepare
        return lb

    def invoke(self) -> None:
        self._interp.invoke()

    def tensor(self, index: int) -> np.ndarray:
        return self._interp.get_tensor(index)
