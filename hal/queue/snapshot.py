"""The HTTP poll's JSON document (docs/queue-protocol.md, section HTTP): bytes -> Snapshot.

Pure. A document is taken whole or refused whole (``SnapshotError`` naming the field and
the rule): nothing of a half-valid document reaches the unit.

    {"protocol": 1,
     "services": [{"service": "A", "waiting": 7}, ...],
     "calls": [{"call_id": 1041, "ticket": "A031", "counter": "3"}, ...]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hal.queue.lines import NAME_RE, WAITING_MAX

MAX_SERVICES = 64
MAX_CALLS = 200
CALL_ID_MAX = 2**53 - 1


class SnapshotError(ValueError):
    """The document breaks the shape; the message names the field."""


@dataclass(frozen=True, slots=True)
class Call:
    call_id: int
    ticket: str
    counter: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    services: tuple[tuple[str, int], ...]
    calls: tuple[Call, ...]  # in call_id order


def _int(obj: dict[str, Any], key: str, where: str, top: int) -> int:
    v = obj.get(key)
    if type(v) is not int or not 0 <= v <= top:
        raise SnapshotError(f"{where}.{key}: must be an integer 0..{top} (got {v!r})"[:200])
    return v


def _name(obj: dict[str, Any], key: str, where: str) -> str:
    v = obj.get(key)
    if not isinstance(v, str) or not NAME_RE.fullmatch(v):
        raise SnapshotError(f"{where}.{key}: must be 1-32 of A-Z a-z 0-9 . _ - (got {v!r})"[:200])
    return v


def _exact(obj: Any, keys: set[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise SnapshotError(f"{where}: must be an object")
    unknown = set(obj) - keys
    if unknown:
        raise SnapshotError(f"{where}: unknown key {sorted(unknown)[0]!r}"[:200])
    return obj


def parse_snapshot(body: bytes) -> Snapshot:
    """Validate one poll's body; SnapshotError names what is wrong."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise SnapshotError(f"not JSON: {str(exc)[:120]}") from None
    doc = _exact(doc, {"protocol", "services", "calls", "generated_at"}, "document")
    if doc.get("protocol") != 1:
        raise SnapshotError(f"document.protocol: must be 1 (got {doc.get('protocol')!r})"[:200])
    services = doc.get("services", [])
    calls = doc.get("calls", [])
    if not isinstance(services, list) or len(services) > MAX_SERVICES:
        raise SnapshotError(f"services: must be a list of at most {MAX_SERVICES}")
    if not isinstance(calls, list) or len(calls) > MAX_CALLS:
        raise SnapshotError(f"calls: must be a list of at most {MAX_CALLS}")
    out_s: dict[str, int] = {}
    for i, item in enumerate(services):
        where = f"services[{i}]"
        item = _exact(item, {"service", "waiting"}, where)
        name = _name(item, "service", where)
        if name in out_s:
            raise SnapshotError(f"{where}.service: {name!r} appears twice")
        out_s[name] = _int(item, "waiting", where, WAITING_MAX)
    out_c: dict[int, Call] = {}
    for i, item in enumerate(calls):
        where = f"calls[{i}]"
        item = _exact(item, {"call_id", "ticket", "counter", "service"}, where)
        call = Call(_int(item, "call_id", where, CALL_ID_MAX), _name(item, "ticket", where),
                    _name(item, "counter", where))
        if "service" in item:
            _name(item, "service", where)
        if call.call_id in out_c:
            raise SnapshotError(f"{where}.call_id: {call.call_id} appears twice")
        out_c[call.call_id] = call
    return Snapshot(tuple(out_s.items()), tuple(out_c[k] for k in sorted(out_c)))


@dataclass(frozen=True, slots=True)
class CallCursor:
    """Which calls of a snapshot are new. Pure.

    The first snapshot is a baseline: of its calls only the latest per counter counts
    (what each counter's display shows now). Later ones yield the calls above the highest
    call_id seen. A snapshot whose highest call_id is below the cursor means the queue
    machine restarted its numbering: it becomes the new baseline.
    """

    high: int | None = None

    def new_calls(self, snap: Snapshot) -> tuple[CallCursor, list[Call], bool]:
        """(cursor, new calls, whether the numbering restarted)."""
        if not snap.calls:
            return self, [], False
        top = snap.calls[-1].call_id
        if self.high is None or top < self.high:
            latest: dict[str, Call] = {}
            for c in snap.calls:
                latest[c.counter] = c
            return CallCursor(top), sorted(latest.values(), key=lambda c: c.call_id), (
                self.high is not None)
        return CallCursor(top), [c for c in snap.calls if c.call_id > self.high], False
