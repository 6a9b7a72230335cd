"""All analyzer thresholds in one frozen dataclass; firmware maps its config onto it.

Defaults were chosen from measurements on the composed scenes (docs/vision.md).
Times are in seconds so the same values hold at any analysis frame rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vision.evidence import EvidenceMode
from vision.foreground import ForegroundParams
from vision.presence import PresenceParams


class ParamsError(ValueError):
    """An analyzer parameter is out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class AnalyzerParams:
    """Thresholds of the per-zone analysis.

    presence: enter dwell / exit hold of the decided state.
    foreground: block comparison and reference learning.
    evidence: "combined" (default), "landmark" or "posedet" (ablation, or a
        back-end that only has a detector).
    threads: interpreter threads (XNNPACK).
    fg_enter: foreground share of an empty zone that wakes the models (below
        it no inference runs at all).
    fg_hold: foreground share below which a confirmed person is taken as gone.
    fg_keep: share of a confirmed person's foreground blocks that must still be
        foreground for a low pass to be taken as a model dip (turned round)
        rather than a reason to doubt.
    person_score: per-pass score that counts as "person" for a re-check.
    confirm_mean / reject_mean: mean score over ``window`` passes that confirms
        a person / rules one out. A single pass never decides: animals spike.
    window: passes averaged (5 passes = 1 s at 5 fps).
    max_passes: passes after which an undecided newcomer is judged by the mean
        of all its passes against ``person_score``; an undecided confirmed
        person is kept (they must be proven gone).
    recheck_s: a confirmed zone whose view has not changed is re-checked this
        often; between checks the confirmation holds.
    idle_recheck_s: same for foreground already judged not a person.
    change_fraction: share of blocks changed since the last model pass that
        forces a new pass at once (someone turned round, left, arrived).
    stable_fraction: at most this share changed since the previous frame
        counts as a still view (only still views teach the reference).
    ambiguous, face_score, face_on_foreground, roi_scale: see ScorerParams.
    """

    presence: PresenceParams = field(default_factory=PresenceParams)
    foreground: ForegroundParams = field(default_factory=ForegroundParams)
    evidence: EvidenceMode = "combined"
    threads: int = 1
    fg_enter: float = 0.05
    fg_hold: float = 0.05
    fg_keep: float = 0.5
    person_score: float = 0.5
    confirm_mean: float = 0.5
    reject_mean: float = 0.2
    window: int = 5
    max_passes: int = 15
    recheck_s: float = 2.0
    idle_recheck_s: float = 5.0
    change_fraction: float = 0.3
    stable_fraction: float = 0.03
    ambiguous: tuple[float, float] = (0.1, 0.7)
    face_score: float = 0.6
    face_on_foreground: float = 0.3
    roi_scale: float = 1.25

    def __post_init__(self) -> None:
        unit = ("fg_enter", "fg_hold", "fg_keep", "person_score", "confirm_mean", "reject_mean",
                "change_fraction", "stable_fraction", "face_score", "face_on_foreground")
        for key in unit:
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                raise ParamsError(f"{key}={value} must be within [0, 1]")
        if self.reject_mean > self.confirm_mean:
            raise ParamsError(
                f"reject_mean={self.reject_mean} must not exceed confirm_mean={self.confirm_mean}"
            )
        if not 1 <= self.window <= self.max_passes:
            raise ParamsError(f"need 1 <= window ({self.window}) <= max_passes ({self.max_passes})")
        if not 1 <= self.threads <= 16:
            raise ParamsError(f"threads={self.threads} must be within [1, 16]")
        for key in ("recheck_s", "idle_recheck_s"):
            if not 0.0 < getattr(self, key) <= 600.0:
                raise ParamsError(f"{key}={getattr(self, key)} must be within (0, 600] seconds")
        if not 0.0 <= self.ambiguous[0] <= self.ambiguous[1] <= 1.0:
            raise ParamsError(f"ambiguous={self.ambiguous} must be an ordered pair in [0, 1]")
        if self.roi_scale < 1.0:
            raise ParamsError(f"roi_scale={self.roi_scale} must be >= 1")
        if self.evidence not in ("combined", "landmark", "posedet"):
            raise ParamsError(f"evidence={self.evidence!r} must be combined, landmark or posedet")
