"""Which key presses may become a rating: the unit's side of the prompt/answer pairing. Pure.

On a version-2 link (docs/keypad-protocol.md, section 9), while a prompt is open (from the
PROMPT_RATING's sending to its timeout, plus a little for the line), a press counts for a
rating only as a RATING_KEY that names that PROMPT_RATING (its sequence number) and is the
first such press; it closes the gate. Every other press while a prompt is open (a plain
KEY, a RATING_KEY for another prompt) is a stray press: it never reaches the rating
logic. With no prompt open a press passes as before: the unit's rating window, which lies
inside the gate's, is closed or already rated then, so the press is only recorded as a
press outside any rating. A corrupted frame therefore has to pass the CRC-32, carry a
consistent key/inverse pair, the open prompt's sequence number and arrive inside its
window to become a rating.

On a version-1 link (an older keypad) every KEY may be a rating, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from hal.keypad.protocol import VERSION, Key, RatingKey

# Line delay and the keypad's own retransmissions (2 x 300 ms) after the prompt timed out.
LINE_GRACE_S = 1.0


@dataclass(frozen=True, slots=True)
class OpenPrompt:
    """The rating prompt on screen: the PROMPT_RATING's sequence number and its window."""

    seq: int
    opened: float
    closes: float


@dataclass(slots=True)
class GateStats:
    """Presses let through as ratings, and presses held back by reason."""

    admitted: int = 0
    no_prompt: int = 0  # a plain KEY on a version-2 link while a prompt is open
    wrong_prompt: int = 0
    outside_window: int = 0  # sooner after the prompt than min_reaction_s


class RatingGate:
    """Tracks the open prompt and says whether a press may be a rating."""

    def __init__(self, *, min_reaction_s: float = 0.0, grace_s: float = LINE_GRACE_S) -> None:
        self.min_reaction_s = min_reaction_s
        self.grace_s = grace_s
        self.prompt: OpenPrompt | None = None
        self.stats = GateStats()

    def prompted(self, seq: int, now: float, timeout_s: float) -> None:
        """The unit sent PROMPT_RATING ``seq`` at ``now`` (a new prompt replaces the old)."""
        self.prompt = OpenPrompt(seq, now, now + timeout_s)

    def close(self) -> None:
        """THANK_YOU or CLEAR went out: no press counts until the next prompt."""
        self.prompt = None

    def admit(self, press: Key | RatingKey, *, version: int, now: float) -> str | None:
        """None if ``press`` may be a rating; else why not (a GateStats field name)."""
        reason = self._reason(press, version, now)
        if reason is None:
            self.stats.admitted += 1
            if version != VERSION and isinstance(press, RatingKey):
                self.prompt = None  # one rating per prompt
        else:
            setattr(self.stats, reason, getattr(self.stats, reason) + 1)
        return reason

    def _reason(self, press: Key | RatingKey, version: int, now: float) -> str | None:
        if version == VERSION:
            return None  # a version-1 keypad: the unit's rating window decides alone
        prompt = self.prompt
        if prompt is not None and now > prompt.closes + self.grace_s:
            self.prompt = prompt = None  # timed out
        if prompt is None:
            return None  # no rating can be made now (see the module docstring)
        if not isinstance(press, RatingKey):
            return "no_prompt"
        if press.prompt_seq != prompt.seq:
            return "wrong_prompt"
        if now < prompt.opened + self.min_reaction_s:
            return "outside_window"
        return None
