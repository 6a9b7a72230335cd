"""What a unit re-sent to HQ, read off the wire the fault proxy's TLS tap saw.

Exactly-once at HQ holds by schema (``events.uuid`` is a primary key), so a count at HQ
cannot catch a unit that sends acknowledged events again or re-uploads acknowledged clip
bytes. These audits can: they read the HTTP exchanges as forwarded (tests/faultproxy/
wire.py) and say which events went again after their acknowledgement came back, how many
duplicates HQ reported and whether a lost acknowledgement explains each, and how many clip
bytes went twice against how many chunk uploads were interrupted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sync.identity import UnitIdentity
from tests.faultproxy import Exchange, TlsTap
from tests.helpers.hq.server import HQServer

_UUID = re.compile(r'"uuid"\s*:\s*"([^"]+)"')


def tls_tap(hq: HQServer, unit: UnitIdentity) -> TlsTap:
    """Terminate TLS as HQ itself (its server certificate) and go on as the unit."""
    return TlsTap(server_cert=hq.root / "server" / "server.pem",
                  server_key=hq.root / "server" / "server.key",
                  client_cert=unit.cert_path, client_key=unit.key_path, ca=hq.ca_pem)


@dataclass(frozen=True)
class EventPost:
    """One POST /v1/events as it went over the wire."""

    seq: int
    uuids: tuple[str, ...]  # from the body as far as it got through
    delivered: bool  # the whole request reached HQ
    status: int | None  # None: no whole answer came back
    accepted: int = 0
    duplicates: int = 0

    @property
    def acked(self) -> bool:
        return self.status == 200


def event_posts(exchanges: list[Exchange]) -> list[EventPost]:
    """The event batches on the wire, in the order they were sent."""
    posts = []
    for ex in sorted(exchanges, key=lambda e: e.seq):
        req = ex.request
        if req.method != "POST" or urlsplit(req.target).path != "/v1/events":
            continue
        body = bytes(req.body).decode("utf-8", "replace")
        if req.complete:
            uuids = tuple(e["uuid"] for e in json.loads(body)["events"])
        else:
            uuids = tuple(_UUID.findall(body))
        status = ex.response.status if ex.answered and ex.response else None
        accepted = duplicates = 0
        if status == 200 and ex.response is not None:
            answer = json.loads(bytes(ex.response.body))
            accepted, duplicates = int(answer["accepted"]), int(answer["duplicates"])
        posts.append(EventPost(ex.seq, uuids, req.complete, status, accepted, duplicates))
    return posts


@dataclass(frozen=True)
class EventAudit:
    """Events on the wire against their acknowledgements."""

    posts: int
    sent: int  # uuids sent, repeats included
    unique: int
    resent_after_ack: tuple[str, ...]  # sent again after an acknowledgement came back: none
    lost_acks: tuple[frozenset[str], ...]  # batches HQ got whole but whose answer was lost
    duplicates: int  # HQ's duplicate count, summed over the answers that came back
    unexplained_duplicates: int  # duplicates beyond the events of lost answers: none

    @property
    def lost_ack_events(self) -> frozenset[str]:
        return frozenset().union(*self.lost_acks)


def audit_events(exchanges: list[Exchange]) -> EventAudit:
    """Read the event batches: what was acknowledged, what went again and why."""
    posts = event_posts(exchanges)
    acked: set[str] = set()
    lost: list[frozenset[str]] = []
    resent_after_ack: list[str] = []
    duplicates = unexplained = 0
    for post in posts:
        resent_after_ack += [u for u in post.uuids if u in acked]
        if post.acked:
            # Only events HQ got before, in a batch whose answer never came back, may be
            # duplicates.
            explained = len(set(post.uuids) & set().union(*lost))
            duplicates += post.duplicates
            unexplained += max(0, post.duplicates - explained)
            acked.update(post.uuids)
        elif post.delivered and post.status is None:
            lost.append(frozenset(post.uuids))
    sent = [u for p in posts for u in p.uuids]
    return EventAudit(len(posts), len(sent), len(set(sent)), tuple(resent_after_ack),
                      tuple(lost), duplicates, unexplained)


@dataclass(frozen=True)
class ClipAudit:
    """Clip bytes (tus PATCH bodies) on the wire."""

    uploads: int  # distinct upload resources written to
    patches: int
    interrupted: int  # PATCHes whose 204 did not come back
    body_bytes: int  # clip bytes on the wire, every attempt
    unique_bytes: int  # distinct clip bytes (per upload, the union of the ranges sent)
    below_ack: int  # bytes sent below an offset HQ had already told the unit: none

    @property
    def resent(self) -> int:
        return self.body_bytes - self.unique_bytes


def _union(ranges: list[tuple[int, int]]) -> int:
    total, end = 0, -1
    for lo, hi in sorted(ranges):
        lo = max(lo, end)
        if hi > lo:
            total += hi - lo
            end = hi
    return total


def audit_clips(exchanges: list[Exchange]) -> ClipAudit:
    """Read the uploads: bytes sent twice, attempts cut, acknowledged bytes sent again."""
    known: dict[str, int] = {}  # upload path -> offset HQ announced in an answer
    ranges: dict[str, list[tuple[int, int]]] = {}
    patches = interrupted = body = below = 0
    for ex in sorted(exchanges, key=lambda e: e.seq):
        req, resp = ex.request, ex.response
        path = urlsplit(req.target).path
        if req.method == "PATCH":
            offset, n = int(req.headers["upload-offset"]), req.body_bytes
            patches += 1
            body += n
            below += max(0, min(offset + n, known.get(path, 0)) - offset)
            ranges.setdefault(path, []).append((offset, offset + n))
            if not (ex.answered and resp is not None and resp.status == 204):
                interrupted += 1
        if ex.answered and resp is not None and "upload-offset" in resp.headers:
            if req.method == "POST" and "location" in resp.headers:
                path = urlsplit(resp.headers["location"]).path
            known[path] = max(known.get(path, 0), int(resp.headers["upload-offset"]))
    return ClipAudit(len(ranges), patches, interrupted, body,
                     sum(_union(r) for r in ranges.values()), below)
