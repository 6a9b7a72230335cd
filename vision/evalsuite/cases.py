"""The presence suite: composed counter scenes that are hard for presence, with their truth.

Each case is a SceneSpec built from packaged photographs (vision/compose/actors.py)
and the truth that follows from it: one transaction per customer visit
(a companion beside the customer belongs to the visit; a staff member
leaning into the customer zone and people walking past are no visit), and
the seat's absences after it was first occupied. Scenes are rendered at
640x360, 5 fps: the analysis stream's size and rate, so composing is cheap.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

from vision.compose.spec import Appearance, Lighting, Passer, SceneSpec, ground_truth
from vision.evalsuite.truth import Interval, Truth

SIZE = (640, 360)
FPS = 5


@dataclass(frozen=True, slots=True)
class Case:
    """One scene of the suite and what it must produce."""

    name: str
    spec: SceneSpec
    tags: tuple[str, ...]
    note: str
    not_visits: tuple[int, ...] = ()  # indices of customer-zone appearances that are no visit

    def truth(self) -> Truth:
        """Transactions and absences that follow from the scene."""
        spec = replace(self.spec, appearances=tuple(
            a for i, a in enumerate(self.spec.appearances) if i not in self.not_visits))
        gt = ground_truth(spec)
        seat = gt.intervals["seat"]
        absences: list[Interval] = [(a[1], b[0]) for a, b in itertools.pairwise(seat)]
        if seat and seat[-1][1] < spec.duration_s - 1:
            absences.append((seat[-1][1], spec.duration_s))
        return Truth(self.name, f"{self.name}.mp4", spec.duration_s,
                     tuple(gt.intervals["customer"]), tuple(absences),
                     tags=self.tags, note=self.note)


TAIL_S = 11.0  # after the last departure: the unit's hold (8.5 s) has run out before the end


def _spec(duration: float, *appearances: Appearance, **kw: object) -> SceneSpec:
    """A scene long enough that every departure is decided before the video ends.

    Appearances lasting to the end (the teller) and lighting spanning the whole
    scene are stretched with it.
    """
    ends = [a.end for a in appearances if a.end < duration]
    new = max([duration, *(e + TAIL_S for e in ends)])
    appearances = tuple(replace(a, end=new) if a.end >= duration else a for a in appearances)
    lights = kw.pop("lighting", ())
    kw["lighting"] = tuple(replace(lt, end=new) if lt.end >= duration else lt
                           for lt in lights)  # type: ignore[attr-defined]
    return SceneSpec(new, fps=FPS, size=SIZE, appearances=appearances,
                     **kw)  # type: ignore[arg-type]


def _staff(name: str, end: float, start: float = 0.0, **kw: object) -> Appearance:
    kw.setdefault("enter_s", 0.0 if start == 0 else 0.6)
    return Appearance(name, "seat", start, end, **kw)  # type: ignore[arg-type]


def _cust(name: str, start: float, end: float, **kw: object) -> Appearance:
    return Appearance(name, "customer", start, end, **kw)  # type: ignore[arg-type]


CaseFn = Callable[[], Case]
_CASES: list[CaseFn] = []


def case(fn: CaseFn) -> CaseFn:
    _CASES.append(fn)
    return fn


@case
def back_customer() -> Case:
    return Case("back_customer", _spec(30, _staff("astronaut", 30), _cust("bb1_back", 5, 25)),
                ("back",), "a customer seen from behind for 20 s")


@case
def back_still_70s() -> Case:
    return Case("back_still_70s", _spec(84, _staff("astronaut", 84),
                _cust("bb2_back", 4, 74, jitter_px=1.0)),
                ("back", "still"), "a customer from behind, nearly motionless for 70 s")


@case
def side_customer() -> Case:
    return Case("side_customer", _spec(30, _staff("astronaut", 30), _cust("cameraman", 5, 25)),
                ("side", "grayscale"), "a side-on customer (a grayscale photograph)")


@case
def side_standing_back() -> Case:
    return Case("side_standing_back", _spec(28, _staff("astronaut", 28),
                _cust("cameraman_wide", 4, 22)),
                ("side",), "side-on and standing back: small in the zone")


@case
def partly_out_right() -> Case:
    return Case("partly_out_right", _spec(30, _staff("astronaut", 30),
                _cust("messi", 5, 24, x_shift=0.33)),
                ("partial",), "a customer a third outside the frame's right edge")


@case
def partly_out_left() -> Case:
    return Case("partly_out_left", _spec(30, _staff("bb2_front", 30),
                _cust("bb1_front", 5, 24, x_shift=-0.3, height=0.98)),
                ("partial",), "a customer cut by the zone's left edge and the top")


@case
def still_front_90s() -> Case:
    return Case("still_front_90s", _spec(100, _staff("astronaut", 100),
                _cust("messi", 5, 95, jitter_px=0.8)),
                ("still",), "a frontal customer, almost motionless for 90 s")


@case
def grayscale_front() -> Case:
    return Case("grayscale_front", _spec(30, _staff("astronaut", 30),
                _cust("bb1_front", 5, 24), grayscale=True),
                ("grayscale",), "a monochrome camera, frontal customer")


@case
def grayscale_back() -> Case:
    return Case("grayscale_back", _spec(30, _staff("astronaut", 30),
                _cust("bb2_back", 5, 24), grayscale=True),
                ("grayscale", "back"), "a monochrome camera, customer from behind")


@case
def dim_front() -> Case:
    return Case("dim_front", _spec(30, _staff("astronaut", 30), _cust("messi", 5, 24),
                lighting=(Lighting(0, 30, 0.35, ramp_s=0.0),)),
                ("dim",), "the whole scene at 35% light, frontal customer")


@case
def dim_back_gray() -> Case:
    return Case("dim_back_gray", _spec(30, _staff("astronaut", 30), _cust("bb1_back", 5, 24),
                lighting=(Lighting(0, 30, 0.45, ramp_s=0.0),), grayscale=True),
                ("dim", "grayscale", "back"), "dim and monochrome, customer from behind")


@case
def back_to_back_3s() -> Case:
    return Case("back_to_back_3s", _spec(36, _staff("astronaut", 36),
                _cust("messi", 4, 16), _cust("bb1_back", 19, 31)),
                ("back-to-back",), "the next customer steps up 3 s after the first left")


@case
def back_to_back_4s() -> Case:
    return Case("back_to_back_4s", _spec(38, _staff("astronaut", 38),
                _cust("bb1_front", 4, 16), _cust("cameraman", 20, 32)),
                ("back-to-back",), "4 s between customers")


@case
def back_to_back_6s() -> Case:
    return Case("back_to_back_6s", _spec(40, _staff("astronaut", 40),
                _cust("bb2_back", 4, 17), _cust("messi", 23, 35)),
                ("back-to-back", "back"), "6 s between a customer from behind and the next")


@case
def three_in_a_row() -> Case:
    return Case("three_in_a_row", _spec(50, _staff("bb2_front", 50),
                _cust("messi", 4, 14), _cust("bb1_back", 18, 28), _cust("cameraman", 33, 45)),
                ("back-to-back",), "three customers 4 s and 5 s apart")


@case
def companion() -> Case:
    return Case("companion", _spec(30, _staff("astronaut", 30),
                _cust("messi", 4, 24, x_shift=-0.2),
                _cust("bb1_back", 6, 22, x_shift=0.3, height=0.8)),
                ("companion",), "a companion stands beside the customer: one visit")


@case
def passer_crossing() -> Case:
    return Case("passer_crossing", _spec(32, _staff("astronaut", 32), _cust("messi", 18, 28),
                passers=(Passer("vtest_back", 5, 7.5, x_from=1.2, x_to=-0.2),
                         Passer("bb1_front", 10, 12.0))),
                ("passer",), "two people walk through the zone, then a customer comes")


@case
def passer_during_visit() -> Case:
    return Case("passer_during_visit", _spec(30, _staff("astronaut", 30),
                _cust("bb1_back", 4, 24),
                passers=(Passer("vtest_back", 12, 14.5, x_from=1.2, x_to=-0.2),)),
                ("passer", "back"), "someone walks behind the customer mid-visit")


@case
def staff_leans_in() -> Case:
    return Case("staff_leans_in", _spec(30, _staff("astronaut", 30),
                _cust("astronaut", 10, 16, x_shift=-0.42, enter_s=0.8, leave_s=0.8)),
                ("staff",), "the staff member leans into the customer zone for 6 s: no visit",
                not_visits=(1,))


@case
def returns_after_hold() -> Case:
    return Case("returns_after_hold", _spec(40, _staff("astronaut", 40),
                _cust("messi", 4, 14), _cust("messi", 26, 36)),
                ("identity",), "the same customer walks off and returns 12 s later: two visits")


@case
def ducks_6s() -> Case:
    return Case("ducks_6s", _spec(34, _staff("astronaut", 34),
                _cust("messi", 4, 30, hidden=((12.0, 18.0),))),
                ("identity",), "the customer is out of view for 6 s mid-visit: one visit")


@case
def back_hidden_7s() -> Case:
    return Case("back_hidden_7s", _spec(36, _staff("astronaut", 36),
                _cust("bb1_back", 4, 32, hidden=((14.0, 21.0),))),
                ("identity", "back"), "a customer from behind, out of view for 7 s: one visit")


@case
def staff_turns_away_40s() -> Case:
    return Case("staff_turns_away_40s", _spec(56,
                _staff("bb2_front", 8, leave_s=0.0), _staff("bb2_back", 48, start=8, enter_s=0.0,
                                                            leave_s=0.0),
                _staff("bb2_front", 56, start=48, enter_s=0.0),
                _cust("astronaut", 12, 40)),
                ("seat", "back"), "the teller turns away for 40 s: no absence")


@case
def staff_hidden_6s() -> Case:
    return Case("staff_hidden_6s", _spec(34, _staff("bb2_front", 34, hidden=((10.0, 16.0),)),
                _cust("messi", 18, 28)),
                ("seat", "identity"), "the teller ducks below the desk for 6 s: no absence")


@case
def staff_away_30s() -> Case:
    return Case("staff_away_30s", _spec(60, _staff("bb2_front", 14),
                _staff("bb2_front", 60, start=44), _cust("cameraman", 20, 36)),
                ("seat",), "the teller leaves for 30 s while a customer comes")


@case
def seat_still_dim_gray() -> Case:
    return Case("seat_still_dim_gray", _spec(80, _staff("cameraman", 80, jitter_px=0.8),
                _cust("bb2_back", 10, 70, jitter_px=1.0),
                lighting=(Lighting(0, 80, 0.5, ramp_s=0.0),), grayscale=True),
                ("seat", "still", "dim", "grayscale"),
                "dim monochrome: a still teller and a still customer from behind for 60 s")


def cases() -> list[Case]:
    """Every case of the presence suite, in a fixed order."""
    return [fn() for fn in _CASES]


def case_names() -> list[str]:
    return [fn.__name__ for fn in _CASES]
