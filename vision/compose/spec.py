"""What a composed scene contains, and the ground truth that follows from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from vision.compose.actors import actor
from vision.zones import DEFAULT_ZONES, Zone, check_unique

Interval = tuple[float, float]


class SceneError(ValueError):
    """A scene specification is inconsistent; the message says which part."""


@dataclass(frozen=True, slots=True)
class Appearance:
    """``actor`` stays in ``zone`` from ``start`` to ``end`` (seconds).

    It slides in from the frame edge nearest the zone over ``enter_s`` and out
    the same way over ``leave_s`` (0 = appears or vanishes at once, e.g. the
    same person turning round, given as back-to-back appearances); during each
    ``hidden`` interval it is out of view (ducking below the counter) but still
    at the counter, so the visit stays one interval.
    ``height`` is the actor's height as a share of the zone's height.
    """

    actor: str
    zone: str
    start: float
    end: float
    hidden: tuple[Interval, ...] = ()
    enter_s: float = 0.6
    leave_s: float = 0.6
    height: float = 0.92
    x_shift: float = 0.0
    jitter_px: float = 5.0


@dataclass(frozen=True, slots=True)
class Passer:
    """A person crossing the frame: centre moves from ``x_from`` to ``x_to`` (relative)."""

    actor: str
    start: float
    end: float
    x_from: float = 1.25
    x_to: float = 0.25
    height: float = 0.8


@dataclass(frozen=True, slots=True)
class Lighting:
    """The whole frame is scaled by ``factor`` from ``start`` to ``end``, with short ramps."""

    start: float
    end: float
    factor: float
    ramp_s: float = 0.3


@dataclass(frozen=True, slots=True)
class Poster:
    """A static picture on the wall: an actor image placed at (x, y) relative, ``height`` tall."""

    actor: str
    x: float
    y: float
    height: float


DEFAULT_POSTERS: tuple[Poster, ...] = (Poster("building_poster", 0.78, 0.10, 0.28),)


@dataclass(frozen=True, slots=True)
class Background:
    """The empty counter: a wall, a desk edge and the posters on the wall."""

    posters: tuple[Poster, ...] = DEFAULT_POSTERS
    seed: int = 7
    desk_top: float = 0.84


@dataclass(frozen=True, slots=True)
class SceneSpec:
    """Everything needed to render a scene deterministically."""

    duration_s: float
    fps: int = 10
    size: tuple[int, int] = (1280, 720)
    zones: tuple[Zone, ...] = DEFAULT_ZONES
    appearances: tuple[Appearance, ...] = ()
    lighting: tuple[Lighting, ...] = ()
    passers: tuple[Passer, ...] = ()
    background: Background = field(default_factory=Background)
    grayscale: bool = False  # a monochrome camera (or colour off in low light)

    def __post_init__(self) -> None:
        if self.duration_s <= 0 or self.fps <= 0:
            raise SceneError(f"duration_s and fps must be positive, got {self.duration_s}, "
                             f"{self.fps}")
        if self.size[0] < 64 or self.size[1] < 64 or self.size[0] % 2 or self.size[1] % 2:
            raise SceneError(f"size must be even and at least 64x64, got {self.size}")
        check_unique(self.zones)
        names = {z.name for z in self.zones}
        for a in self.appearances:
            actor(a.actor)
            if a.zone not in names:
                raise SceneError(f"appearance of {a.actor} names unknown zone {a.zone!r}")
            if not 0 <= a.start < a.end:
                raise SceneError(f"appearance of {a.actor}: needs 0 <= start < end")
            for h0, h1 in a.hidden:
                if not a.start < h0 < h1 < a.end:
                    raise SceneError(f"appearance of {a.actor}: hidden ({h0}, {h1}) not inside")
        for p in self.passers:
            if not actor(p.actor).is_person:
                raise SceneError(f"passer {p.actor} is not a person")
        for poster in self.background.posters:
            actor(poster.actor)

    @property
    def frame_count(self) -> int:
        return round(self.duration_s * self.fps)

    def zone(self, name: str) -> Zone:
        for z in self.zones:
            if z.name == name:
                return z
        raise SceneError(f"unknown zone {name!r}")


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted union of intervals; touching intervals join."""
    out: list[Interval] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """True presence per zone, and per-instant visibility for raw-evidence scoring."""

    spec: SceneSpec
    intervals: dict[str, list[Interval]]

    def visible(self, zone: str, t: float, margin: float = 0.7) -> bool | None:
        """Is a person plainly in view in ``zone`` at ``t``?

        None means "don't score": within ``margin`` of a person's entrance, exit
        or hidden-period edge, or while a passer is near the zone.
        """
        people = [
            a for a in self.spec.appearances if a.zone == zone and actor(a.actor).is_person
        ]
        for a in people:
            edges = [a.start, a.end, *(x for h in a.hidden for x in h)]
            if any(abs(t - e) < margin for e in edges):
                return None
        for a in people:
            if a.start < t < a.end and not any(h0 <= t <= h1 for h0, h1 in a.hidden):
                return True
        z = self.spec.zone(zone)
        for p in self.spec.passers:
            lo, hi = min(p.x_from, p.x_to), max(p.x_from, p.x_to)
            crosses = lo < z.x1 and hi > z.x0
            if crosses and p.start - margin <= t <= p.end + margin:
                return None
        return False


def ground_truth(spec: SceneSpec) -> GroundTruth:
    """Presence intervals per zone: person appearances, merged; others never count."""
    intervals: dict[str, list[Interval]] = {}
    for z in spec.zones:
        raw = [
            (a.start, min(a.end, spec.duration_s))
            for a in spec.appearances
            if a.zone == z.name and actor(a.actor).is_person
        ]
        intervals[z.name] = merge(raw)
    return GroundTruth(spec, intervals)
