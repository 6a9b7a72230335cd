"""One zone's evidence loop: foreground gate, model passes, confirmation, latch.

Modes:
  empty    nothing there, or only things judged not a person. No inference
           while the view matches the reference (or the last verdict).
  pending  something new: model passes accumulate until their windowed mean
           confirms or rules out a person. Frames are held back meanwhile and
           released with the verdict, so arrivals are backdated to the first
           frame of the episode.
  present  a confirmed person. Latched while the foreground stays; re-checked
           every ``recheck_s`` and whenever the view moves away from the one
           the person was last confirmed in. A low pass is a model dip, not a
           departure, while the view is unmoved or most of the person's
           foreground blocks are still foreground (they turned round).
  verify   the view moved, the foreground changed and a pass came out low:
           passes accumulate as in pending; the held frames become positives
           unless a window of passes rules the person out (so a departure is
           dated at the last positive frame).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from vision.evidence import Evidence, Scorer
from vision.foreground import Comparison, EmptyReference, compare, thumbnail
from vision.params import AnalyzerParams
from vision.track.blob import BlobParams, follow, moving
from vision.track.signature import signature

Mode = Literal["empty", "pending", "present", "verify"]
Pairs = list[tuple[bool, float]]
# Yields the frame whose crop needs a model pass, is sent its Evidence back.
Step = Generator["_Frame", Evidence, None]


@dataclass(frozen=True, slots=True)
class ZoneObservation:
    """What one zone saw in one frame, for logs and debugging.

    ``observed`` is None while the frame is held back (pending/verify).
    ``evidence`` is None when no model ran on this frame. ``mask`` is the
    foreground block mask (None until a reference is learned).
    """

    zone: str
    t: float
    mode: Mode
    foreground: float | None
    gain: float | None
    evidence: Evidence | None
    observed: bool | None
    mask: np.ndarray | None = None


@dataclass(slots=True)
class _Frame:
    """One frame's working data inside ``ZoneAnalyzer.process``."""

    crop: np.ndarray
    t: float
    thumb: np.ndarray
    cmp: Comparison | None
    dt: float
    stable: bool
    motion: np.ndarray | None = None  # blocks changed since the previous frame
    evidence: Evidence | None = None

    @property
    def mask(self) -> np.ndarray | None:
        """The foreground block mask the scorer is given (None without a reference)."""
        return None if self.cmp is None else self.cmp.mask


