"""Agreement of the int8 pipeline with the float16 one, frame by frame, on composed scenes.

Both pipelines (SceneAnalyzer with the same parameters, one per model set)
see the same rendered frames (640x360 at 5 fps, no video coding, so the only
difference is the models). Per zone and frame three decisions are compared:

  evidence   the raw person/no-person observation fed to the hysteresis
             (released frames, matched by time),
  state      the decided presence state after the frame,
  interval   whether the frame lies in a final (backdated) presence interval.

The agreement figure is the lowest of the three rates. Most zone-frames never reach a
model: the foreground gate and the latch, the same code in both pipelines, decide
them, so they agree by construction and inflate the figure. The same three rates
are therefore also taken over the *model* zone-frames only (a model pass ran for the
zone at that frame in either pipeline), and ``model_agreement`` (their lowest) is
held to the same threshold. Used by
``python -m vision.models.quantize --parity`` (recorded in the manifest) and
by tests/integration/vision/models/test_quantized_parity.py.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vision.analyzer import SceneAnalyzer
from vision.compose.render import render
from vision.compose.scenes import SCENES, scene
from vision.evidence import ModelScorer
from vision.model_files import ModelFiles, resolve_model_files
from vision.params import AnalyzerParams
from vision.presence import PresenceChange, intervals

THRESHOLD = 0.99
FPS = 5
SIZE = (640, 360)
# The 5-minute still scene adds 1500 frames of a latched zone and no decisions.
DEFAULT_SCENES: tuple[str, ...] = tuple(n for n in SCENES if n != "still_seated_5min")


@dataclass(frozen=True, slots=True)
class SceneParity:
    """Counts for one scene, over all its zones."""

    name: str
    zone_frames: int
    evidence: int  # zone-frames with an observation from both pipelines
    evidence_agree: int
    state_agree: int
    interval_agree: int
    passes: tuple[int, int]  # model passes (float16, int8)
    # The same counts over zone-frames where a model ran (in either pipeline).
    model_frames: int = 0
    model_evidence: int = 0  # of those, with an observation from both pipelines
    model_evidence_agree: int = 0
    model_state_agree: int = 0
    model_interval_agree: int = 0


@dataclass(frozen=True, slots=True)
class ParityResult:
    """Per-scene counts and the overall figure against ``threshold``."""

    scenes: tuple[SceneParity, ...]
    threshold: float = THRESHOLD
    seconds: float = 0.0

    def _rate(self, field: str, total: str) -> float:
        num = sum(getattr(s, field) for s in self.scenes)
        den = sum(getattr(s, total) for s in self.scenes)
        return num / den if den else 0.0

    @property
    def rates(self) -> dict[str, float]:
        return {
            "evidence": self._rate("evidence_agree", "evidence"),
            "state": self._rate("state_agree", "zone_frames"),
            "interval": self._rate("interval_agree", "zone_frames"),
        }

    @property
    def agreement(self) -> float:
        return min(self.rates.values())

    @property
    def model_rates(self) -> dict[str, float]:
        """The three rates over the zone-frames where a model ran."""
        return {
            "evidence": self._rate("model_evidence_agree", "model_evidence"),
            "state": self._rate("model_state_agree", "model_frames"),
            "interval": self._rate("model_interval_agree", "model_frames"),
        }

    @property
    def model_agreement(self) -> float:
        return min(self.model_rates.values())

    @property
    def holds(self) -> bool:
        """Both figures reach the threshold (the model one only if model frames were
        counted; the integration test insists that they are)."""
        model_ok = self.model_frames == 0 or self.model_agreement >= self.threshold
        return self.agreement >= self.threshold and model_ok

    @property
    def zone_frames(self) -> int:
        return sum(s.zone_frames for s in self.scenes)

    @property
    def model_frames(self) -> int:
        return sum(s.model_frames for s in self.scenes)

    def disagreements(self) -> list[str]:
        """Scenes where any decision differed, as short text."""
        return [
            f"{s.name}: evidence {s.evidence_agree}/{s.evidence}, state "
            f"{s.state_agree}/{s.zone_frames}, interval {s.interval_agree}/{s.zone_frames}"
            for s in self.scenes
            if min(s.evidence_agree - s.evidence, s.state_agree - s.zone_frames,
                   s.interval_agree - s.zone_frames) < 0
        ]

    def summary(self) -> str:
        r, m = self.rates, self.model_rates
        passes = [sum(s.passes[i] for s in self.scenes) for i in (0, 1)]
        lines = [
            f"int8 vs float16 on {len(self.scenes)} scenes, {self.zone_frames} zone-frames "
            f"({SIZE[0]}x{SIZE[1]} at {FPS} fps): evidence {r['evidence']:.4f}, "
            f"state {r['state']:.4f}, interval {r['interval']:.4f} -> agreement "
            f"{self.agreement:.4f} ({'holds' if self.holds else 'FAILS'} >= {self.threshold}); "
            f"model passes float16 {passes[0]}, int8 {passes[1]}; {self.seconds:.1f} s",
            f"on the {self.model_frames} of {self.zone_frames} zone-frames where a model ran: "
            f"evidence {m['evidence']:.4f}, state {m['state']:.4f}, interval "
            f"{m['interval']:.4f} -> model agreement {self.model_agreement:.4f}",
        ]
        lines += ["  " + d for d in self.disagreements()]
        return "\n".join(lines)

    def record(self, entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The manifest's parity entry: figures plus the sha256 of the files measured."""
        return {
            "sha256": {name: e["sha256"] for name, e in entries.items()},
            "agreement": round(self.agreement, 5),
            "rates": {k: round(v, 5) for k, v in self.rates.items()},
            "model_agreement": round(self.model_agreement, 5),
            "model_rates": {k: round(v, 5) for k, v in self.model_rates.items()},
            "model_frames": self.model_frames,
            "threshold": self.threshold,
            "holds": self.holds,
            "zone_frames": self.zone_frames,
            "scenes": [s.name for s in self.scenes],
            "frames": f"{SIZE[0]}x{SIZE[1]} at {FPS} fps, rendered (no video coding)",
            "measured_by": "python -m vision.models.quantize --parity",
        }


