"""The queue-machine feeds by ``[queue] type``, loaded on demand."""

from __future__ import annotations

from hal.queue.config import HttpQueueConfig, SerialQueueConfig
from hal.registry import Backend

QUEUE_FEEDS = (
    Backend("serial", SerialQueueConfig, "hal.queue.serial_feed:SerialQueueFeed",
            diagnose="hal.queue.diagnose:diagnose_serial"),
    Backend("http", HttpQueueConfig, "hal.queue.http_feed:HttpQueueFeed"),
)
