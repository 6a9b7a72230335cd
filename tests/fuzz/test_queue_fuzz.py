"""Corrupted queue lines never become records (serial) and bad documents never half-apply.

Every case is counted at the parser: the assertion that all of them reached it keeps a
fuzz that silently skips its input from passing.
"""

from __future__ import annotations

import json
import random

from hal.queue.lines import Called, Heartbeat, LineError, LineParser, Record, Waiting, encode
from hal.queue.snapshot import SnapshotError, parse_snapshot

GOOD: list[Record] = [Waiting("A", 7), Waiting("VIP", 123), Called("A031", "3"),
                      Called("B-112", "counter-01"), Heartbeat(3600)]


def corrupt(rng: random.Random, line: bytes) -> bytes:
    body = bytearray(line.rstrip(b"\r\n"))
    how = rng.randrange(5)
    if how == 0:  # 1 to 3 flipped bits: CRC-16 detects every such error at these lengths
        for pos in rng.sample(range(1, len(body)), rng.randint(1, 3)):
            body[pos] ^= 1 << rng.randrange(7)
    elif how == 1:  # a byte dropped
        del body[rng.randrange(1, len(body))]
    elif how == 2:  # a byte inserted (never a line end or a new start)
        body.insert(rng.randrange(1, len(body)), rng.choice(b"0123456789ABCDEF QCH*x"))
    elif how == 3:  # truncated before its CRC is whole
        body = body[: rng.randrange(1, len(body) - 1)]
    else:  # two different characters swapped
        i = rng.randrange(1, len(body) - 1)
        while body[i] == body[i + 1]:
            i = rng.randrange(1, len(body) - 1)
        body[i], body[i + 1] = body[i + 1], body[i]
    return bytes(body).replace(b"\n", b"") + b"\r\n"


def test_corrupted_lines_invent_no_record() -> None:
    rng = random.Random(20261207)
    parser = LineParser()
    cases = 20_000
    out: list[Record | LineError] = []
    for _ in range(cases):
        out += parser.feed(corrupt(rng, encode(rng.choice(GOOD))))
    records = [r for r in out if not isinstance(r, LineError)]
    assert records == [], records[:5]
    assert parser.stats.lines == cases and parser.stats.rejected_total == cases


def test_good_lines_survive_interleaved_noise() -> None:
    rng = random.Random(7)
    parser = LineParser()
    sent: list[Record] = []
    got: list[Record | LineError] = []
    for _ in range(5_000):
        rec = rng.choice(GOOD)
        sent.append(rec)
        got += parser.feed(rng.randbytes(rng.randrange(200)) + b"\n" + encode(rec))
    assert [r for r in got if not isinstance(r, LineError)] == sent


def test_mangled_documents_are_refused_whole() -> None:
    rng = random.Random(11)
    doc = json.dumps({"protocol": 1, "services": [{"service": "A", "waiting": 7}],
                      "calls": [{"call_id": 5, "ticket": "A031", "counter": "3"}]}).encode()
    reached = refused = 0
    for _ in range(5_000):
        b = bytearray(doc)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        reached += 1
        try:
            snap = parse_snapshot(bytes(b))  # only SnapshotError may come out
        except SnapshotError:
            refused += 1
            continue
        assert len(snap.services) <= 1 and len(snap.calls) <= 1
    assert reached == 5_000 and refused > 4_000, refused
