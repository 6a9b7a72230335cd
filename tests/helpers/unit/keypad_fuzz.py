"""Rating sessions over a corrupted keypad line: does any corruption become a rating?

Shared by tests/fuzz/test_keypad_fuzz.py (100 000 frames) and bench/bench_keypad_fuzz.py
(1 000 000). Each session is what a version-2 keypad sends while the unit's prompt is
open: heartbeats, maybe a plain KEY and a late RATING_KEY for the previous prompt (real
frames that must not become ratings), and the customer's RATING_KEY for the open prompt.
The stream is corrupted (bit bursts, inserted and deleted bytes, a truncation), fed in
random pieces to the unit's FrameParser (version 2 agreed) and each press to the unit's
RatingGate, exactly as SerialKeypad does. A phantom rating is a rating that is not the
customer's own press. Every stage is counted, so a run that never reached the parser or
the gate shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hal.keypad.protocol import (
    VERSION_2,
    FrameParser,
    Heartbeat,
    Key,
    Message,
    ParseError,
    RatingKey,
    encode,
)
from hal.keypad.rating_gate import RatingGate


@dataclass
class FuzzCounts:
    """What a fuzz run did, stage by stage."""

    sessions: int = 0
    frames: int = 0  # frames sent, before corruption
    corrupted_frames: int = 0  # of those, hit by at least one mutation
    bytes_parsed: int = 0
    decoded: int = 0  # messages the parser yielded
    forged: int = 0  # decoded messages that were not sent: a corruption passed the check
    presses_at_gate: int = 0
    ratings: int = 0
    genuine_ratings: int = 0
    phantom_ratings: int = 0
    held: dict[str, int] = field(default_factory=dict)  # stray presses by reason
    rejected: int = 0  # frame candidates the parser rejected

    def line(self) -> str:
        return (f"{self.sessions} sessions, {self.frames} frames ({self.corrupted_frames} "
                f"corrupted), {self.bytes_parsed} bytes parsed, {self.rejected} candidates "
                f"rejected, {self.decoded} decoded ({self.forged} forged), "
                f"{self.presses_at_gate} presses at the gate, held {self.held}, "
                f"{self.ratings} ratings ({self.genuine_ratings} genuine, "
                f"{self.phantom_ratings} phantom)")


def _session(rng: random.Random) -> tuple[int, list[Message], RatingKey]:
    prompt = rng.randrange(256)
    customer = RatingKey(rng.randint(1, 5), prompt, seq=rng.randrange(256))
    frames: list[Message] = [Heartbeat(rng.getrandbits(32), seq=rng.randrange(256))]
    if rng.random() < 0.5:  # a press without the prompt's pairing: held, never a rating
        frames.append(Key(rng.randint(1, 255), seq=rng.randrange(256)))
    if rng.random() < 0.5:  # a late answer to the previous prompt: held
        frames.append(RatingKey(rng.randint(1, 255), (prompt - 1) % 256,
                                seq=rng.randrange(256)))
    frames += [customer, Heartbeat(rng.getrandbits(32), seq=rng.randrange(256))]
    return prompt, frames, customer


def _corrupt(rng: random.Random, stream: bytearray, spans: list[tuple[int, int]]) -> set[int]:
    """Mutate ``stream`` in place; the indices of the frames (in ``spans``) it touched."""
    hit: set[int] = set()
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(stream))
        hit |= {i for i, (a, b) in enumerate(spans) if a <= at < b}
        op = rng.randrange(4)
        if op == 0:
            for _ in range(rng.randint(1, 12)):  # a burst of flipped bits near ``at``
                j = min(len(stream) - 1, at + rng.randrange(8))
                stream[j] ^= 1 << rng.randrange(8)
        elif op == 1:
            stream.insert(at, rng.randrange(256))
        elif op == 2:
            del stream[at]
        else:
            hit |= {i for i, (a, b) in enumerate(spans) if b > at}
            del stream[at:]
        if not stream:
            stream.append(0)
    return hit


def run(frames: int, seed: int) -> FuzzCounts:
    """Rating sessions until ``frames`` frames were sent; every session corrupted."""
    rng = random.Random(seed)
    c = FuzzCounts()
    while c.frames < frames:
        prompt, sent, customer = _session(rng)
        raw = [encode(m, VERSION_2) for m in sent]
        spans, pos = [], 0
        for r in raw:
            spans.append((pos, pos + len(r)))
            pos += len(r)
        stream = bytearray(b"".join(raw))
        touched = _corrupt(rng, stream, spans)
        c.sessions += 1
        c.frames += len(sent)
        c.corrupted_frames += len(touched)
        gate = RatingGate()
        gate.prompted(prompt, 0.0, 10.0)
        parser = FrameParser(min_version=VERSION_2)
        items: list[Message | ParseError] = []
        start = 0
        for cut in sorted(rng.sample(range(len(stream) + 1), min(3, len(stream) + 1))):
            items += parser.feed(bytes(stream[start:cut]))
            start = cut
        items += parser.feed(bytes(stream[start:])) + parser.idle()
        c.bytes_parsed += parser.stats.bytes_in
        c.rejected += parser.stats.rejected
        for item in items:
            if isinstance(item, ParseError):
                continue
            c.decoded += 1
            c.forged += item not in sent
            if not isinstance(item, (Key, RatingKey)):
                continue
            c.presses_at_gate += 1
            was_open = gate.prompt is not None
            held = gate.admit(item, version=VERSION_2, now=1.0)
            if held is not None:
                c.held[held] = c.held.get(held, 0) + 1
            elif was_open:
                c.ratings += 1
                if item == customer:
                    c.genuine_ratings += 1
                else:
                    c.phantom_ratings += 1
    return c
