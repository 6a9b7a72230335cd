"""The per-zone evidence loop with a scripted scorer: gating, confirmation, latch, backdating.

Frames are synthetic: a textured wall, and "actors" painted as patches whose
green/red ratio encodes the score the fake scorer reports (B=0 marks an actor
pixel; the wall never has B=0), so the script survives a lighting dip as a real
model would. Everything runs at 5 fps on an explicit clock.
"""

from __future__ import annotations

import numpy as np
import pytest

from vision.analyzer import SceneAnalyzer
from vision.evidence import Evidence
from vision.params import AnalyzerParams, ParamsError
from vision.preprocess.letterbox import ImageError
from vision.presence import PresenceChange, PresenceParams
from vision.zones import Zone

FPS = 5
W, H = 320, 240
ZONES = (Zone("seat", 0.0, 0.0, 0.5, 1.0), Zone("customer", 0.5, 0.0, 1.0, 1.0))
WALL = np.random.default_rng(3).integers(60, 200, (H, W, 3), dtype=np.uint8)


class ScriptedScorer:
    """Score = G/R of actor pixels (B=0, R>0); 0 with no actor in the crop."""

    def __init__(self) -> None:
        self.calls = 0

    def score(self, crop: np.ndarray, mask: np.ndarray | None) -> Evidence:
        self.calls += 1
        actor = (crop[..., 2] == 0) & (crop[..., 0] > 0)
        if actor.mean() < 0.05:
            return Evidence(score=0.0, landmark=0.0)
        rgb = crop[actor].astype(np.float64)
        s = float(rgb[:, 1].mean() / rgb[:, 0].mean()) * 255.0 / 250.0
        return Evidence(score=s, landmark=s)


