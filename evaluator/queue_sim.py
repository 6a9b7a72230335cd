"""Queue-machine simulators (docs/queue-protocol.md): the hall's ticket system, as a real peer.

``QueueBoard`` is the simulated system's state (waiting per service, calls numbered from
1). ``QueueLineSim`` speaks the serial line format over a pty master or a pyserial URL;
``evaluator.queue_sim_http.QueueHttpSim`` serves the same board as the HTTP JSON poll.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from evaluator.sim_transport import DeviceTransport, FdTransport, SerialTransport, TransportClosed
from hal.queue.lines import Called, Heartbeat, Record, Waiting, encode


@dataclass(frozen=True, slots=True)
class BoardCall:
    call_id: int
    ticket: str
    counter: str


class QueueBoard:
    """What the simulated queue machine knows; thread-safe."""

    def __init__(self, keep_calls: int = 50) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, int] = {}
        self._calls: list[BoardCall] = []
        self._keep = keep_calls
        self._next_id = 1

    def set_waiting(self, service: str, waiting: int) -> None:
        encode(Waiting(service, waiting))  # ValueError if the format cannot carry it
        with self._lock:
            self._waiting[service] = waiting

    def call(self, ticket: str, counter: str) -> BoardCall:
        encode(Called(ticket, counter))
        with self._lock:
            c = BoardCall(self._next_id, ticket, counter)
            self._next_id += 1
            self._calls = [*self._calls, c][-self._keep:]
            return c

    def renumber(self) -> None:
        """The queue machine restarted: calls forgotten, numbering from 1 again."""
        with self._lock:
            self._calls = []
            self._next_id = 1

    def snapshot(self) -> dict[str, object]:
        """The HTTP poll's document."""
        with self._lock:
            return {
                "protocol": 1,
                "services": [{"service": s, "waiting": n}
                             for s, n in sorted(self._waiting.items())],
                "calls": [{"call_id": c.call_id, "ticket": c.ticket, "counter": c.counter}
                          for c in self._calls],
            }

    def waiting_records(self) -> list[Waiting]:
        with self._lock:
            return [Waiting(s, n) for s, n in sorted(self._waiting.items())]


class QueueLineSim:
    """The queue machine's end of a serial line: sends Q on change and every
    ``repeat_s``, C for each call, H every ``heartbeat_s`` (None: silent, a stopped feed)."""

    def __init__(self, transport: DeviceTransport, *, board: QueueBoard | None = None,
                 heartbeat_s: float | None = 1.0, repeat_s: float | None = 10.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._tr = transport
        self.board = board or QueueBoard()
        self._heartbeat_s = heartbeat_s
        self._repeat_s = repeat_s
        self._mono = monotonic
        self._tx = threading.Lock()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = monotonic()
        self.lines_sent = 0
        self.closed = False

    @classmethod
    def over_fd(cls, fd: int, **kwargs: float | None) -> QueueLineSim:
        return cls(FdTransport(fd), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def over_url(cls, url: str, **kwargs: float | None) -> QueueLineSim:
        return cls(SerialTransport(url, baudrate=9600), **kwargs)  # type: ignore[arg-type]

    def __enter__(self) -> QueueLineSim:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="queue-sim", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._tr.close()

    def pause(self, paused: bool = True) -> None:
        """Stop (or resume) sending anything on its own: the feed goes quiet."""
        if paused:
            self._paused.set()
        else:
            self._paused.clear()

    def set_waiting(self, service: str, waiting: int) -> None:
        self.board.set_waiting(service, waiting)
        self.send(Waiting(service, waiting))

    def call(self, ticket: str, counter: str) -> None:
        self.board.call(ticket, counter)
        self.send(Called(ticket, counter))

    def send(self, record: Record) -> None:
        self.send_raw(encode(record))
        self.lines_sent += 1

    def send_raw(self, data: bytes) -> None:
        """Put arbitrary bytes on the line (noise, hand-made lines); TransportClosed if gone."""
        with self._tx:
            self._tr.write(data)

    def _run(self) -> None:
        next_beat = next_repeat = self._mono()
        try:
            while not self._stop.wait(0.02):
                now = self._mono()
                if self._paused.is_set():
                    continue
                if self._heartbeat_s is not None and now >= next_beat:
                    next_beat = now + self._heartbeat_s
                    self.send(Heartbeat(int(now - self._t0)))
                if self._repeat_s is not None and now >= next_repeat:
                    next_repeat = now + self._repeat_s
                    for rec in self.board.waiting_records():
                        self.send(rec)
        except TransportClosed:
            self.closed = True
