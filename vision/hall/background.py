"""The empty hall, learned as the per-pixel median of frames.

Samples are taken every ``sample_every_s``. The first ``history`` samples give
an exact per-pixel median, so people walking through at start-up are outvoted.
From then on the background follows the running-median rule: each sample moves
every pixel at most ``step`` levels towards itself (a median of a long history
for a fraction of the cost: the exact median of 20 frames costs 200-400 ms on
a loaded Pi-class core, this ~2 ms). Pixels that were foreground when a sample
was taken do not move (selective update): a person who sits down stays counted
instead of melting into the background.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True, slots=True)
class BackgroundParams:
    """How the background is learned and how different a pixel must be to be foreground."""

    history: int = 20
    sample_every_s: float = 0.5
    min_samples: int = 6
    threshold: int = 30
    selective: bool = True
    step: int = 4


class MedianBackground:
    """Per-pixel median of recent samples; ``ready`` once ``min_samples`` are in."""

    def __init__(self, params: BackgroundParams | None = None) -> None:
        self.params = params or BackgroundParams()
        self._samples: deque[np.ndarray] = deque(maxlen=self.params.history)
        self._next_t: float | None = None
        self._image: np.ndarray | None = None
        self._taken = 0

    @property
    def ready(self) -> bool:
        return self._taken >= self.params.min_samples

    @property
    def image(self) -> np.ndarray | None:
        """The current background (H x W x 3 int16) or None before the first sample."""
        return self._image

    def foreground(self, frame: np.ndarray) -> np.ndarray:
        """Boolean mask of pixels differing from the background by more than the threshold."""
        if self._image is None:
            return np.zeros(frame.shape[:2], dtype=bool)
        diff = np.abs(frame.astype(np.int16) - self._image).max(axis=2)
        return np.asarray(diff > self.params.threshold)

    def due(self, t: float) -> bool:
        """Whether a sample offered at ``t`` would be taken."""
        return self._next_t is None or t >= self._next_t - 1e-6

    def offer(self, frame: np.ndarray, t: float, mask: np.ndarray | None = None) -> bool:
        """Take ``frame`` as a sample if one is due at ``t``; True when it was taken.

        ``mask`` is the foreground just found in this frame; with selective
        update those pixels (grown by two) keep the old background.
        """
        if not self.due(t):
            return False
        self._next_t = t + self.params.sample_every_s
        self._taken += 1
        sample = frame.astype(np.int16)
        keep = None
        if self.params.selective and mask is not None and self._image is not None and self.ready:
            keep = ndimage.binary_dilation(mask, iterations=2)
        if self._image is None or self._taken <= self.params.history:
            if keep is not None and self._image is not None:
                sample = np.where(keep[..., None], self._image, sample)
            self._samples.append(sample)
            self._image = np.median(np.stack(self._samples), axis=0).astype(np.int16)
            return True
        self._samples.clear()  # learnt: the running rule needs no history
        move = np.clip(sample - self._image, -self.params.step, self.params.step)
        if keep is not None:
            move[keep] = 0
        self._image += move.astype(np.int16)
        return True
