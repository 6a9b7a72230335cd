"""Scene analysis: zones of a frame in, backdated presence changes out."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from vision.evidence import ModelScorer, Scorer, ScorerParams, score_all
from vision.model_files import ModelFiles
from vision.params import AnalyzerParams, ParamsError
from vision.preprocess.letterbox import check_rgb
from vision.presence import PresenceChange, PresenceParams, PresenceTracker
from vision.track.identity import IdentityParams, IdentityTracker
from vision.zone_analyzer import ZoneAnalyzer, ZoneObservation, finish
from vision.zones import Zone, check_unique

__all__ = [
    "AnalyzerParams",
    "ParamsError",
    "SceneAnalyzer",
    "ZoneAnalyzer",
    "ZoneObservation",
    "default_models_dir",
]

log = logging.getLogger(__name__)


def default_models_dir() -> Path:
    """Where ``python -m vision.models.fetch`` puts the models."""
    return Path(__file__).resolve().parent / "models"


def scorer_params(params: AnalyzerParams) -> ScorerParams:
    return ScorerParams(
        mode=params.evidence,
        ambiguous=params.ambiguous,
        face_score=params.face_score,
        face_on_foreground=params.face_on_foreground,
        roi_scale=params.roi_scale,
    )


class SceneAnalyzer:
    """Presence per zone from whole frames.

    Models load once, in the constructor, and serve every zone. ``scorer``
    replaces them (a fake in unit tests, another back-end on an OAK).
    ``models_dir`` is a folder of float16 models or the ModelFiles chosen by
    ``vision.model_files.resolve_model_files`` (int8 or float16).
    ``presence_by_zone`` overrides ``params.presence`` per zone name (the seat
    usually holds longer than the customer position). ``identity_by_zone``
    puts those zones under the identity tracker instead (vision/track/identity.py):
    the same person unseen up to its hold stays one visit, a different one
    starts the next.
    """

    def __init__(
        self,
        zones: Sequence[Zone],
        params: AnalyzerParams | None = None,
        models_dir: str | Path | ModelFiles | None = None,
        scorer: Scorer | None = None,
        presence_by_zone: Mapping[str, PresenceParams] | None = None,
        identity_by_zone: Mapping[str, IdentityParams] | None = None,
    ) -> None:
        check_unique(list(zones))
        self.zones = tuple(zones)
        self.params = params or AnalyzerParams()
        presence = dict(presence_by_zone or {})
        identity = dict(identity_by_zone or {})
        unknown = sorted((set(presence) | set(identity)) - {z.name for z in self.zones})
        if unknown:
            raise ParamsError(f"presence given for unknown zone(s): {', '.join(unknown)}")
        if scorer is None:
            scorer = ModelScorer(
                models_dir or default_models_dir(), self.params.threads,
                scorer_params(self.params),
            )
        self.scorer = scorer
        self._zones = {z.name: ZoneAnalyzer(z.name, self.params, scorer) for z in self.zones}
        self._trackers: dict[str, PresenceTracker | IdentityTracker] = {
            z.name: IdentityTracker(z.name, identity[z.name]) if z.name in identity
            else PresenceTracker(z.name, presence.get(z.name, self.params.presence))
            for z in self.zones
        }
        self._released: dict[str, list[tuple[bool, float]]] = {z.name: [] for z in self.zones}

    def process(self, image_rgb: np.ndarray, t: float) -> list[PresenceChange]:
        """Analyse one frame taken at ``t`` (seconds, monotonic); returns decided changes."""
        check_rgb(image_rgb)
        # Every zone first runs up to its model pass; the passes this frame
        # needs are then scored in one batch (overlapped), and each zone finishes.
        released: dict[str, list[tuple[bool, float]]] = {}
        waiting = []
        for zone in self.zones:
            out = released[zone.name] = []
            step = self._zones[zone.name].step(zone.crop(image_rgb), t, out)
            frame = next(step, None)
            if frame is not None:
                waiting.append((step, frame))
        evidence = score_all(self.scorer, [(f.crop, f.mask) for _, f in waiting])
        for (step, _), ev in zip(waiting, evidence, strict=True):
            finish(step, ev)
        changes: list[PresenceChange] = []
        for zone in self.zones:
            self._released[zone.name] = released[zone.name]
            za, tracker = self._zones[zone.name], self._trackers[zone.name]
            for observed, at in released[zone.name]:
                sig = za.signature_at(at)
                if isinstance(tracker, IdentityTracker):
                    decided = tracker.update(observed, at, sig, now=t)
                else:
                    one = tracker.update(observed, at, now=t)
                    decided = [] if one is None else [one]
                for change in decided:
                    log.info(
                        "zone %s: %s (at %.2f, decided %.2f)", zone.name,
                        "present" if change.present else "empty", change.at, change.decided_at,
                    )
                    changes.append(change)
        return changes

    def finish(self, t: float) -> list[PresenceChange]:
        """The video has ended at ``t``: departures of people unseen since their last sighting.

        Only zones under the identity tracker whose analysis had settled on
        "empty" at the last frame (the foreground matched the empty reference,
        or what was left was judged no person); a zone still deciding or
        latched on foreground (an undetected person) keeps its state for the
        shutdown to close. The plain hysteresis keeps its state.
        """
        changes: list[PresenceChange] = []
        for zone in self.zones:
            tracker, last = self._trackers[zone.name], self._zones[zone.name].last
            settled = last is not None and last.mode == "empty"
            if isinstance(tracker, IdentityTracker) and settled:
                changes.extend(tracker.finish(t))
        return changes

    def released(self, zone: str) -> list[tuple[bool, float]]:
        """(observed, at) pairs the last ``process`` call fed to the zone's hysteresis.

        Raw per-frame evidence, for scoring and logs; held frames appear when
        their verdict releases them.
        """
        return list(self._released[zone])

    def present(self, zone: str) -> bool | None:
        """Decided state of ``zone``: True, False, or None before its first decision."""
        return self._trackers[zone].present

    def last(self, zone: str) -> ZoneObservation | None:
        """The zone's most recent observation (scores, foreground), for logs."""
        return self._zones[zone].last

    def passes(self, zone: str) -> int:
        """How many model passes the zone has needed so far (a cost figure)."""
        return self._zones[zone].passes
