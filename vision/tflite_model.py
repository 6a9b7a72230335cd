"""A LiteRT model fed one letterboxed RGB crop: the part both detectors share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from vision.preprocess.letterbox import Letterbox, fit, place
from vision.preprocess.shrink import plan, shrink_into
from vision.runtime import ModelLoadError, make_interpreter

T = TypeVar("T")
Outputs = tuple[np.ndarray, ...]


@dataclass(slots=True)
class PreparedInput:
    """A staging copy of the model input, filled off the interpreter's own buffer.

    ``pixels`` (INPUT x INPUT x 3 float32) can be written by a worker while the
    interpreter runs; ``padded`` is the geometry whose padding it already holds.
    """

    pixels: np.ndarray
    padded: Letterbox | None = field(default=None)


def fill(pixels: np.ndarray, padded: Letterbox | None, image: np.ndarray, size: int,
         scale: float, offset: float) -> Letterbox:
    """Letterbox ``image`` into ``pixels``; returns the mapping.

    A float32 ``pixels`` gets ``pixel * scale + offset``; a uint8 one (a model
    that normalises inside its graph) gets the pixels as they are, padded
    black. Padding is rewritten only when the geometry differs from ``padded``.
    """
    lb = place(image, size)
    raw = pixels.dtype == np.uint8
    if lb != padded:
        pixels.fill(0 if raw else offset)  # black padding, in the model's range
    rows, cols = lb.inside()
    inside = pixels[rows, cols]
    fast = plan(lb.src_w, lb.src_h, lb.new_w, lb.new_h)
    if fast is not None:  # the usual zone crop: numpy, straight into the input
        shrink_into(image, fast, inside, scale, offset)
        return lb
    resized = fit(image, size)[0]
    if raw:
        inside[...] = resized
        return lb
    # float32 factors keep numpy in float32: a float64 pass costs twice the time.
    np.multiply(resized, np.float32(scale), out=inside, casting="unsafe")
    if offset:
        inside += np.float32(offset)
    return lb


class LetterboxedModel:
    """Interpreter whose own input buffer is filled in place as ``pixel * scale + offset``.

    A model with a uint8 input (the int8 builds, see
    ``vision.models.uint8_input``) takes the pixels themselves and does that
    arithmetic in its graph; its input scale must be ``SCALE``.

    ``prepare`` writes the normalised crop straight into the interpreter's input
    tensor (no staging array, no ``set_tensor`` copy per pass); the padding
    value is written only where the letterbox geometry changed. ``pipeline``
    (behind the subclasses' ``run_many``) instead prepares the next crop into a
    staging buffer on a worker thread while the interpreter runs.

    Subclasses set ``INPUT`` (side in pixels), ``SCALE`` and ``OFFSET`` (the
    model's input range) and read their outputs by name via ``output_index``.
    """

    INPUT: int
    SCALE: float
    OFFSET: float

    def __init__(self, model_path: str | Path, threads: int = 1) -> None:
        self._interp: Any = make_interpreter(model_path, threads)
        detail = self._interp.get_input_details()[0]
        if detail["dtype"] not in (np.float32, np.uint8) or tuple(detail["shape"]) != (
            1, self.INPUT, self.INPUT, 3
        ):
            raise ModelLoadError(
                f"{model_path}: expected a float32 or uint8 1x{self.INPUT}x{self.INPUT}x3 "
                f"input, got {detail['dtype'].__name__} {list(detail['shape'])}"
            )
        if detail["dtype"] == np.uint8 and detail["quantization"] != (
            float(np.float32(self.SCALE)), 0
        ):
            raise ModelLoadError(
                f"{model_path}: its uint8 input is scaled {detail['quantization']}, "
                f"not ({float(np.float32(self.SCALE))}, 0): built for another pixel range"
            )
        self._dtype = detail["dtype"]
        self._input = detail["index"]
        # Holding the accessor (not the array it returns) is what LiteRT allows
        # across invoke().
        self._input_view = self._interp.tensor(self._input)
        self._outputs = {d["name"]: d["index"] for d in self._interp.get_output_details()}
        self._padded: Letterbox | None = None  # geometry whose padding is in the tensor
        self._pool: ThreadPoolExecutor | None = None
        self._staging: PreparedInput | None = None

    def output_index(self, name: str) -> int:
        return int(self._outputs[name])

    @property
    def interpreter(self) -> Any:
        """The underlying LiteRT interpreter (benchmarks compare against it)."""
        return self._interp

    @property
    def input_tensor(self) -> np.ndarray:
        """A copy of the input ``prepare`` filled (1 x INPUT x INPUT x 3, float32 or uint8)."""
        return np.array(self._interp.get_tensor(self._input))

    def prepare(self, image: np.ndarray) -> Letterbox:
        """Letterbox ``image`` into the input tensor in the model's range; returns the mapping."""
        tensor = self._input_view()[0]
        lb = fill(tensor, self._padded, image, self.INPUT, self.SCALE, self.OFFSET)
        self._padded = lb
        del tensor  # no view into the interpreter may outlive prepare
        return lb

    def new_staging(self) -> PreparedInput:
        """A staging buffer for ``prepare_into`` (one per concurrent producer)."""
        return PreparedInput(np.empty((self.INPUT, self.INPUT, 3), self._dtype))

    def prepare_into(self, staging: PreparedInput, image: np.ndarray) -> Letterbox:
        """As ``prepare`` but into ``staging``: safe while the interpreter runs."""
        lb = fill(staging.pixels, staging.padded, image, self.INPUT, self.SCALE, self.OFFSET)
        staging.padded = lb
        return lb

    def load(self, staging: PreparedInput) -> None:
        """Copy a prepared staging buffer into the input tensor (not while invoking)."""
        tensor = self._input_view()[0]
        np.copyto(tensor, staging.pixels)
        self._padded = staging.padded
        del tensor

    def _worker(self) -> ThreadPoolExecutor:
        # One long-lived thread per model: starting one per batch would cost
        # about what the overlap saves.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="letterbox")
            self._staging = self.new_staging()
        return self._pool

    def pipeline(
        self, images: Sequence[np.ndarray], outputs: Callable[[], Outputs],
        decode: Callable[[Outputs, Letterbox], T],
    ) -> list[T]:
        """``decode(outputs(), letterbox)`` for every image, overlapped with inference.

        While the interpreter runs image N (LiteRT releases the GIL), one
        worker letterboxes image N+1 into a staging buffer and decodes image
        N-1's outputs; the main thread only copies the staging buffer in and
        invokes. The first image is prepared and the last decoded on the
        calling thread: nothing runs beside them, and a hand-off costs more
        than it saves there. The main thread never waits for work the worker
        has not started (no free core, on a loaded machine): it cancels it and
        does it itself, so the pipeline is never slower than the sequential
        loop by more than the hand-offs. ``outputs`` must return copies (the
        next invoke overwrites the tensors). Results equal a sequential
        ``prepare`` / ``invoke`` loop bit for bit: the same operations on the
        same values.
        """
        if not images:
            return []
        lb = self.prepare(images[0])
        if len(images) == 1:
            self.invoke()
            return [decode(outputs(), lb)]
        pool = self._worker()
        staging = self._staging
        assert staging is not None
        pending: Future[Letterbox] = pool.submit(self.prepare_into, staging, images[1])
        self.invoke()
        out = outputs()
        decoded: list[tuple[Future[T], Outputs, Letterbox]] = []
        for i in range(1, len(images)):
            if pending.cancel():  # not started: straight into the input, no staging copy
                next_lb = self.prepare(images[i])
            else:
                next_lb = pending.result()
                self.load(staging)
            if i + 1 < len(images):
                pending = pool.submit(self.prepare_into, staging, images[i + 1])
            # Queued behind the prepare the next pass waits on.
            decoded.append((pool.submit(decode, out, lb), out, lb))
            self.invoke()
            out, lb = outputs(), next_lb
        last = decode(out, lb)
        results = [decode(o, b) if f.cancel() else f.result() for f, o, b in decoded]
        return [*results, last]

    def close(self) -> None:
        """Stop the worker thread, if one was started (the model stays usable)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def invoke(self) -> None:
        self._interp.invoke()

    def tensor(self, index: int) -> np.ndarray:
        return self._interp.get_tensor(index)
