"""The device-side keypad simulator: an evaluator keypad speaking the wire protocol.

It is a real serial peer (over a pty master or any pyserial URL) for demos, replay and
tests. The keypad simulator keeps what the unit shows, presses keys on request, sends
heartbeats, ACKs and re-sends presses the unit did not ACK, and in auto-rate mode answers
each PROMPT_RATING with the next key of a script.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TypedDict, Unpack

from evaluator.sim_display import DisplayState, shown
from evaluator.sim_transport import DeviceTransport, FdTransport, SerialTransport, TransportClosed
from hal.keypad.messages import STATE_CODES
from hal.keypad.protocol import (
    KEYPAD_TO_UNIT,
    VERSION_2,
    Ack,
    Clear,
    Fault,
    FrameParser,
    Heartbeat,
    Key,
    ManualRecord,
    Message,
    ParseError,
    Ping,
    PleaseRate,
    Pong,
    PromptRating,
    RatingKey,
    ThankYou,
    WindowStateKey,
    encode,
    with_seq,
)

log = logging.getLogger(__name__)

_INTERBYTE_S = 0.1


@dataclass(frozen=True, slots=True)
class SimAction:
    """Something the simulated keypad sent on its own or on request."""

    t: float  # simulator monotonic time
    kind: str  # "key" | "please_rate" | "manual_record" | "fault" | "auto_skip" | "window_state"
    seq: int | None = None
    key: int | None = None
    prompt_seq: int | None = None  # the PROMPT_RATING an auto-rate answered


@dataclass(slots=True)
class SimCounters:
    heartbeats: int = 0
    retransmissions: int = 0
    gave_up: int = 0
    acks: int = 0
    unexpected: int = 0


class SimOptions(TypedDict, total=False):
    """Keyword options of KeypadSim, for its over_fd/over_url constructors."""

    heartbeat_s: float | None
    auto_rate: Iterable[int | None]
    auto_rate_delay_s: float
    ack_timeout_s: float
    retries: int
    on_event: Callable[[str], None] | None
    monotonic: Callable[[], float]
    protocol: int


class KeypadSim:
    """A simulated evaluator keypad (the device end of the line)."""

    def __init__(
        self,
        transport: DeviceTransport,
        *,
        heartbeat_s: float | None = 1.0,
        auto_rate: Iterable[int | None] = (),
        auto_rate_delay_s: float = 0.0,
        ack_timeout_s: float = 0.3,
        retries: int = 2,
        on_event: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        protocol: int = VERSION_2,
    ) -> None:
        self._tr = transport
        # A version-2 keypad speaks version 2 from power-on and reads both versions
        # (docs/keypad-protocol.md, section 9); protocol=1 is an older keypad.
        self.protocol = protocol
        self.speaks = protocol
        self._prompt_seq: int | None = None  # the PROMPT_RATING on screen
        self._heartbeat_s = heartbeat_s
        self._script: list[int | None] = list(auto_rate)
        self._auto_delay_s = auto_rate_delay_s
        self._ack_timeout_s = ack_timeout_s
        self._retries = retries
        self._on_event = on_event
        self._mono = monotonic
        self._parser = FrameParser(max_version=protocol)
        self._cond = threading.Condition()  # guards state below, wakes wait_for()
        self._tx_lock = threading.Lock()
        self._seq = 0
        self._display = DisplayState()
        self._prompt_ends: float | None = None
        self._received: list[Message] = []
        self._actions: list[SimAction] = []
        self._scheduled: list[tuple[float, int, int]] = []  # (due, key, prompt seq)
        self._unacked: dict[int, tuple[bytes, float, int]] = {}  # seq -> frame, due, tries
        self.counters = SimCounters()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = monotonic()
        self.closed = False

    @classmethod
    def over_fd(cls, fd: int, **kwargs: Unpack[SimOptions]) -> KeypadSim:
        """Simulate on a pty master fd (see hal.pty.PtyPair)."""
        return cls(FdTransport(fd), **kwargs)

    @classmethod
    def over_url(cls, url: str, **kwargs: Unpack[SimOptions]) -> KeypadSim:
        """Simulate on a pyserial URL (a real port wired to the unit's port)."""
        return cls(SerialTransport(url), **kwargs)

    def __enter__(self) -> KeypadSim:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="keypad-sim", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._tr.close()

    # --- what a person does at the keypad ------------------------------------------

    def press(self, key: int) -> int:
        """Press customer key ``key``; returns the frame's sequence number.

        Like the other press methods it raises TransportClosed once the line is gone."""
        return self._press(self._key(key, self._prompt_seq), "key", key=key,
                           prompt=self._prompt_seq)

    def _key(self, key: int, prompt_seq: int | None) -> Message:
        """A press as this keypad sends it: RATING_KEY while a prompt is on screen, in
        version 2; KEY otherwise."""
        if self.speaks == VERSION_2 and prompt_seq is not None:
            return RatingKey(key, prompt_seq)
        return Key(key)

    def please_rate(self) -> int:
        return self._press(PleaseRate(), "please_rate")

    def manual_record(self) -> int:
        return self._press(ManualRecord(), "manual_record")

    def window_state(self, state: str) -> int:
        """Press the staff-side window state key for ``state`` (open, closed, away)."""
        return self._press(WindowStateKey(STATE_CODES[state]), "window_state")

    def fault(self, code: int, text: str) -> int:
        return self._press(Fault(code, text), "fault")

    def send_raw(self, data: bytes) -> None:
        """Put arbitrary bytes on the line (noise, hand-made frames)."""
        with self._tx_lock:
            self._tr.write(data)

    # --- what a test looks at ---------------------------------------------------------

    @property
    def display(self) -> DisplayState:
        with self._cond:
            return self._display

    @property
    def received(self) -> list[Message]:
        with self._cond:
            return list(self._received)

    @property
    def actions(self) -> list[SimAction]:
        with self._cond:
            return list(self._actions)

    @property
    def script_left(self) -> list[int | None]:
        with self._cond:
            return list(self._script)

    @property
    def done(self) -> bool:
        """The auto-rate script is used up and every press was ACKed or given up on."""
        with self._cond:
            return not self._script and not self._scheduled and not self._unacked

    @property
    def unacked(self) -> int:
        with self._cond:
            return len(self._unacked)

    @property
    def parser(self) -> FrameParser:
        return self._parser

    def wait_for(self, predicate: Callable[[KeypadSim], bool], timeout_s: float | None) -> bool:
        """Wait until ``predicate(self)`` holds (re-checked on every change) or time runs out."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout=timeout_s)

    # --- internals ----------------------------------------------------------------------

    def _next_frame(self, msg: Message) -> tuple[int, bytes]:
        seq = self._seq
        self._seq = (self._seq + 1) & 0xFF
        return seq, encode(with_seq(msg, seq), self.speaks)

    def _send(self, msg: Message) -> int:
        with self._tx_lock:
            seq, frame = self._next_frame(msg)
            self._tr.write(frame)
        return seq

    def _press(
        self, msg: Message, kind: str, key: int | None = None, prompt: int | None = None
    ) -> int:
        with self._tx_lock:
            seq, frame = self._next_frame(msg)
            with self._cond:
                self._unacked[seq] = (frame, self._mono() + self._ack_timeout_s, self._retries)
                self._actions.append(SimAction(self._mono(), kind, seq, key, prompt))
                self._cond.notify_all()
            self._tr.write(frame)
        self._tell(f"pressed key {key}" if key is not None else f"sent {kind.replace('_', ' ')}")
        return seq

    def _tell(self, text: str) -> None:
        if self._on_event is not None:
            self._on_event(text)

    def _run(self) -> None:
        last_rx = next_beat = self._mono()
        try:
            while not self._stop.is_set():
                data = self._tr.read(0.02)
                now = self._mono()
                if data:
                    last_rx = now
                    self._handle(self._parser.feed(data), now)
                elif self._parser.pending and now - last_rx >= _INTERBYTE_S:
                    self._handle(self._parser.idle(), now)
                if self._heartbeat_s is not None and now >= next_beat:
                    next_beat = now + self._heartbeat_s
                    self._send(Heartbeat(int(now - self._t0)))
                    self.counters.heartbeats += 1
                self._timers(now)
        except TransportClosed as exc:
            log.info("keypad simulator: line closed (%s)", exc)
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def _timers(self, now: float) -> None:
        with self._cond:
            due = [s for s in self._scheduled if s[0] <= now]
            if self._prompt_ends is not None and now >= self._prompt_ends:
                self._prompt_ends = self._prompt_seq = None
                self._display = dataclasses.replace(self._display, prompt_timeout_s=None)
                self._cond.notify_all()
            resend: list[bytes] = []
            for seq, (frame, when, tries) in list(self._unacked.items()):
                if when > now:
                    continue
                if tries <= 0:
                    del self._unacked[seq]
                    self.counters.gave_up += 1
                else:
                    self._unacked[seq] = (frame, now + self._ack_timeout_s, tries - 1)
                    resend.append(frame)
                self._cond.notify_all()
        for item in due:
            _, key, prompt_seq = item
            self._press(self._key(key, prompt_seq), "key", key=key, prompt=prompt_seq)
            with self._cond:  # only now, so `done` never sees a press in flight as done
                self._scheduled.remove(item)
        for frame in resend:
            self.counters.retransmissions += 1
            self.send_raw(frame)

    def _handle(self, items: list[Message | ParseError], now: float) -> None:
        for item in items:
            if isinstance(item, ParseError):
                continue  # counted in parser.stats
            if isinstance(item, Ack):
                with self._cond:
                    self._unacked.pop(item.acked_seq, None)
                    self.counters.acks += 1
                    self._received.append(item)
                    self._cond.notify_all()
                continue
            if item.TYPE in KEYPAD_TO_UNIT:
                self.counters.unexpected += 1  # our own frames echoed (loop://)
                continue
            self._apply(item, now)
            reply: Message = Pong(item.seq) if isinstance(item, Ping) else Ack(item.seq)
            self._send(reply)

    def _apply(self, msg: Message, now: float) -> None:
        with self._cond:
            self._display, note = shown(self._display, msg)
            if isinstance(msg, PromptRating):
                self._prompt_ends = now + msg.timeout_ds / 10
                self._prompt_seq = msg.seq
                if self._script:
                    answer = self._script.pop(0)
                    if answer is None:
                        self._actions.append(SimAction(now, "auto_skip", prompt_seq=msg.seq))
                    else:
                        self._scheduled.append((now + self._auto_delay_s, answer, msg.seq))
            elif isinstance(msg, ThankYou | Clear):
                self._prompt_ends = self._prompt_seq = None
            self._received.append(msg)
            self._cond.notify_all()
        if note:
            self._tell(note)
