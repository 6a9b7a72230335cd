"""The queue-machine back-end chosen by ``[queue] type`` (nothing opens until start())."""

from __future__ import annotations

from collections.abc import Callable

from firmware.config import UnitConfig
from firmware.config_queue import HttpQueueConfig
from hal.queue.base import QueueFeed


def build_queue_feed(cfg: UnitConfig, clock: Callable[[], float]) -> QueueFeed | None:
    q = cfg.queue
    if q is None:
        return None
    if isinstance(q, HttpQueueConfig):
        from hal.queue.http_feed import HttpQueueFeed

        return HttpQueueFeed(q.url, clock=clock, poll_s=q.poll_s, timeout_s=q.timeout_s,
                             max_bytes=q.max_bytes)
    from hal.queue.serial_feed import SerialQueueFeed

    return SerialQueueFeed(q.url, clock=clock, baudrate=q.baudrate)
