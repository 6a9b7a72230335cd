"""The ``[items]`` section and the rules for the ``counter`` zone (left and taken items).

The counter zone is ``[zones.counter]``, beside ``seat`` and ``customer``; only its
box is used (the presence fields of a zone do not apply to it). Item watching is on
when that zone exists. Check-config rules for it:

- inside the frame (every edge a fraction 0..1, as for every zone);
- it may overlap the customer and seat zones (the customer stands behind the
  counter, so in the picture their boxes meet), but it may cover at most
  ``MAX_COVER`` (half) of either: a counter box over most of the customer zone
  would see every customer as an item, and presence could not be told from items.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from pydantic import Field

from firmware.config.base import Strict

COUNTER = "counter"
MAX_COVER = 0.5


class Box(Protocol):
    x0: float
    y0: float
    x1: float
    y1: float


class ItemsConfig(Strict):
    hold_s: float = Field(4.0, ge=0.5, le=600,
                          description="A new thing on the counter after the customer left "
                                      "must stay this long to be an item_left.")
    taken_hold_s: float = Field(2.0, ge=0.2, le=120,
                                description="An item's place must look empty this long, "
                                            "nobody at the counter, to be item_taken.")
    settle_s: float = Field(3.0, ge=0.5, le=600,
                            description="No customer and a still counter this long before "
                                        "the empty reference is learned.")
    min_blocks: int = Field(2, ge=1, le=100,
                            description="Smallest item, in blocks of the counter grid "
                                        "(6 block rows over the counter's height).")
    clip_s: float = Field(6.0, ge=1, le=60,
                          description="Length of the clip kept after an item_left.")


def cover(a: Box, b: Box) -> float:
    """Share of ``b``'s area that ``a`` covers."""
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    return ix * iy / max(1e-9, (b.x1 - b.x0) * (b.y1 - b.y0))


def counter_problems(zones: Mapping[str, Box]) -> list[str]:
    """What is wrong with the counter zone against the others ('' list when fine)."""
    counter = zones.get(COUNTER)
    if counter is None:
        return []
    out = []
    for other in ("customer", "seat"):
        zone = zones.get(other)
        if zone is not None and cover(counter, zone) > MAX_COVER:
            out.append(f"zones.counter covers {cover(counter, zone):.0%} of zones.{other}; "
                       f"at most {MAX_COVER:.0%} (the counter top is in front of the "
                       f"{other}, not over it)")
    return out