def _inside(ivs: list[tuple[float, float]], t: float) -> bool:
    return any(a <= t < b for a, b in ivs)


def scene_parity(name: str, scorers: Sequence[ModelScorer],
                 params: AnalyzerParams | None = None) -> SceneParity:
    """Run ``scene(name)`` through one analyzer per scorer (float16 first, int8 second)."""
    params = params or AnalyzerParams()
    spec = dataclasses.replace(scene(name), size=SIZE, fps=FPS)
    zones = [z.name for z in spec.zones]
    analyzers = [SceneAnalyzer(spec.zones, params, scorer=s) for s in scorers]
    observed: list[dict[tuple[str, float], bool]] = [{} for _ in analyzers]
    states: list[list[bool | None]] = [[] for _ in analyzers]
    changes: list[dict[str, list[PresenceChange]]] = [{z: [] for z in zones} for _ in analyzers]
    times: list[float] = []
    ran: set[tuple[str, float]] = set()  # (zone, t) where a model pass ran, either pipeline
    for t, image in render(spec):
        times.append(t)
        for k, analyzer in enumerate(analyzers):
            before = {z: analyzer.passes(z) for z in zones}
            for change in analyzer.process(image, t):
                changes[k][change.zone].append(change)
            for z in zones:
                if analyzer.passes(z) > before[z]:
                    ran.add((z, round(t, 6)))
                for obs, at in analyzer.released(z):
                    observed[k][(z, round(at, 6))] = obs
                states[k].append(analyzer.present(z))
    both = observed[0].keys() & observed[1].keys()
    ivs = [{z: intervals(c[z], spec.duration_s) for z in zones} for c in changes]
    frames = [(z, t) for t in times for z in zones]  # the order states were appended in
    in_iv = [_inside(ivs[0][z], t) == _inside(ivs[1][z], t) for z, t in frames]
    same_state = [a == b for a, b in zip(states[0], states[1], strict=True)]
    model = [(z, round(t, 6)) in ran for z, t in frames]
    ev_agree = {key: observed[0][key] == observed[1][key] for key in both}
    return SceneParity(
        name=name,
        zone_frames=len(frames),
        evidence=len(observed[0].keys() | observed[1].keys()),
        evidence_agree=sum(ev_agree.values()),
        state_agree=sum(same_state),
        interval_agree=sum(in_iv),
        passes=(sum(analyzers[0].passes(z) for z in zones),
                sum(analyzers[1].passes(z) for z in zones)),
        model_frames=sum(model),
        model_evidence=sum(1 for key in ran if key in observed[0] or key in observed[1]),
        model_evidence_agree=sum(ev_agree.get(key, False) for key in ran),
        model_state_agree=sum(s for s, m in zip(same_state, model, strict=True) if m),
        model_interval_agree=sum(i for i, m in zip(in_iv, model, strict=True) if m),
    )


def measure(models_dir: str | Path | None = None, scenes: Sequence[str] = DEFAULT_SCENES,
            threads: int = 1, float_files: ModelFiles | None = None,
            int8_files: ModelFiles | None = None) -> ParityResult:
    """Parity of the int8 models in ``models_dir`` with the float16 ones on ``scenes``."""
    start = time.perf_counter()
    f16 = float_files or resolve_model_files("float16", models_dir)
    i8 = int8_files or resolve_model_files("int8", models_dir)
    scorers = [ModelScorer(f, threads) for f in (f16, i8)]
    results = tuple(scene_parity(name, scorers) for name in scenes)
    return ParityResult(results, seconds=time.perf_counter() - start)