def frame(actors: dict[str, float] | None = None, light: float = 1.0) -> np.ndarray:
    """The wall with an actor in each named zone, painted to score ``actors[zone]``.

    A zone name ending in ``:small`` paints a small thing low in the zone instead
    of a person-sized one.
    """
    img = WALL.copy()
    for key, score in (actors or {}).items():
        name, _, size = key.partition(":")
        x0 = 0 if name == "seat" else W // 2
        rows, cols = slice(40, None), slice(x0 + 20, x0 + W // 2 - 20)
        if size == "small":
            rows, cols = slice(180, None), slice(x0 + 50, x0 + 110)
        img[rows, cols] = (255, round(score * 250), 0)
    if light != 1.0:
        img = np.clip(img.astype(np.float32) * light, 0, 255).astype(np.uint8)
    return img


def play(analyzer: SceneAnalyzer, script: list[tuple[float, float, dict[str, float]]],
         light: dict[float, float] | None = None) -> list[PresenceChange]:
    """Run ``script`` rows (start, end, actors) frame by frame; returns all changes."""
    changes: list[PresenceChange] = []
    for start, end, actors in script:
        for i in range(round(start * FPS), round(end * FPS)):
            t = i / FPS
            f = (light or {}).get(round(t, 1), 1.0)
            changes += analyzer.process(frame(actors, f), t)
    return changes


def make(params: AnalyzerParams | None = None) -> tuple[SceneAnalyzer, ScriptedScorer]:
    scorer = ScriptedScorer()
    return SceneAnalyzer(ZONES, params or AnalyzerParams(), scorer=scorer), scorer


def arrivals(changes: list[PresenceChange], zone: str) -> list[tuple[bool, bool | None, float]]:
    return [(c.present, c.previous, round(c.at, 2)) for c in changes if c.zone == zone]


def test_empty_zone_runs_no_inference_once_learned() -> None:
    analyzer, scorer = make()
    play(analyzer, [(0, 4, {})])
    calls = scorer.calls
    changes = play(analyzer, [(4, 60, {})])
    assert scorer.calls == calls  # a minute of empty counter: zero model passes
    assert analyzer.present("customer") is False and analyzer.present("seat") is False
    assert changes == []  # the start-up decisions came at 3 s


def test_startup_empty_is_reported_as_initial() -> None:
    analyzer, _ = make()
    changes = play(analyzer, [(0, 5, {})])
    assert arrivals(changes, "customer") == [(False, None, 0.0)]
    assert changes[0].is_initial and not changes[0].is_departure


def test_arrival_is_backdated_and_decided_after_dwell() -> None:
    analyzer, _ = make()
    changes = play(analyzer, [(0, 5, {}), (5, 15, {"customer": 0.95})])
    arrival = [c for c in changes if c.zone == "customer" and c.present]
    assert len(arrival) == 1
    assert arrival[0].at == pytest.approx(5.0)
    assert arrival[0].decided_at == pytest.approx(7.0)
    assert arrival[0].previous is False


def test_person_already_there_at_startup() -> None:
    analyzer, _ = make()
    changes = play(analyzer, [(0, 10, {"seat": 0.9})])
    assert arrivals(changes, "seat") == [(True, None, 0.0)]


@pytest.mark.parametrize(
    "scores",
    [
        [0.9, 0.1, 0.2, 0.9, 0.1, 0.05],  # an animal: single passes spike
        [0.55, 0.4, 0.5, 0.45, 0.5, 0.4],  # lukewarm: never confirmed
        [0.0],  # an object
    ],
)
def test_unconfirmed_thing_never_becomes_present(scores: list[float]) -> None:
    analyzer, _ = make()
    script: list[tuple[float, float, dict[str, float]]] = [(0, 3, {})]
    t = 3.0
    for _ in range(10):  # 10 s of the pattern, 0.2 s per score
        for s in scores:
            script.append((t, t + 0.2, {"customer": s}))
            t = round(t + 0.2, 1)
    changes = play(analyzer, script)
    assert analyzer.present("customer") is False
    assert not [c for c in changes if c.zone == "customer" and c.present]


def test_passer_shorter_than_dwell_is_ignored() -> None:
    analyzer, _ = make()
    changes = play(analyzer, [(0, 3, {}), (3, 4.6, {"customer": 0.99}), (4.6, 10, {})])
    assert not [c for c in changes if c.zone == "customer" and c.present]


def test_departure_dated_at_last_positive_frame() -> None:
    analyzer, _ = make()
    changes = play(analyzer, [(0, 3, {}), (3, 13, {"customer": 0.95}), (13, 20, {})])
    left = [c for c in changes if c.zone == "customer" and c.is_departure]
    assert len(left) == 1
    assert left[0].at == pytest.approx(12.8)
    assert left[0].decided_at == pytest.approx(12.8 + 3.0)


def test_short_dropout_keeps_one_visit() -> None:
    analyzer, _ = make()
    changes = play(analyzer, [(0, 4, {}), (4, 10, {"customer": 0.95}), (10, 12, {}),
                              (12, 18, {"customer": 0.95}), (18, 25, {})])
    visits = [c for c in changes if c.zone == "customer" and not c.is_initial]
    assert [(c.present, round(c.at, 1)) for c in visits] == [(True, 4.0), (False, 17.8)]


def test_latched_person_costs_one_pass_per_recheck() -> None:
    analyzer, scorer = make(AnalyzerParams(recheck_s=2.0))
    play(analyzer, [(0, 3, {}), (3, 5, {"customer": 0.95})])
    calls = scorer.calls
    play(analyzer, [(5, 25, {"customer": 0.95})])
    assert 9 <= scorer.calls - calls <= 11  # 20 s still: one pass every 2 s


def test_person_turning_round_stays_present_even_if_the_model_doubts() -> None:
    # Same place, different look (turned round), and the model is unsure for
    # longer than a window: their foreground is still there, so they are too.
    analyzer, _ = make(AnalyzerParams(recheck_s=1.0))
    changes = play(analyzer, [(0, 4, {}), (4, 8, {"customer": 0.95}),
                              (8, 20, {"customer": 0.4}), (20, 25, {})])
    visits = [c for c in changes if c.zone == "customer" and not c.is_initial]
    assert [(c.present, round(c.at, 1)) for c in visits] == [(True, 4.0), (False, 19.8)]


def test_doubtful_recheck_with_foreground_still_there_stays_present() -> None:
    # A person turning round: one low pass, then good ones; never a departure.
    analyzer, _ = make(AnalyzerParams(recheck_s=1.0))
    changes = play(analyzer, [
        (0, 4, {}), (4, 8, {"customer": 0.95}), (8, 8.6, {"customer": 0.1}),
        (8.6, 15, {"customer": 0.9}),
    ])
    visits = [c for c in changes if c.zone == "customer" and not c.is_initial]
    assert [(c.present, round(c.at, 1)) for c in visits] == [(True, 4.0)]


def test_left_object_after_person_is_not_a_person() -> None:
    # The customer goes, leaving a bag on the counter: passes rule a person out.
    analyzer, _ = make(AnalyzerParams(recheck_s=1.0))
    changes = play(analyzer, [(0, 4, {}), (4, 10, {"customer": 0.95}),
                              (10, 30, {"customer:small": 0.02})])
    visits = [c for c in changes if c.zone == "customer" and not c.is_initial]
    assert [(c.present, c.previous) for c in visits] == [(True, False), (False, True)]
    assert visits[1].at == pytest.approx(9.8, abs=0.3)


def test_lighting_dip_flips_nothing() -> None:
    analyzer, _ = make()
    dip = {round(t / 10, 1): 0.5 for t in range(80, 120, 2)}
    changes = play(analyzer, [(0, 3, {}), (3, 20, {"seat": 0.95})], light=dip)
    assert arrivals(changes, "customer") == [(False, None, 0.0)]
    assert [(c.present, round(c.at, 1)) for c in changes if c.zone == "seat"][-1] == (True, 3.0)
    assert analyzer.present("seat") is True


def test_still_person_is_not_absorbed_into_the_reference() -> None:
    analyzer, _ = make()
    play(analyzer, [(0, 3, {}), (3, 300, {"customer": 0.9})])  # five minutes, perfectly still
    assert analyzer.present("customer") is True
    play(analyzer, [(300, 301, {})])
    last = analyzer.last("customer")
    assert last is not None and last.foreground is not None and last.foreground < 0.02


def test_observations_expose_scores_and_foreground() -> None:
    analyzer, _ = make()
    play(analyzer, [(0, 3, {}), (3, 3.2, {"customer": 0.8})])
    last = analyzer.last("customer")
    assert last is not None
    assert last.mode == "pending" and last.observed is None  # held back until confirmed
    assert last.evidence is not None and last.evidence.score == pytest.approx(0.8, abs=0.01)
    assert last.foreground is not None and last.foreground > 0.5
    assert last.mask is not None and last.mask.shape == (24, 24)


def test_per_zone_presence_override() -> None:
    scorer = ScriptedScorer()
    seat = PresenceParams(enter_dwell_s=0.0, exit_hold_s=9)
    analyzer = SceneAnalyzer(ZONES, AnalyzerParams(), scorer=scorer,
                             presence_by_zone={"seat": seat})
    changes = play(analyzer, [(0, 3, {}), (3, 6, {"seat": 0.95})])
    came = [c for c in changes if c.zone == "seat" and c.present]
    assert came and came[0].decided_at == pytest.approx(3.8)  # decided when confirmed


def test_bad_input_gets_clear_errors() -> None:
    with pytest.raises(ParamsError, match="unknown zone"):
        SceneAnalyzer(ZONES, scorer=ScriptedScorer(), presence_by_zone={"nope": PresenceParams()})
    analyzer, _ = make()
    with pytest.raises(ImageError):
        analyzer.process(np.zeros((10, 10), np.uint8), 0.0)


def test_confirmed_person_without_reference_must_be_proven_gone() -> None:
    # Staff there from start-up (no empty reference yet) turns to the printer:
    # the model is lukewarm for 10 s; undecided is not gone.
    analyzer, _ = make()
    changes = play(analyzer, [(0, 10, {"seat": 0.95}), (10, 20, {"seat": 0.45})])
    assert [(c.present, c.previous) for c in changes if c.zone == "seat"] == [(True, None)]
    assert analyzer.present("seat") is True
