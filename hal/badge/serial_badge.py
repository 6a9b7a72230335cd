"""Badge reader on a serial line: one UID per line (hal.badge.base.BadgeReader).

A keyboard-emulation (evdev) reader is a second back-end behind the same interface; it
can reuse BadgeLineParser by feeding it the typed characters and Enter.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from hal.badge.config import SerialBadgeConfig
from hal.badge.lines import BadgeLineParser, BadgeLineStats
from hal.badge.read_queue import BadgeReadQueue, QueuedReads
from hal.serial_link import LinkStats, PortFactory, SerialLink, url_port_factory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BadgeStats:
    """A snapshot of the badge reader's counters."""

    lines: BadgeLineStats
    link: LinkStats
    repeats_suppressed: int
    reads_dropped: int


class SerialBadgeReader(QueuedReads):
    """Reads UIDs from a serial badge reader, reopening the port after it is unplugged.

    Readers repeat a UID while a card is held on them; a repeat of the same UID within
    ``repeat_suppress_s`` is counted and dropped so holding a card is not "tap twice"
    (which would log the staff member straight out again).
    """

    @classmethod
    def from_config(cls, cfg: SerialBadgeConfig, clock: Callable[[], float]) -> SerialBadgeReader:
        """From its ``[badge]`` section; nothing opens until start()."""
        return cls(cfg.url, clock=clock, baudrate=cfg.baudrate)

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float],
        baudrate: int = 9600,
        reconnect_s: float = 1.0,
        max_line: int = 64,
        repeat_suppress_s: float = 1.0,
        queue_size: int = 64,
        port_factory: PortFactory | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._clock = clock
        self._mono = monotonic
        self._queue = BadgeReadQueue(clock, monotonic, repeat_suppress_s, queue_size,
                                     str(url))
        self._parser = BadgeLineParser(max_line)
        self._lost = False
        factory = port_factory or url_port_factory(url, baudrate=baudrate)
        self._link = SerialLink(
            name=f"badge {url}",
            port_factory=factory,
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

    @property
    def is_open(self) -> bool:
        return self._link.is_open

    @property
    def stats(self) -> BadgeStats:
        return BadgeStats(
            lines=dataclasses.replace(self._parser.stats),
            link=dataclasses.replace(self._link.stats),
            repeats_suppressed=self._queue.suppressed,
            reads_dropped=self._queue.dropped,
        )

    def _on_open(self) -> None:
        self._parser.reset()
        if self._lost:
            self._lost = False
            log.info("badge reader %s: recovered", self.url)

    def _on_lost(self, reason: str) -> None:
        self._lost = True
        log.warning("badge reader %s: unavailable: %s", self.url, reason)

    def _on_data(self, data: bytes) -> None:
        self._queue.accept(self._parser.feed(data))
