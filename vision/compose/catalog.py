"""Ready-made scenes: each function returns the SceneSpec of one situation to get right.

Zones are the defaults: ``seat`` (left half, the staff member) and
``customer`` (right half). The seat actor is there from t=0 unless the scene
is about the seat.
"""

from __future__ import annotations

from collections.abc import Callable

from vision.compose.spec import (
    DEFAULT_POSTERS,
    Appearance,
    Background,
    Lighting,
    Passer,
    Poster,
    SceneError,
    SceneSpec,
)


def _staff(name: str, end: float, start: float = 0.0) -> Appearance:
    return Appearance(name, "seat", start, end, enter_s=0.0 if start == 0 else 0.6)


def _turn(name_a: str, name_b: str, zone: str, start: float, turn: float, end: float) -> tuple[
    Appearance, Appearance
]:
    """One person facing one way, then turning round at ``turn``."""
    return (
        Appearance(name_a, zone, start, turn, enter_s=0.0 if start == 0 else 0.6, leave_s=0.0),
        Appearance(name_b, zone, turn, end, enter_s=0.0),
    )


def arrive_leave() -> SceneSpec:
    """A frontal customer comes, stays 16 s and goes (12 s left for the hold and a rating)."""
    return SceneSpec(34, appearances=(_staff("astronaut", 34), Appearance(
        "bb1_front", "customer", 6, 22)))


def two_customers() -> SceneSpec:
    """Two customers, frontal then side view, 7 s apart."""
    return SceneSpec(40, appearances=(
        _staff("astronaut", 40),
        Appearance("messi", "customer", 5, 15),
        Appearance("cameraman", "customer", 22, 34),
    ))


def passer_by() -> SceneSpec:
    """Two people walk through the customer zone (about 1.5 s each in it); nobody stops."""
    return SceneSpec(22, appearances=(_staff("astronaut", 22),), passers=(
        Passer("bb1_front", 6, 8.0),
        Passer("vtest_back", 14, 16.6, x_from=-0.2, x_to=1.2),
    ))


def object_in_zone() -> SceneSpec:
    """A box is left on the counter; later a customer stands in front of it."""
    return SceneSpec(34, appearances=(
        _staff("astronaut", 34),
        Appearance("box", "customer", 4, 34, height=0.6, x_shift=0.1, jitter_px=0.0),
        Appearance("bb1_front", "customer", 20, 28),
    ))


def animal_in_zone() -> SceneSpec:
    """A cat, then a baboon, in the customer zone: neither is a customer."""
    return SceneSpec(26, appearances=(
        _staff("astronaut", 26),
        Appearance("cat", "customer", 4, 12, height=0.7),
        Appearance("baboon", "customer", 15, 23, height=0.8),
    ))


def lighting_dip() -> SceneSpec:
    """Light falls to 50% for 4 s with a customer in, and again with the zone empty."""
    return SceneSpec(28, appearances=(
        _staff("astronaut", 28),
        Appearance("bb1_front", "customer", 3, 19),
    ), lighting=(Lighting(8, 12, 0.5), Lighting(22, 26, 0.5)))


def customer_out_of_view_2s() -> SceneSpec:
    """The customer ducks below the counter for 2 s mid-visit: still one visit."""
    return SceneSpec(25, appearances=(
        _staff("astronaut", 25),
        Appearance("messi", "customer", 4, 20, hidden=((10, 12),)),
    ))


def staff_away_1min() -> SceneSpec:
    """Staff leaves the seat for a minute; a customer comes and goes meanwhile."""
    return SceneSpec(90, appearances=(
        _staff("bb2_front", 15),
        _staff("bb2_front", 90, start=75),
        Appearance("cameraman", "customer", 30, 45),
    ))


def customer_turns_back() -> SceneSpec:
    """A customer faces the counter, turns their back for 8 s, turns again."""
    front1, back = _turn("bb1_front", "bb1_back", "customer", 4, 12, 20)
    back2, front2 = _turn("bb1_back", "bb1_front", "customer", 12, 20, 26)
    del back2
    return SceneSpec(30, appearances=(_staff("astronaut", 30), front1, back, front2))


def teller_turns_to_printer() -> SceneSpec:
    """The teller turns round to the printer for 30 s (seen from the back) with a customer in."""
    front, back = _turn("bb2_front", "bb2_back", "seat", 0, 8, 38)
    back2, front2 = _turn("bb2_back", "bb2_front", "seat", 8, 38, 44)
    del back2
    return SceneSpec(44, appearances=(
        front, back, front2, Appearance("astronaut", "customer", 12, 32)
    ))


def side_view_standing_back() -> SceneSpec:
    """A side-on customer standing back from the counter: smaller in the zone, weak flag."""
    return SceneSpec(26, appearances=(
        _staff("astronaut", 26),
        Appearance("cameraman_wide", "customer", 4, 20),
    ))


def poster_face() -> SceneSpec:
    """A printed face hangs in both zones; only the real customer counts."""
    posters = (*DEFAULT_POSTERS, Poster("face_poster", 0.56, 0.06, 0.24),
               Poster("face_poster", 0.05, 0.06, 0.24))
    return SceneSpec(28, background=Background(posters=posters), appearances=(
        _staff("bb2_front", 12),
        Appearance("bb1_front", "customer", 14, 22),
    ))


def still_seated_5min() -> SceneSpec:
    """A staff member sits almost motionless for five minutes (5 fps keeps it cheap)."""
    return SceneSpec(300, fps=5, appearances=(
        Appearance("cameraman", "seat", 0, 300, enter_s=0.0, jitter_px=1.5),
    ))


def demo_day() -> SceneSpec:
    """About two minutes of a counter: three customers (front, back, side), staff away 40 s.

    16 s after the last customer leaves: the hold (8.5 s) and the rating fit.
    """
    return SceneSpec(118, appearances=(
        _staff("bb2_front", 35),
        _staff("bb2_front", 118, start=75),
        Appearance("messi", "customer", 6, 26),
        Appearance("bb2_back", "customer", 40, 56),
        Appearance("cameraman", "customer", 82, 102),
    ), passers=(Passer("vtest_back", 64, 65.9),), lighting=(Lighting(90, 93, 0.6),))


SCENES: dict[str, Callable[[], SceneSpec]] = {
    f.__name__: f
    for f in (
        arrive_leave, two_customers, passer_by, object_in_zone, animal_in_zone, lighting_dip,
        customer_out_of_view_2s, staff_away_1min, customer_turns_back, teller_turns_to_printer,
        side_view_standing_back, poster_face, still_seated_5min, demo_day,
    )
}


def scene(name: str) -> SceneSpec:
    """The ready-made scene called ``name``; SceneError lists the names otherwise."""
    try:
        return SCENES[name]()
    except KeyError:
        raise SceneError(f"unknown scene {name!r}; known: {', '.join(SCENES)}") from None
