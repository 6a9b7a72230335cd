"""The queue-machine back-end chosen by ``[queue] type`` (nothing opens until start())."""

from __future__ import annotations

from collections.abc import Callable

from firmware.config.unit import UnitConfig
from hal.queue.backends import QUEUE_FEEDS
from hal.queue.base import QueueFeed
from hal.registry import open_backend


def build_queue_feed(cfg: UnitConfig, clock: Callable[[], float]) -> QueueFeed | None:
    if cfg.queue is None:
        return None
    feed: QueueFeed = open_backend(QUEUE_FEEDS, cfg.queue, clock)
    return feed