def finish(step: Step, evidence: Evidence) -> None:
    """Send a step (that yielded its frame) the Evidence and let it run to its end."""
    try:
        step.send(evidence)
    except StopIteration:
        return
    raise RuntimeError("a zone asked for a second model pass in one frame")


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
        self._check_t = -np.inf  # time of the last model pass
        self._person_thumb: np.ndarray | None = None  # view at the last positive pass
        self._person_mask: np.ndarray | None = None  # its foreground blocks
        self._blob: np.ndarray | None = None  # those blocks, followed frame to frame
        self._walking = False  # this frame: the blob was followed and moved
        self.blob_params = BlobParams(min_share=params.fg_hold)
        self._verdict_thumb: np.ndarray | None = None  # view last judged not a person
        self._thing_mask: np.ndarray | None = None  # its foreground (an object, say)
        self._held: list[float] = []
        self._scores: list[float] = []
        self._sigs: dict[float, np.ndarray | None] = {}  # appearance per unreleased frame
        self.last: ZoneObservation | None = None

    def signature_at(self, t: float) -> np.ndarray | None:
        """The appearance signature of the frame at ``t`` (released frames only), once."""
        return self._sigs.pop(t, None)

    def _signature(self, f: _Frame) -> np.ndarray | None:
        if f.cmp is None:
            return None  # no empty reference yet: the person cannot be told from the room
        mask = f.cmp.mask if self._thing_mask is None else f.cmp.mask & ~self._thing_mask
        return signature(f.thumb, mask, f.cmp.gain)

    def _window_verdict(self, verifying: bool) -> bool | None:
        p = self.params
        s = self._scores
        if len(s) >= p.window:
            mean = float(np.mean(s[-p.window :]))
            if mean >= p.confirm_mean:
                return True
            if mean < p.reject_mean:
                return False
        if len(s) >= p.max_passes:
            # Undecided: a newcomer must prove to be a person, a confirmed
            # person must be proven gone.
            return verifying or float(np.mean(s)) >= p.person_score
        return None

    def _covered(self, f: _Frame) -> bool | None:
        """Are most of the confirmed person's foreground blocks still foreground?

        None without a reference (no foreground to judge by).
        """
        mask = self._person_mask
        if f.cmp is None or mask is None:
            return None
        if not mask.any():
            return False
        kept = np.count_nonzero(f.cmp.mask & mask) / np.count_nonzero(mask)
        return bool(kept >= self.params.fg_keep)

    def _followed(self, f: _Frame) -> bool:
        """Is the confirmed person's foreground blob still followed into this frame?

        Called once per frame while present or verifying: the blob moves on
        with the person (vision/track/blob.py), so someone who walks about the
        zone unseen by the models stays there until their blob is lost. Only a
        blob that moved since the previous frame counts: what a departing
        customer leaves behind (a bag) is still, and a still person is held
        by ``_covered`` or by the models.
        """
        if f.cmp is None:
            self._blob = None
            return False
        fg = f.cmp.mask if self._thing_mask is None else f.cmp.mask & ~self._thing_mask
        self._blob = follow(self._blob, fg, self.blob_params)
        self._walking = self._blob is not None and moving(self._blob, f.motion,
                                                          self.blob_params)
        return self._walking

    def _still_there(self, f: _Frame) -> tuple[bool, bool]:
        """(moved, still there): has the view left the confirmed one, is the person there?

        With a reference the person is there while most of their foreground
        blocks are, or while their blob is followed; without one, while the
        view has not moved.
        """
        covered = self._covered(f)
        followed = self._followed(f)
        moved = self._differs(f.thumb, self._person_thumb) or covered is False
        return moved, (covered or followed if covered is not None else not moved)

    def _confirmed(self, f: _Frame) -> None:
        self._person_thumb = f.thumb
        if f.cmp is None:
            self._person_mask = self._blob = None
            return
        # Blocks that were already foreground before the person came (a box on
        # the counter) are not the person's: they must not keep them present.
        mask = f.cmp.mask.copy()
        if self._thing_mask is not None:
            mask &= ~self._thing_mask
        self._person_mask = mask
        self._blob = mask.copy()

    def _rejected(self, f: _Frame) -> None:
        self._blob = None
        self._verdict_thumb = f.thumb
        self._thing_mask = None if f.cmp is None else f.cmp.mask.copy()

    def _cleared(self) -> None:
        self._verdict_thumb = None
        self._thing_mask = None
        self._blob = None

    def _run_model(self, f: _Frame) -> Generator[_Frame, Evidence, Evidence]:
        f.evidence = yield f
        self.passes += 1
        self._check_t = f.t
        return f.evidence

    def _release(self, value: bool) -> list[tuple[bool, float]]:
        out = [(value, ht) for ht in self._held]
        self._held, self._scores = [], []
        return out

    def _differs(self, thumb: np.ndarray, other: np.ndarray | None) -> bool:
        if other is None:
            return True
        return compare(thumb, other, self.params.foreground).fraction > self.params.change_fraction

    def process(self, crop: np.ndarray, t: float) -> list[tuple[bool, float]]:
        """Feed the zone's crop at time ``t``; returns (observed, at) pairs, in order.

        Usually one pair for ``t``; none while frames are held back; several
        when a verdict releases held frames.
        """
        out: Pairs = []
        step = self.step(crop, t, out)
        f = next(step, None)
        if f is not None:
            finish(step, self.scorer.score(f.crop, f.mask))
        return out

    def step(self, crop: np.ndarray, t: float, out: Pairs) -> Step:
        """``process`` as a generator filling ``out``, for scoring zones in one batch.

        It yields at most once, the frame that needs a model pass (its
        ``crop`` and foreground ``mask``), and must then be sent the Evidence;
        it finishes without yielding when no model is needed.
        """
        p = self.params
        thumb = thumbnail(crop, p.foreground.grid)
        cmp = self.reference.compare(thumb)
        fg = None if cmp is None else cmp.fraction
        dt = 0.0 if self._prev_t is None else max(0.0, t - self._prev_t)
        since = None if self._prev_thumb is None else compare(thumb, self._prev_thumb,
                                                               p.foreground)
        stable = since is not None and since.fraction <= p.stable_fraction
        self._prev_thumb, self._prev_t = thumb, t
        frame = _Frame(crop, t, thumb, cmp, dt, stable, None if since is None else since.mask)
        keep = self._held[0] if self._held else t
        for old in [k for k in self._sigs if k < keep]:
            del self._sigs[old]  # released and not asked for
        self._sigs[t] = self._signature(frame)

        if self.mode == "empty":
            self._empty(frame, out)
        if self.mode == "present":
            yield from self._present(frame, out)
        elif self.mode in ("pending", "verify"):
            yield from self._deciding(frame, out)

        self.last = ZoneObservation(
            self.zone, t, self.mode, fg, None if cmp is None else cmp.gain, frame.evidence,
            out[-1][0] if out and out[-1][1] == t else None,
            None if cmp is None else cmp.mask,
        )

    def _gone(self, f: _Frame, hold: bool) -> bool:
        """Does the foreground say the zone emptied (only known with a reference)?"""
        if f.cmp is None:
            return False
        return f.cmp.fraction < (self.params.fg_hold if hold else self.params.fg_enter)

    def _empty(self, f: _Frame, out: list[tuple[bool, float]]) -> None:
        known_thing = (
            not self._differs(f.thumb, self._verdict_thumb)
            and f.t - self._check_t < self.params.idle_recheck_s
        )
        clean = self._gone(f, hold=False)
        if clean:
            self._cleared()  # whatever was judged before has gone or been learned
        if clean or known_thing:
            out.append((False, f.t))
            self.reference.learn(f.thumb, f.cmp, f.dt, person=False, stable=f.stable)
        else:
            self.mode = "pending"

    def _present(self, f: _Frame, out: Pairs) -> Step:
        p = self.params
        if self._gone(f, hold=True):
            self.mode = "empty"
            self._cleared()
            out.append((False, f.t))
            return
        moved, there = self._still_there(f)
        # A person followed as they walk about needs no pass every frame
        # either: the usual re-check interval applies.
        if (not moved or self._walking) and f.t - self._check_t < p.recheck_s:
            out.append((True, f.t))
            return
        ev = yield from self._run_model(f)
        if ev.score >= p.person_score:
            self._confirmed(f)
            out.append((True, f.t))
        elif there:
            # A model dip, not a departure: the person's foreground is still
            # there (turned round, leaning), or without a reference the view
            # is still the one they were confirmed in.
            out.append((True, f.t))
        else:
            self.mode = "verify"
            self._held, self._scores = [f.t], [ev.score]

    def _deciding(self, f: _Frame, out: Pairs) -> Step:
        verifying = self.mode == "verify"
        if self._gone(f, hold=verifying):
            # Whatever it was has gone. A confirmed person stayed latched by the
            # foreground until now, so doubts raised meanwhile are moot.
            out.extend(self._release(verifying))
            out.append((False, f.t))
            self.mode = "empty"
            self._cleared()
            return
        if verifying and self._still_there(f)[1]:
            out.extend(self._release(True))  # back to the confirmed view
            out.append((True, f.t))
            self.mode = "present"
            return
        ev = yield from self._run_model(f)
        self._held.append(f.t)
        self._scores.append(ev.score)
        verdict = self._window_verdict(verifying)
        if verdict is None:
            return
        out.extend(self._release(verdict))
        if verdict:
            self.mode = "present"
            self._confirmed(f)
        else:
            self.mode = "empty"
            self._rejected(f)  # a known non-person until the view changes
