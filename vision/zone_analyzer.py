"""One zone's evidence loop: foreground gate, model passes, confirmation, latch.

Modes:
  empty    nothing there, or only things judged not a person. No inference
           while the view matches the reference (or the last verdict).
  pending  something new: model passes accumulate until their windowed mean
           confirms or rules out a person. Frames are held back meanwhile and
           released with the verdict, so arrivals are backdated to the first
           frame of the episode.
  present  a confirmed person. Latched while the foreground stays (or, with no
           reference yet, while the view does not change much); re-checked
           every ``recheck_s`` and whenever the view changes.
  verify   a re-check came out low: passes accumulate as in pending; the held
           frames become positives if the person is confirmed again, negatives
           otherwise (so a departure is dated at the last positive frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from vision.evidence import Evidence, Scorer
from vision.foreground import Comparison, EmptyReference, compare, thumbnail
from vision.params import AnalyzerParams

Mode = Literal["empty", "pending", "present", "verify"]


@dataclass(frozen=True, slots=True)
class ZoneObservation:
    """What one zone saw in one frame, for logs and debugging.

    ``observed`` is None while the frame is held back (pending/verify).
    ``evidence`` is None when no model ran on this frame.
    """

    zone: str
    t: float
    mode: Mode
    foreground: float | None
    gain: float | None
    evidence: Evidence | None
    observed: bool | None


class ZoneAnalyzer:
    """Turns one zone's crops into time-stamped person observations."""

    def __init__(self, zone: str, params: AnalyzerParams, scorer: Scorer) -> None:
        self.zone = zone
        self.params = params
        self.scorer = scorer
        self.reference = EmptyReference(params.foreground)
        self.mode: Mode = "empty"
        self.passes = 0
        self._prev_thumb: np.ndarray | None = None
        self._prev_t: float | None = None
        self._check_thumb: np.ndarray | None = None  # view at the last model pass
        self._check_t = -np.inf
        self._held: list[float] = []
        self._scores: list[float] = []
        self.last: ZoneObservation | None = None

    def _window_verdict(self) -> bool | None:
        p = self.params
        s = self._scores
        if len(s) >= p.window:
            mean = float(np.mean(s[-p.window :]))
            if mean >= p.confirm_mean:
                return True
            if mean < p.reject_mean:
                return False
        if len(s) >= p.max_passes:
            return float(np.mean(s)) >= p.person_score
        return None

    def _run_model(self, crop: np.ndarray, cmp: Comparison | None, thumb: np.ndarray, t: float) -> (
        Evidence
    ):
        ev = self.scorer.score(crop, None if cmp is None else cmp.mask)
        self.passes += 1
        self._check_thumb = thumb
        self._check_t = t
        return ev

    def _release(self, value: bool, t: float) -> list[tuple[bool, float]]:
        out = [(value, ht) for ht in self._held]
        self._held, self._scores = [], []
        return out

    def process(self, crop: np.ndarray, t: float) -> list[tuple[bool, float]]:
        """Feed the zone's crop at time ``t``; returns (observed, at) pairs, in order.

        Usually one pair for ``t``; none while frames are held back; several
        when a verdict releases held frames.
        """
        p = self.params
        thumb = thumbnail(crop, p.foreground.grid)
        cmp = self.reference.compare(thumb)
        fg = None if cmp is None else cmp.fraction
        dt = 0.0 if self._prev_t is None else max(0.0, t - self._prev_t)
        stable = (
            self._prev_thumb is not None
            and compare(thumb, self._prev_thumb, p.foreground).fraction <= p.stable_fraction
        )
        changed = (
            self._check_thumb is None
            or compare(thumb, self._check_thumb, p.foreground).fraction > p.change_fraction
        )
        since_check = t - self._check_t
        self._prev_thumb, self._prev_t = thumb, t
        out: list[tuple[bool, float]] = []
        ev: Evidence | None = None

        if self.mode == "empty":
            looks_empty = fg is not None and fg < p.fg_enter
            known_thing = not changed and since_check < p.idle_recheck_s
            if looks_empty or known_thing:
                out.append((False, t))
                self.reference.learn(thumb, cmp, dt, person=False, stable=stable)
            else:
                self.mode = "pending"

        if self.mode == "present":
            if fg is not None and fg < p.fg_hold:
                self.mode = "empty"
                self._check_thumb = None  # that view held a person: no verdict to reuse
                out.append((False, t))
            elif changed or since_check >= p.recheck_s:
                ev = self._run_model(crop, cmp, thumb, t)
                if ev.score >= p.person_score:
                    out.append((True, t))
                else:
                    self.mode = "verify"
                    self._held, self._scores = [t], [ev.score]
            else:
                out.append((True, t))

        elif self.mode in ("pending", "verify"):
            was_verify = self.mode == "verify"
            if fg is not None and fg < (p.fg_hold if was_verify else p.fg_enter):
                # Whatever it was has gone. A confirmed person stayed latched by
                # the foreground until now, so doubts raised meanwhile are moot.
                out.extend(self._release(was_verify, t))
                out.append((False, t))
                self.mode = "empty"
                self._check_thumb = None
            else:
                ev = self._run_model(crop, cmp, thumb, t)
                self._held.append(t)
                self._scores.append(ev.score)
                verdict = self._window_verdict()
                if verdict is not None:
                    out.extend(self._release(verdict, t))
                    # In "empty" the last checked view is now a known non-person.
                    self.mode = "present" if verdict else "empty"

        self.last = ZoneObservation(
            self.zone, t, self.mode, fg, None if cmp is None else cmp.gain, ev,
            out[-1][0] if out and out[-1][1] == t else None,
        )
        return out

