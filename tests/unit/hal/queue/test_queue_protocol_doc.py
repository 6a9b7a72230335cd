"""Every example line in docs/queue-protocol.md means what the doc says."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hal.queue.lines import Called, Heartbeat, LineError, Waiting, parse_line
from hal.queue.snapshot import parse_snapshot

DOC = (Path(__file__).resolve().parents[4] / "docs" / "queue-protocol.md").read_text()


def test_example_lines_parse() -> None:
    block = DOC.split("Examples (each a complete line, CR LF omitted):")[1].split("```")[1]
    lines = [ln.encode() for ln in block.splitlines() if ln.startswith("$")]
    assert [parse_line(ln) for ln in lines] == [
        Waiting("A", 7), Waiting("VIP", 0), Called("A031", "3"), Called("B-112", "counter-01"),
        Heartbeat(3600)]


def test_rejected_examples_are_rejected() -> None:
    block = DOC.split("Rejected (and only counted")[1].split("```")[1]
    for ln in block.splitlines():
        if ln.strip() and "..." not in ln:
            assert isinstance(parse_line(" ".join(ln.split()[:3]).encode()),
                              LineError), ln


def test_the_json_example_is_accepted() -> None:
    body = re.search(r"```json\n(.*?)```", DOC, re.S)
    assert body is not None
    snap = parse_snapshot(body.group(1).encode())
    assert snap.services == (("A", 7), ("B", 0)) and [c.ticket for c in snap.calls] == [
        "A031", "B007"]
    json.loads(body.group(1))
