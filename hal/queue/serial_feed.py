"""Queue machine on a serial line (docs/queue-protocol.md), by pyserial URL.

A reader thread feeds the pure LineParser and hands QueueReadings over, stamped with the
caller's clock. Rejected lines are logged once per good spell and otherwise counted; the
feed's staleness (the one "feed lost" line) is decided by the daemon from the readings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from hal.queue.base import QueueReading, ReadingQueue
from hal.queue.lines import Called, Heartbeat, LineError, LineParser, LineStats, Record, Waiting
from hal.serial_link import LinkStats, PortFactory, SerialLink, url_port_factory

if TYPE_CHECKING:
    from hal.queue.config import SerialQueueConfig

log = logging.getLogger(__name__)


class SerialQueueFeed:
    """hal.queue.base.QueueFeed over ``$...*CRC`` lines."""

    @classmethod
    def from_config(cls, cfg: SerialQueueConfig, clock: Callable[[], float]) -> SerialQueueFeed:
        """From its ``[queue]`` section; nothing opens until start()."""
        return cls(cfg.url, clock=clock, baudrate=cfg.baudrate)

    def __init__(self, url: str, *, clock: Callable[[], float], baudrate: int = 9600,
                 reconnect_s: float = 1.0, queue_size: int = 1024,
                 port_factory: PortFactory | None = None) -> None:
        self.url = url
        self._clock = clock
        self._parser = LineParser()
        self._queue = ReadingQueue(queue_size)
        self._noise_logged = False
        self._problem = ""
        self._link = SerialLink(
            name=f"queue {url}",
            port_factory=port_factory or url_port_factory(url, baudrate=baudrate),
            reconnect_s=reconnect_s,
            on_data=self._on_data,
            on_open=self._on_open,
            on_lost=self._on_lost,
            on_poll=lambda: None,
        )

    def start(self) -> None:
        self._link.start()

    def stop(self) -> None:
        self._link.stop()

    def readings(self) -> list[QueueReading]:
        return self._queue.take()

    def wait_for_reading(self, timeout_s: float) -> bool:
        return self._queue.wait(timeout_s)

    @property
    def problem(self) -> str:
        return self._problem

    @property
    def parser_stats(self) -> LineStats:
        return self._parser.stats.copy()

    @property
    def link_stats(self) -> LinkStats:
        return self._link.stats

    @property
    def dropped(self) -> int:
        return self._queue.dropped

    def _on_open(self) -> None:
        self._parser.reset()
        self._problem = "port open, no valid line yet"

    def _on_lost(self, reason: str) -> None:
        # Not logged here: the daemon logs the feed's loss once, when it goes stale.
        self._problem = reason
        log.debug("queue %s: %s", self.url, reason)

    def _on_data(self, data: bytes) -> None:
        for item in self._parser.feed(data):
            if isinstance(item, LineError):
                self._reject(item)
            else:
                self._noise_logged = False
                self._problem = ""
                self._queue.push(to_reading(item, self._clock()))

    def _reject(self, err: LineError) -> None:
        self._problem = f"rejected lines ({err.kind})"
        if not self._noise_logged:
            self._noise_logged = True
            log.warning("queue %s: rejected a line (%s: %s); further rejections are only "
                        "counted until a good line", self.url, err.kind, err.detail)


def to_reading(record: Record, t: float) -> QueueReading:
    if isinstance(record, Waiting):
        return QueueReading("waiting", t, service=record.service, waiting=record.waiting)
    if isinstance(record, Called):
        return QueueReading("called", t, ticket=record.ticket, counter=record.counter)
    assert isinstance(record, Heartbeat)
    return QueueReading("alive", t)
