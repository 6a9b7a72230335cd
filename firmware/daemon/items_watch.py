"""Left and taken items on the counter: the unit's side of vision/items/rules.py.

Each analysis frame's counter crop is compared with the empty reference
(vision/items/image.py); the rules (vision/items/rules.py) turn that into events. The
unit (firmware/daemon/unit.py) adds the snapshot and the clip and records what
:meth:`ItemsWatch.records` returns: the item event itself, and an ``item`` alert
(raised on ``item_left``, cleared when the item is taken or collected) that HQ's
alert threads already know (hq/alerts/signals.py, kind ``item`` by ``item_id``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from firmware.config.items import COUNTER, ItemsConfig
from firmware.config.unit import UnitConfig
from vision.items.image import CompareParams, CounterReference, grid_shape, prepare
from vision.items.rules import ItemEvent, ItemParams, ItemState, Observation, step
from vision.zones import Zone

log = logging.getLogger(__name__)


def item_params(cfg: ItemsConfig) -> ItemParams:
    return ItemParams(hold_s=cfg.hold_s, taken_hold_s=cfg.taken_hold_s,
                      settle_s=cfg.settle_s, min_blocks=cfg.min_blocks)


class ItemsWatch:
    """The item rules and the counter's reference, fed one frame at a time."""

    def __init__(self, zone: Zone, cfg: ItemsConfig, id_prefix: str,
                 compare: CompareParams | None = None) -> None:
        self.zone = zone
        self.cfg = cfg
        self.params = item_params(cfg)
        self.reference = CounterReference(compare)
        self.state = ItemState(id_prefix=f"{id_prefix}-item")
        self._grid: tuple[int, int] = (1, 1)
        self._frame_size: tuple[int, int] = (1, 1)

    def frame(self, image: np.ndarray, t: float, *, customer: bool,
              staff: bool) -> list[ItemEvent]:
        """Compare the counter in ``image`` (taken at ``t``) and advance the rules."""
        crop = self.zone.crop(image)
        self._frame_size = (image.shape[1], image.shape[0])
        self._grid = grid_shape(crop.shape[1], crop.shape[0], self.reference.params)
        cur = prepare(crop, self.reference.params)
        regions, moving = self.reference.compare(cur)
        obs = Observation(t, customer, staff, regions, moving,
                          have_reference=self.reference.image is not None)
        learned = self.state.learned
        self.state, events, actions = step(self.state, obs, self.params)
        for action in actions:
            self.reference.apply(action, cur)
        if not learned and self.state.learned:
            log.info("counter reference learned at %.1f s", t)
        for ev in events:
            log.info("%s %s at %.1f s, box %s", ev.type, ev.item_id, t, self.box(ev))
        return events

    def box(self, ev: ItemEvent) -> list[float]:
        """The event's box in frame fractions (x0, y0, x1, y1)."""
        rows, cols = self._grid
        c0, r0, c1, r1 = ev.box
        z = self.zone
        w, h = z.x1 - z.x0, z.y1 - z.y0
        return [round(z.x0 + w * c0 / cols, 4), round(z.y0 + h * r0 / rows, 4),
                round(z.x0 + w * c1 / cols, 4), round(z.y0 + h * r1 / rows, 4)]

    def records(self, ev: ItemEvent, snapshot_id: str | None,
                clip_id: str | None) -> list[tuple[str, dict[str, Any]]]:
        """(event type, data) to record for ``ev``: the item event, then its alert."""
        data: dict[str, Any] = {"item_id": ev.item_id, "box": self.box(ev),
                                "blocks": ev.blocks}
        extra = {k: v for k, v in (("snapshot_id", snapshot_id), ("clip_id", clip_id))
                 if v is not None}
        if ev.type == "item_left":
            return [(ev.type, {**data, **extra}),
                    ("alert_raised", {"alert": "item", "level": 1, "item_id": ev.item_id,
                                      **extra})]
        return [(ev.type, data), ("alert_cleared", {"alert": "item", "item_id": ev.item_id,
                                                    "reason": ev.type})]


def build_items_watch(cfg: UnitConfig, id_prefix: str) -> ItemsWatch | None:
    """The watch when ``zones.counter`` is configured, else None."""
    z = cfg.zones.get(COUNTER)
    if z is None:
        return None
    return ItemsWatch(Zone(COUNTER, z.x0, z.y0, z.x1, z.y1), cfg.items, id_prefix)
