"""The item rules (vision/items/rules.py), table-first with hand-worked times."""

from __future__ import annotations

import pytest

from vision.items.rules import (
    ItemParams,
    ItemState,
    Learn,
    Observation,
    Refresh,
    Region,
    components,
    moved_pairs,
    step,
)

P = ItemParams(hold_s=4.0, taken_hold_s=2.0, settle_s=3.0, min_blocks=2)
CUP = Region(frozenset({(1, 1), (1, 2), (2, 1), (2, 2)}), (0.5, 0.3, 0.2), (0.4, 0.3, 0.1))


Frame = tuple[float, bool, bool, tuple[Region, ...], bool]


def run(frames: list[Frame]) -> list[tuple[str, float]]:
    """(t, customer, staff, regions, moving) per frame -> (event type, t)."""
    state, out = ItemState(id_prefix="u"), []
    for t, customer, staff, regions, moving in frames:
        state, events, _ = step(state, Observation(t, customer, staff, regions, moving), P)
        out += [(e.type, e.t) for e in events]
    return out


def timeline(end: float, customer: tuple[float, float] | None, cup: tuple[float, float] | None,
             staff: bool = True, moving: tuple[float, float] | None = None,
             ) -> list[Frame]:
    frames: list[Frame] = []
    for i in range(int(end * 2) + 1):
        t = i / 2
        c = customer is not None and customer[0] <= t < customer[1]
        r: tuple[Region, ...] = (CUP,) if cup is not None and cup[0] <= t < cup[1] else ()
        m = moving is not None and moving[0] <= t < moving[1]
        frames.append((t, c, staff, r, m))
    return frames


@pytest.mark.parametrize(("name", "frames", "expected"), [
    # learned at 3.0 (quiet from 0); customer 5-10; cup from 6; gone at 10, hold 4 -> 14.0
    ("left", timeline(20, (5, 10), (6, 99)), [("item_left", 14.0)]),
    # the cup goes with the customer: nothing
    ("taken back by customer", timeline(20, (5, 10), (6, 9.5)), []),
    # hands moving until 16: the hold restarts only when still: still at 16 -> ... 14 passed
    ("hand moving pauses", timeline(20, (5, 10), (6, 99), moving=(12, 16)), [("item_left", 16.0)]),
    # left at 14.0; gone at 16 with nobody there: empty 16.0 + 2.0 -> taken at 18.0
    ("taken unattended", timeline(20, (5, 10), (6, 16), staff=False),
     [("item_left", 14.0), ("item_taken", 18.0)]),
    # the same with the teller in the seat: collected, not taken
    ("collected by staff", timeline(20, (5, 10), (6, 16), staff=True),
     [("item_left", 14.0), ("item_collected", 18.0)]),
    # something already there when the customer came (the check before): not theirs
    ("there before", timeline(20, (5, 10), (4, 99)), []),
    # shorter than the hold after the customer went: nothing
    ("short", timeline(20, (5, 10), (6, 13.5)), []),
])
def test_item_rules(name: str, frames: list, expected: list) -> None:
    assert run(frames) == expected, name


def test_reference_is_learned_when_quiet_then_refreshed() -> None:
    state = ItemState()
    acts = []
    for t, customer in [(0.0, True), (1.0, False), (3.5, False), (4.0, False), (7.0, False)]:
        state, _, a = step(state, Observation(t, customer, True, (), False,
                                              have_reference=state.learned), P)
        acts.append(a)
    assert acts[:2] == [[], []]
    assert acts[2] == []  # quiet since 1.0: 2.5 s < settle_s
    assert acts[3] == [Learn()]  # 3.0 s quiet
    assert acts[4] == [Refresh(frozenset())]


def test_shadow_moving_restarts_the_hold() -> None:
    a = Region(frozenset({(0, 0), (0, 1)}))
    b = Region(frozenset({(0, 5), (0, 6)}))
    frames = [(t, False, True, (a if int(t) % 2 else b,), False) for t in range(4, 30)]
    assert run([(0.0, False, True, (), False), *frames]) == []


def test_moved_papers_pair_up() -> None:
    old = Region(frozenset({(0, 0), (0, 1)}), now=(0.47, 0.33, 0.25), ref=(0.33, 0.33, 0.6))
    new = Region(frozenset({(0, 5), (0, 6), (1, 5)}), now=(0.34, 0.33, 0.59),
                 ref=(0.47, 0.33, 0.25))
    assert moved_pairs([old, new], P) == {0, 1}
    assert moved_pairs([old, CUP], P) == set()


def test_components_8_connected_largest_first() -> None:
    assert components({(0, 0), (1, 1), (5, 5)}) == [frozenset({(0, 0), (1, 1)}),
                                                   frozenset({(5, 5)})]
