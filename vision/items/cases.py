"""The item suite: composed counter scenes with things left, taken, or only seeming so.

640x360 at 5 fps (the analysis stream). The teller (astronaut) sits in the seat
unless the case needs the counter unattended; customers come and go in the
customer zone; props lie on the desk (vision/items/scenes.py). Each case's truth
follows from its props: a prop that appears during a visit and outlasts it is
left (at the customer's departure); a left prop that ends while nobody is there
is taken (at its end).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vision.compose.spec import Appearance, Lighting, SceneSpec
from vision.items.scenes import ItemScene, ItemsRenderer, Prop, Shadow
from vision.items.truth import Box, ItemsTruth, Mark

SIZE = (640, 360)
FPS = 5
COUNTER_BOX = (0.02, 0.85, 0.98, 1.0)  # the desk top of the composed scenes (desk at 0.84)


@dataclass(frozen=True, slots=True)
class ItemCase:
    """One scene of the suite and the item events it must produce."""

    name: str
    scene: ItemScene
    tags: tuple[str, ...]
    note: str
    left: tuple[tuple[int, float], ...] = ()  # (prop index, time it was left)
    taken: tuple[tuple[int, float], ...] = ()  # (prop index, time it was taken)

    def prop_box(self, index: int) -> Box:
        """Where prop ``index`` lies, in frame fractions."""
        r = ItemsRenderer(self.scene)
        p = self.scene.props[index]
        sprite = r._prop(p)
        sh, sw = sprite.shape[:2]
        w, h = r.width, r.height
        x0 = p.x * w - sw / 2
        y0 = r.desk_y + p.y * r.desk_h - sh / 2
        return (max(0.0, x0 / w), max(0.0, y0 / h), min(1.0, (x0 + sw) / w),
                min(1.0, (y0 + sh) / h))

    def truth(self) -> ItemsTruth:
        spec = self.scene.spec
        return ItemsTruth(
            self.name, f"{self.name}.mp4", spec.duration_s,
            tuple(Mark(at, self.prop_box(i)) for i, at in self.left),
            tuple(Mark(at, self.prop_box(i)) for i, at in self.taken),
            self.note, self.tags)


def _spec(duration: float, *appearances: Appearance, **kw: object) -> SceneSpec:
    return SceneSpec(duration, fps=FPS, size=SIZE, appearances=appearances,
                     **kw)  # type: ignore[arg-type]


def _staff(end: float) -> Appearance:
    return Appearance("astronaut", "seat", 0.0, end, enter_s=0.0)


def _cust(name: str, start: float, end: float) -> Appearance:
    return Appearance(name, "customer", start, end)


CaseFn = Callable[[], ItemCase]
_CASES: list[CaseFn] = []


def case(fn: CaseFn) -> CaseFn:
    _CASES.append(fn)
    return fn


def _left_one(name: str, obj: str, x: float, customer: str, note: str) -> ItemCase:
    d = 38.0
    scene = ItemScene(_spec(d, _staff(d), _cust(customer, 8, 18)),
                      props=(Prop(obj, x, 11.0, d),))
    return ItemCase(name, scene, ("left",), note, left=((0, 18.0),))


@case
def left_cup() -> ItemCase:
    return _left_one("left_cup", "cup", 0.7, "messi", "a cup left by the customer")


@case
def left_apple() -> ItemCase:
    return _left_one("left_apple", "apple", 0.55, "bb1_front", "a red apple left")


@case
def left_orange() -> ItemCase:
    return _left_one("left_orange", "orange", 0.35, "bb2_front", "an orange left")


@case
def left_wallet() -> ItemCase:
    return _left_one("left_wallet", "cards", 0.8, "messi", "a card wallet (white, red) left")


@case
def left_phone() -> ItemCase:
    return _left_one("left_phone", "box", 0.6, "bb1_back", "a phone-sized grey box left")


@case
def left_two() -> ItemCase:
    d = 40.0
    scene = ItemScene(_spec(d, _staff(d), _cust("messi", 8, 20)),
                      props=(Prop("sweets", 0.3, 12.0, d), Prop("cup", 0.75, 13.0, d)))
    return ItemCase("left_two", scene, ("left", "two"), "sweets and a cup left apart",
                    left=((0, 20.0), (1, 20.0)))


@case
def taken_unattended() -> ItemCase:
    d = 46.0
    scene = ItemScene(_spec(d, _cust("bb1_front", 6, 14)),
                      props=(Prop("box", 0.55, 10.0, 36.0),))
    return ItemCase("taken_unattended", scene, ("left", "taken"),
                    "no teller; a box left, then gone from the empty counter",
                    left=((0, 14.0),), taken=((0, 36.0),))


@case
def light_sudden() -> ItemCase:
    d = 40.0
    scene = ItemScene(_spec(d, _staff(d), lighting=(
        Lighting(10, 20, 0.6, ramp_s=0.0), Lighting(24, 34, 1.4, ramp_s=0.0))))
    return ItemCase("light_sudden", scene, ("lighting", "must_not_fire"),
                    "lights x0.6 then x1.4, switched at once")


@case
def light_gradual() -> ItemCase:
    d = 44.0
    scene = ItemScene(_spec(d, _staff(d), lighting=(
        Lighting(8, 22, 0.6, ramp_s=6.0), Lighting(24, 40, 1.4, ramp_s=6.0))))
    return ItemCase("light_gradual", scene, ("lighting", "must_not_fire"),
                    "lights fade to x0.6 and back, then up to x1.4, over 6 s each")


@case
def moving_shadow() -> ItemCase:
    d = 36.0
    scene = ItemScene(_spec(d, _staff(d)), shadows=(
        Shadow(8, 20, -0.1, 1.1), Shadow(22, 30, 0.9, 0.4, depth=0.6)))
    return ItemCase("moving_shadow", scene, ("shadow", "must_not_fire"),
                    "a soft shadow crosses the desk, another stops half-way")


@case
def staff_hands() -> ItemCase:
    d = 36.0
    scene = ItemScene(_spec(d, _staff(d), _cust("messi", 6, 20)), props=(
        Prop("hand", 0.3, 8.0, 17.0, height=0.7, sway_px=25),
        Prop("paper", 0.55, 9.0, 18.0, height=0.8)))
    return ItemCase("staff_hands", scene, ("hands", "must_not_fire"),
                    "the teller's hand works on the counter; the customer's form goes back")


@case
def papers_moved() -> ItemCase:
    d = 38.0
    scene = ItemScene(_spec(d, _staff(d), _cust("bb2_front", 8, 20)), props=(
        Prop("paper", 0.3, 0.0, 14.0, height=0.8), Prop("paper", 0.65, 14.0, d, height=0.8)))
    return ItemCase("papers_moved", scene, ("papers", "must_not_fire"),
                    "the teller's papers, moved across the counter during a visit")


def item_cases() -> list[ItemCase]:
    """Every case of the suite, in definition order."""
    return [fn() for fn in _CASES]
