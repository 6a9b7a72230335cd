"""Customer evaluator keypad on a serial line (docs/keypad-protocol.md).

Transport by pyserial URL, so ``/dev/ttyUSB0``, a pseudo-terminal and ``loop://`` all
work. A reader thread feeds the pure FrameParser and queues KeypadEvents stamped with the
caller's clock (media time in replay). Which key means which rating is not decided here;
whether a press may be a rating at all is (rating_gate.py): with a version-2 keypad only a
RATING_KEY naming the open prompt is queued as a "key" event, other presses as
"stray_key". The link starts in version 1 and moves to version 2 at the keypad's first
version-2 frame (docs/keypad-protocol.md, section 9).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import cast

from hal.keypad.base import KeypadEvent, StaffCard, WindowStateName
from hal.keypad.config import KeypadConfig
from hal.keypad.messages import (
    NAME_MAX_BYTES,
    PHOTO_ID_MAX_BYTES,
    STAFF_NUMBER_MAX_BYTES,
    STATE_CODES,
    STATE_TEXT_MAX_BYTES,
    TEXT_MAX_BYTES,
    WINDOW_STATES,
    AckStatus,
)
from hal.keypad.protocol import (
    KEYPAD_TO_UNIT,
    VERSION,
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
    ProtocolError,
    RatingKey,
    SetBrightness,
    SetVolume,
    ShowMessage,
    ShowStaff,
    ShowWindowState,
    ThankYou,
    WindowStateKey,
    encode,
    fit_utf8,
    with_seq,
)
from hal.keypad.rating_gate import RatingGate
from hal.keypad.stats import KeypadStats
from hal.serial_link import PortFactory, SerialLink, url_port_factory

log = logging.getLogger(__name__)

_PRESSES = (Key, RatingKey, PleaseRate, ManualRecord, Fault, WindowStateKey)


class SerialKeypad:
    """hal.keypad.base.Keypad over a serial line.

    The link is "up" once a valid frame arrives and goes "down" when the port fails or
    stays silent for ``link_timeout_s`` (the keypad sends a heartbeat every second); each
    change is logged once and queued as ``KeypadEvent(kind="link", up=...)``.
    """

    @classmethod
    def from_config(cls, cfg: KeypadConfig, clock: Callable[[], float]) -> SerialKeypad:
        """From its ``[keypad]`` section; nothing opens until start()."""
        return cls(cfg.url, clock=clock, baudrate=cfg.baudrate)

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float],
        baudrate: int = 115200,
        reconnect_s: float = 1.0,
        link_timeout_s: float | None = 3.5,
        interbyte_timeout_s: float = 0.1,
        dedupe_window_s: float = 1.0,
        queue_size: int = 256,
        port_factory: PortFactory | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._clock = clock
        self._mono = monotonic
        self._link_timeout_s = link_timeout_s
        self._interbyte_s = interbyte_timeout_s
        self._dedupe_s = dedupe_window_s
        self._parser = FrameParser()
        self._events: deque[KeypadEvent] = deque()
        self._queue_size = queue_size
        self._cond = threading.Condition()
        self._tx_lock = threading.Lock()
        self._seq = 0
        self._version = VERSION
        self._gate = RatingGate()
        self._gate_lock = threading.Lock()  # prompts go out on the caller's thread
        self._card: StaffCard | None = None
        self._window: tuple[WindowStateName, str] = ("open", "")
        self._link_up: bool | None = None
        self._noise_logged = False
        self._last_rx = 0.0
        self._last_frame = 0.0
        self._last_press: Message | None = None
        self._last_press_t = 0.0
        self._counts = {k: 0 for k in ("dropped", "dup", "unexpected", "tx", "ack", "nack", "pong",
                                        "state_v1")}
        factory = port_factory or url_port_factory(url, baudrate=baudrate)
        self._link = SerialLink(
            name=f"keypad {url}",
            port_factory=factory,
            reconnect_s=reconnect_s,
            on_data=self._on_data,
            on_open=self._on_open,
            on_lost=lambda reason: self._set_link(False, reason),
            on_poll=self._on_poll,
        )

    # --- Keypad interface ---------------------------------------------------------

    def start(self) -> None:
        self._link.start()

    def stop(self) -> None:
        self._link.stop()

    def events(self) -> list[KeypadEvent]:
        """Events received since the last call (non-blocking)."""
        with self._cond:
            out = list(self._events)
            self._events.clear()
        return out

    def wait_for_event(self, timeout_s: float) -> bool:
        """Block until an event is queued or ``timeout_s`` passes; True if one is queued."""
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._events), timeout=timeout_s)

    def show_staff(self, card: StaffCard | None) -> None:
        """Show ``card`` (None: nobody logged in). Re-sent after every reconnect."""
        self._card = card
        self._send(self._card_message(card))

    def prompt_rating(self, timeout_s: float) -> None:
        """Prompt for a rating; ValueError if ``timeout_s`` is not in 0.1..6553.5 s."""
        if not math.isfinite(timeout_s):
            raise ProtocolError(f"timeout_ds for timeout_s={timeout_s!r} is not a number")
        msg = PromptRating(round(timeout_s * 10))
        with self._gate_lock:
            seq = self._send(msg)
            self._gate.prompted(seq, self._mono(), timeout_s)

    def thank_you(self) -> None:
        with self._gate_lock:
            self._gate.close()
        self._send(ThankYou())

    def show_message(self, text: str) -> None:
        self._send(ShowMessage(fit_utf8(text, TEXT_MAX_BYTES)))

    def clear(self) -> None:
        with self._gate_lock:
            self._gate.close()
        self._send(Clear())

    def show_window_state(self, state: WindowStateName, text: str) -> None:
        """Show the window state to customers: SHOW_WINDOW_STATE on a version-2 link, the
        text as SHOW_MESSAGE (open: CLEAR) on a version-1 one. Re-sent after a reconnect."""
        self._window = (state, text)
        self._send_window_state()

    def _send_window_state(self) -> None:
        state, text = self._window
        if self._version == VERSION_2:
            self._send(ShowWindowState(STATE_CODES[state], fit_utf8(text, STATE_TEXT_MAX_BYTES)))
        elif state == "open":
            self._send(Clear())
        else:
            self._send(ShowMessage(fit_utf8(text or state, TEXT_MAX_BYTES)))

    # --- extras -------------------------------------------------------------------

    def set_brightness(self, percent: int) -> None:
        self._send(SetBrightness(percent))

    def set_volume(self, percent: int) -> None:
        self._send(SetVolume(percent))

    def ping(self) -> None:
        self._send(Ping())

    @property
    def link_up(self) -> bool | None:
        """None until the first frame or failure, then the current link state."""
        return self._link_up

    @property
    def stats(self) -> KeypadStats:
        c = self._counts
        return KeypadStats(
            parser=self._parser.stats.copy(),
            link=dataclasses.replace(self._link.stats),
            events_dropped=c["dropped"],
            duplicates=c["dup"],
            unexpected=c["unexpected"],
            tx_dropped=c["tx"],
            acks=c["ack"],
            nacks=c["nack"],
            pongs=c["pong"],
            version=self._version,
            gate=dataclasses.replace(self._gate.stats),
            state_keys_v1=c["state_v1"],
        )

    # --- transmit -------------------------------------------------------------------

    @staticmethod
    def _card_message(card: StaffCard | None) -> ShowStaff:
        if card is None:
            return ShowStaff("", "", "")
        return ShowStaff(
            fit_utf8(card.name, NAME_MAX_BYTES),
            fit_utf8(card.staff_number, STAFF_NUMBER_MAX_BYTES),
            fit_utf8(card.photo_id, PHOTO_ID_MAX_BYTES),
        )

    def _send(self, msg: Message, version: int | None = None) -> int:
        """Send ``msg`` in the link's version (or ``version``); returns its sequence number."""
        with self._tx_lock:
            seq = self._seq
            frame = encode(with_seq(msg, seq), self._version if version is None else version)
            self._seq = (self._seq + 1) & 0xFF
            if not self._link.write(frame):
                # Link loss was already logged once; what is not sent is counted.
                self._counts["tx"] += 1
        return seq

    # --- reader thread --------------------------------------------------------------

    def _on_open(self) -> None:
        self._parser.reset()
        self._version = self._parser.min_version = VERSION
        self._last_rx = self._last_frame = self._mono()
        # A replugged keypad has rebooted blank: restore the card, and ping so the link
        # comes up without waiting for the next heartbeat. Both go in version 1, which
        # every keypad reads; a version-2 keypad answers in version 2 and the link follows.
        if self._card is not None:
            self._send(self._card_message(self._card))
        if self._window[0] != "open":
            self._send_window_state()  # as a version-1 message; again once v2 is heard
        self._send(Ping())

    def _on_data(self, data: bytes) -> None:
        self._last_rx = self._mono()
        v2_before = self._parser.stats.frames_v2
        items = self._parser.feed(data)
        # Only the keypad's own version-2 frames count: on loop:// our offer comes back.
        from_keypad = any(not isinstance(m, ParseError) and m.TYPE in KEYPAD_TO_UNIT
                          for m in items)
        if (self._parser.stats.frames_v2 > v2_before and self._parser.last_version == VERSION_2
                and from_keypad and self._version == VERSION):
            # From now on version-1 frames are dropped, so that corruption cannot fall
            # back to the weaker CRC-16; the port reopening starts over at version 1.
            self._version = self._parser.min_version = VERSION_2
            log.info("keypad %s: speaks protocol version 2", self.url)
            if self._window[0] != "open":
                self._send_window_state()
        self._handle(items)

    def _on_poll(self) -> None:
        now = self._mono()
        if self._parser.pending and now - self._last_rx >= self._interbyte_s:
            self._handle(self._parser.idle())
        if (
            self._link_timeout_s is not None
            and self._link.is_open
            and self._link_up is not False
            and now - self._last_frame >= self._link_timeout_s
        ):
            self._set_link(False, f"no frame for {self._link_timeout_s:g} s")

    def _handle(self, items: list[Message | ParseError]) -> None:
        for item in items:
            if isinstance(item, ParseError):
                self._on_reject(item)
            elif item.TYPE not in KEYPAD_TO_UNIT and not isinstance(item, Ack):
                self._counts["unexpected"] += 1
            else:
                self._last_frame = self._mono()
                self._set_link(True, "")
                self._on_message(item)

    def _on_reject(self, err: ParseError) -> None:
        if not self._noise_logged:
            self._noise_logged = True
            log.warning(
                "keypad %s: rejected a frame (%s: %s); further rejections are only counted",
                self.url,
                err.kind,
                err.detail,
            )
        else:
            log.debug("keypad %s: rejected %s: %s", self.url, err.kind, err.detail)

    def _on_message(self, msg: Message) -> None:
        if isinstance(msg, Ack):
            self._counts["ack" if msg.status == AckStatus.OK else "nack"] += 1
            return
        if isinstance(msg, Pong):
            self._counts["pong"] += 1
            return
        if isinstance(msg, Heartbeat):
            detail = f"uptime {msg.uptime_s} s"
            self._push(KeypadEvent("heartbeat", self._clock(), seq=msg.seq, detail=detail))
            return
        if not isinstance(msg, _PRESSES):
            return
        if isinstance(msg, WindowStateKey) and self._version != VERSION_2:
            # Version 2 only (docs/keypad-protocol.md, 5.4): a CRC-16 frame never moves
            # the window's state.
            self._counts["state_v1"] += 1
            self._send(Ack(msg.seq, AckStatus.UNSUPPORTED))
            return
        self._send(Ack(msg.seq))
        now = self._mono()
        # A keypad that missed our ACK re-sends the frame unchanged: count it once.
        if msg == self._last_press and now - self._last_press_t <= self._dedupe_s:
            self._counts["dup"] += 1
            return
        self._last_press, self._last_press_t = msg, now
        t = self._clock()
        if isinstance(msg, (Key, RatingKey)):
            with self._gate_lock:
                held = self._gate.admit(msg, version=self._version, now=now)
            if held is None:
                self._push(KeypadEvent("key", t, key=msg.key, seq=msg.seq))
            else:  # never a rating (docs/keypad-protocol.md, section 9)
                self._push(KeypadEvent("stray_key", t, key=msg.key, seq=msg.seq, detail=held))
        elif isinstance(msg, PleaseRate):
            self._push(KeypadEvent("please_rate", t, seq=msg.seq))
        elif isinstance(msg, ManualRecord):
            self._push(KeypadEvent("manual_record", t, seq=msg.seq))
        elif isinstance(msg, WindowStateKey):
            state = cast(WindowStateName, WINDOW_STATES[msg.state])
            self._push(KeypadEvent("window_state", t, seq=msg.seq, state=state))
        else:
            self._push(KeypadEvent("fault", t, seq=msg.seq, detail=f"{msg.code}: {msg.text}"))

    def _set_link(self, up: bool, reason: str) -> None:
        if self._link_up is up:
            return
        recovered = self._link_up is False
        self._link_up = up
        if up:
            self._noise_logged = False
            log.info("keypad %s: link %s", self.url, "recovered" if recovered else "up")
        else:
            log.warning("keypad %s: link down: %s", self.url, reason)
        self._push(KeypadEvent("link", self._clock(), up=up, detail=reason))

    def _push(self, event: KeypadEvent) -> None:
        with self._cond:
            if len(self._events) >= self._queue_size:
                self._events.popleft()
                self._counts["dropped"] += 1
            self._events.append(event)
            self._cond.notify_all()
