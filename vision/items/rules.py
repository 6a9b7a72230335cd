"""Items left on and taken from the counter: the decision logic (pure, no images).

The image side (vision/items/image.py) compares the counter crop with a
reference of the counter as it should be, block by block, and hands this module
one :class:`Observation` per frame: the regions (connected changed blocks) with
a colour signature of each, whether anything moves in the counter zone, and
who is there. :func:`step` turns those into events and tells the image side when
to learn its reference.

Rules (docs/eval.md, "items"):
- The reference is learned once the customer position is empty and the counter
  has been still for ``settle_s``; afterwards it is refreshed slowly (except
  where an item lies) so lighting drift is absorbed.
- Whatever differs from the reference when a customer arrives (the check before
  the transaction) is left alone. While a customer is there nothing is decided:
  hands, papers and the customer's things come and go.
- After the customer has gone, a new region that stays, with the counter still,
  for ``hold_s`` is an ``item_left``. A new region whose current colour matches
  the reference colour of another new region of similar size is a paper moved
  within the counter: no event, the reference takes the new layout.
- A left item whose blocks match the reference again for ``taken_hold_s`` while
  nobody is at the counter (no staff in the seat, no customer) is ``item_taken``;
  gone while someone is there, it was collected (``item_collected``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

Block = tuple[int, int]  # (row, col) in the counter's block grid
Colour = tuple[float, float, float]  # chroma r, chroma g, relative brightness


@dataclass(frozen=True, slots=True)
class ItemParams:
    """Timings and sizes of the item rules."""

    hold_s: float = 4.0  # a new region must stay this long after the customer left
    taken_hold_s: float = 2.0  # an item's place must look empty this long
    settle_s: float = 3.0  # still and no customer this long before learning the reference
    min_blocks: int = 2  # smaller regions are noise
    moved_colour: float = 0.06  # colour distance up to which two places hold the same thing
    moved_area: float = 2.0  # area ratio up to which two regions can be one moved thing
    cleared_share: float = 0.5  # an item is gone when this share of its blocks is unchanged

    def __post_init__(self) -> None:
        if self.hold_s < 0 or self.taken_hold_s < 0 or self.settle_s < 0:
            raise ValueError("hold_s, taken_hold_s and settle_s must be >= 0")
        if self.min_blocks < 1 or self.moved_area < 1 or not 0 < self.cleared_share <= 1:
            raise ValueError("min_blocks >= 1, moved_area >= 1, 0 < cleared_share <= 1")


@dataclass(frozen=True, slots=True)
class Region:
    """Connected changed blocks, with the colour now and in the reference over them."""

    blocks: frozenset[Block]
    now: Colour = (0.0, 0.0, 0.0)
    ref: Colour = (0.0, 0.0, 0.0)

    @property
    def area(self) -> int:
        return len(self.blocks)

    def box(self) -> tuple[int, int, int, int]:
        """(col0, row0, col1, row1) in blocks, end-exclusive."""
        rows = [r for r, _ in self.blocks]
        cols = [c for _, c in self.blocks]
        return min(cols), min(rows), max(cols) + 1, max(rows) + 1


@dataclass(frozen=True, slots=True)
class Observation:
    """One frame as the item rules see it."""

    t: float
    customer: bool  # someone at (or not yet known to have left) the customer position
    staff: bool  # someone in the seat
    regions: tuple[Region, ...] = ()  # where the counter differs from the reference
    moving: bool = False  # something moves in the counter zone right now
    have_reference: bool = True

    @property
    def changed(self) -> frozenset[Block]:
        return frozenset().union(*(r.blocks for r in self.regions))


@dataclass(frozen=True, slots=True)
class Item:
    """An item reported left and not yet gone."""

    item_id: str
    blocks: frozenset[Block]
    since: float


@dataclass(frozen=True, slots=True)
class ItemEvent:
    """``item_left``, ``item_taken`` or ``item_collected`` for one item."""

    type: str
    t: float
    item_id: str
    box: tuple[int, int, int, int]
    blocks: int


@dataclass(frozen=True, slots=True)
class Learn:
    """Copy the current frame into the reference: everywhere (``blocks`` None) or there."""

    blocks: frozenset[Block] | None = None


@dataclass(frozen=True, slots=True)
class Refresh:
    """Blend the current frame slowly into the reference, except over ``keep``."""

    keep: frozenset[Block] = frozenset()


Action = Learn | Refresh


@dataclass(frozen=True, slots=True)
class ItemState:
    """Everything the item rules remember."""

    id_prefix: str = "item"
    next_n: int = 1
    learned: bool = False
    quiet_since: float | None = None  # no customer and still since
    before: frozenset[Block] = frozenset()  # changed when the last customer arrived
    was_customer: bool = False
    candidate_since: float | None = None  # new regions present, still, no customer
    candidate: frozenset[Block] = frozenset()  # their blocks (a shadow moving on restarts)
    items: tuple[Item, ...] = ()
    empty_since: dict[str, float] = field(default_factory=dict)  # item id -> looks empty since


def components(blocks: Iterable[Block]) -> list[frozenset[Block]]:
    """Connected groups of blocks (8-neighbourhood), largest first, then by position."""
    left = set(blocks)
    out: list[frozenset[Block]] = []
    while left:
        seed = min(left)
        group, todo = {seed}, [seed]
        left.discard(seed)
        while todo:
            r, c = todo.pop()
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    n = (r + dr, c + dc)
                    if n in left:
                        left.discard(n)
                        group.add(n)
                        todo.append(n)
        out.append(frozenset(group))
    return sorted(out, key=lambda g: (-len(g), min(g)))


def jaccard(a: frozenset[Block], b: frozenset[Block]) -> float:
    """Shared share of two block sets (1.0 for two empty sets)."""
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def _distance(a: Colour, b: Colour) -> float:
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def moved_pairs(regions: list[Region], params: ItemParams) -> set[int]:
    """Indexes of regions that are one thing moved: A now looks like B did, sizes alike."""
    out: set[int] = set()
    for i, a in enumerate(regions):
        for j, b in enumerate(regions):
            if i == j:
                continue
            ratio = max(a.area, b.area) / min(a.area, b.area)
            if ratio <= params.moved_area and _distance(a.now, b.ref) <= params.moved_colour:
                out.update((i, j))
    return out


def _item_gone(item: Item, changed: frozenset[Block], params: ItemParams) -> bool:
    still_there = len(item.blocks & changed)
    return still_there <= (1.0 - params.cleared_share) * len(item.blocks)


def step(state: ItemState, obs: Observation,
         params: ItemParams) -> tuple[ItemState, list[ItemEvent], list[Action]]:
    """Advance the item rules by one observation."""
    t = obs.t
    events: list[ItemEvent] = []
    actions: list[Action] = []
    quiet = not obs.customer and not obs.moving
    quiet_since = (state.quiet_since if state.quiet_since is not None else t) if quiet else None
    settled = quiet_since is not None and t - quiet_since >= params.settle_s
    if not state.learned or not obs.have_reference:
        if settled:
            actions.append(Learn())
            return replace(state, learned=True, quiet_since=quiet_since), events, actions
        return replace(state, quiet_since=quiet_since, was_customer=obs.customer), events, actions

    changed = obs.changed
    # The check before a transaction: what is there now is not the customer's doing.
    before = changed if obs.customer and not state.was_customer else state.before

    # Items already reported: gone for long enough?
    items: list[Item] = []
    empty_since = dict(state.empty_since)
    for item in state.items:
        if not _item_gone(item, changed, params) or obs.moving:
            empty_since.pop(item.item_id, None)
            items.append(item)
            continue
        since = empty_since.setdefault(item.item_id, t)
        if t - since < params.taken_hold_s:
            items.append(item)
            continue
        del empty_since[item.item_id]
        kind = "item_collected" if obs.customer or obs.staff else "item_taken"
        region = Region(item.blocks)
        events.append(ItemEvent(kind, t, item.item_id, region.box(), region.area))
        actions.append(Learn(item.blocks))

    # New regions after the customer has gone.
    taken = frozenset().union(*(i.blocks for i in items))
    candidate_since = None
    candidate: frozenset[Block] = frozenset()
    next_n = state.next_n
    if not obs.customer:
        fresh = [r for r in obs.regions
                 if r.area >= params.min_blocks and not (r.blocks & taken)
                 and len(r.blocks - before) * 2 > r.area]
        candidate = frozenset().union(*(r.blocks for r in fresh))
        same = jaccard(candidate, state.candidate) >= 0.5
        if fresh and not obs.moving:
            candidate_since = state.candidate_since
            if candidate_since is None or not same:
                candidate_since = t
            if t - candidate_since >= params.hold_s:
                moved = moved_pairs(fresh, params)
                for k, r in enumerate(fresh):
                    if k in moved:
                        actions.append(Learn(r.blocks))
                        continue
                    item_id = f"{state.id_prefix}-{next_n}"
                    next_n += 1
                    items.append(Item(item_id, r.blocks, t))
                    events.append(ItemEvent("item_left", t, item_id, r.box(), r.area))
                candidate_since = None
        elif fresh and same:
            candidate_since = state.candidate_since  # a hand passing pauses, never restarts
        if settled and not fresh and not items:
            keep = frozenset().union(*(r.blocks for r in obs.regions))
            actions.append(Refresh(keep))
    new_state = ItemState(state.id_prefix, next_n, True, quiet_since, before, obs.customer,
                          candidate_since, candidate if candidate_since is not None
                          else frozenset(), tuple(items), empty_since)
    return new_state, events, actions
