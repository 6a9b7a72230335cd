"""Scene specs, ground truth and rendering (no encoding here)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vision.compose.actors import ACTORS, ActorError, actor
from vision.compose.render import Renderer
from vision.compose.scenes import (
    SCENES,
    Appearance,
    Lighting,
    Passer,
    SceneError,
    SceneSpec,
    ground_truth,
    merge,
    scene,
)

SMALL = (320, 180)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration_s": 0}, "positive"),
        ({"size": (63, 64)}, "size"),
        ({"size": (101, 64)}, "even"),
        ({"appearances": (Appearance("astronaut", "lobby", 0, 1),)}, "unknown zone"),
        ({"appearances": (Appearance("astronaut", "seat", 2, 1),)}, "start < end"),
        ({"appearances": (Appearance("astronaut", "seat", 0, 5, hidden=((4, 6),)),)},
         "not inside"),
        ({"passers": (Passer("cat", 0, 1),)}, "not a person"),
    ],
)
def test_spec_validation(kwargs: dict, message: str) -> None:
    args = {"duration_s": 10.0, **kwargs}
    with pytest.raises(SceneError, match=message):
        SceneSpec(**args)


def test_unknown_actor_lists_known_names() -> None:
    with pytest.raises(ActorError, match="astronaut"):
        actor("ghost")
    with pytest.raises(SceneError, match="demo_day"):
        scene("nope")


@pytest.mark.parametrize(
    ("intervals", "merged"),
    [
        ([], []),
        ([(5, 6), (1, 2)], [(1, 2), (5, 6)]),
        ([(1, 3), (3, 4)], [(1, 4)]),  # a person turning round: one visit
        ([(1, 5), (2, 3)], [(1, 5)]),
    ],
)
def test_merge(intervals: list, merged: list) -> None:
    assert merge(intervals) == merged


def test_truth_counts_people_only_and_ignores_hidden_moments() -> None:
    spec = SceneSpec(30, appearances=(
        Appearance("astronaut", "seat", 0, 30),
        Appearance("messi", "customer", 4, 20, hidden=((10, 12),)),
        Appearance("cat", "customer", 22, 28),
    ), passers=(Passer("vtest_back", 1, 3),))
    truth = ground_truth(spec)
    assert truth.intervals == {"seat": [(0, 30)], "customer": [(4, 20)]}
    assert truth.visible("customer", 8.0) is True
    assert truth.visible("customer", 11.0) is False  # out of view, still a visit
    assert truth.visible("customer", 10.2) is None  # too close to an edge to score
    assert truth.visible("customer", 25.0) is False  # the cat
    assert truth.visible("customer", 2.0) is None  # a passer is crossing


@pytest.mark.parametrize("name", list(SCENES))
def test_every_ready_made_scene_is_valid(name: str) -> None:
    spec = scene(name)
    truth = ground_truth(spec)
    assert set(truth.intervals) == {"seat", "customer"}
    for appearance in spec.appearances:
        assert appearance.actor in ACTORS


def test_catalog_covers_the_brief() -> None:
    required = {
        "arrive_leave", "two_customers", "passer_by", "object_in_zone", "animal_in_zone",
        "lighting_dip", "customer_out_of_view_2s", "staff_away_1min", "customer_turns_back",
        "teller_turns_to_printer", "poster_face", "still_seated_5min", "demo_day",
    }
    assert required <= set(SCENES)
    demo = ground_truth(scene("demo_day"))
    assert 90 <= demo.spec.duration_s <= 120
    assert len(demo.intervals["customer"]) == 3
    (_, away_from), (back_at, _) = demo.intervals["seat"]
    assert 35 <= back_at - away_from <= 45
    views = {actor(a.actor).view for a in demo.spec.appearances if a.zone == "customer"}
    assert views == {"front", "back", "side"}


def test_rendering_is_deterministic_and_shows_the_truth() -> None:
    spec = SceneSpec(10, size=SMALL, appearances=(
        Appearance("messi", "customer", 2, 8, hidden=((4, 5),)),
    ), lighting=(Lighting(6, 7, 0.5, ramp_s=0.0),))
    a, b = Renderer(spec), Renderer(spec)
    np.testing.assert_array_equal(a.frame(3.0), b.frame(3.0))
    customer = spec.zone("customer")
    empty = customer.crop(a.background)

    def diff(t: float) -> float:
        return float(np.abs(customer.crop(a.frame(t)).astype(int) - empty).mean())

    assert diff(1.0) == 0.0  # before the visit
    assert diff(3.0) > 20.0  # customer in view
    assert diff(4.5) == 0.0  # ducked out of view
    assert diff(9.0) == 0.0  # gone
    assert a.light(6.5) == pytest.approx(0.5)
    assert a.frame(6.5).mean() < 0.6 * a.frame(5.5).mean()


def test_actor_stays_inside_its_zone() -> None:
    spec = SceneSpec(4, size=SMALL, appearances=(
        Appearance("astronaut", "customer", 0, 4, x_shift=0.4, enter_s=0.0),))
    r = Renderer(spec)
    seat = spec.zone("seat")
    np.testing.assert_array_equal(seat.crop(r.frame(2.0)), seat.crop(r.background))


@pytest.mark.parametrize("name", [n for n in SCENES if scene(n).passers])
def test_passers_cross_the_customer_zone_in_about_1_5_s(name: str) -> None:
    spec = scene(name)
    renderer = Renderer(dataclasses.replace(spec, size=SMALL))
    for passer in spec.passers:
        span = renderer.passer_span(passer, "customer")
        assert span is not None
        assert 1.3 <= span[1] - span[0] <= 1.6, f"{passer.actor}: {span}"


def test_passer_span_matches_the_pixels() -> None:
    spec = SceneSpec(4, size=SMALL, passers=(Passer("bb1_front", 1, 3),))
    r = Renderer(spec)
    span = r.passer_span(spec.passers[0], "customer")
    assert span is not None
    customer = spec.zone("customer")
    empty = customer.crop(r.background)

    def touched(t: float) -> bool:
        return bool((customer.crop(r.frame(t)) != empty).any())

    assert touched(span[0] + 0.05) and touched(span[1] - 0.05)
    assert not touched(span[0] - 0.05) and not touched(span[1] + 0.05)
