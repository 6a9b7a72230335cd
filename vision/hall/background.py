"""The empty hall, learned as the per-pixel median of recent frames.

Samples are taken every ``sample_every_s``; the background is the median of
the last ``history`` samples, so someone who walks through is outvoted. Pixels
that were foreground when a sample was taken keep the background's old value
in that sample (selective update): a person who sits down stays counted
instead of melting into the background as the median catches up.
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


class MedianBackground:
    """Per-pixel median of recent samples; ``ready`` once ``min_samples`` are in."""

    def __init__(self, params: BackgroundParams | None = None) -> None:
        self.params = params or BackgroundParams()
        self._samples: deque[np.ndarray] = deque(maxlen=self.params.history)
        self._next_t: float | None = None
        self._image: np.ndarray | None = None

    @property
    def ready(self) -> bool:
        return len(self._samples) >= self.params.min_samples

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
        sample = frame.astype(np.int16)
        if self.params.selective and mask is not None and self._image is not None and self.ready:
            grown = ndimage.binary_dilation(mask, iterations=2)
            sample = np.where(grown[..., None], self._image, sample)
        self._samples.append(sample)
        self._image = np.median(np.stack(self._samples), axis=0).astype(np.int16)
        return True
