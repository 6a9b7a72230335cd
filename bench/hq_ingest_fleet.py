"""The simulated fleet of ``bench.bench_hq_ingest``: units sending events and clips to HQ.

Each unit is a thread with its own HTTPS session (its client certificate, keep-alive) and
sends what accumulated every ``interval_s`` as one batch through the sync process's own
client (``sync.hq_client.HQClient.send_events``), retrying a batch HQ did not acknowledge
(5xx, 429, a dropped connection) until it does, as a unit would. Clip senders upload
random clips by tus (create, then PATCH chunk by chunk, each chunk timed).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from sync.hq_client import HQClient, HQRejected, HQUnavailable
from sync.identity import UnitIdentity
from sync.schema import EventEnvelope

MAX_RETRIES = 50
RETRY_PAUSE_S = 0.2


@dataclass(frozen=True)
class Plan:
    """What the fleet sends: events/s over all units, batch period, clips/s."""

    rate: float
    interval_s: float
    duration_s: float
    clips_per_s: float
    clip_bytes: int
    chunk_bytes: int = 128 * 1024


@dataclass
class FleetResult:
    """What was sent and acknowledged, and how long each request took."""

    sent: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    transactions: int = 0  # transaction_ended events acknowledged
    timed_events: int = 0  # acknowledged within the measured run (not the warm-up)
    rejected: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    chunk_ms: list[float] = field(default_factory=list)
    retries: int = 0
    clips: list[tuple[str, str]] = field(default_factory=list)  # (clip_id, sha256)
    clip_bytes: int = 0
    first_send: float = 0.0
    last_answer: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events_per_s(self) -> float:
        span = self.last_answer - self.first_send
        return self.timed_events / span if span > 0 else 0.0


def unit_events(unit_id: str, boot: str) -> Iterator[EventEnvelope]:
    """A counter's day as the unit records it: a login, then transactions with ratings."""
    session = uuid.uuid4().hex[:12]
    mono = 0.0

    def ev(kind: str, **data: object) -> EventEnvelope:
        return EventEnvelope(uuid=uuid.uuid4().hex, type=kind, unit_id=unit_id,
                             counter_id="counter-1", utc=dt.datetime.now(dt.UTC), mono=mono,
                             boot_id=boot, clock_synced=True, data=data)

    yield ev("login", staff_id="s1", staff_number="s1", name="Bench", session_id=session)
    n = 0
    while True:
        n += 1
        txn = f"t{n}"
        mono += 1.0
        yield ev("transaction_started", txn_id=txn, staff_id="s1", session_id=session)
        yield ev("rating_prompted", txn_id=txn)
        yield ev("rating", txn_id=txn, outcome="rated", rating=1 + n % 5, key=str(1 + n % 5),
                 suspect=False)
        yield ev("transaction_ended", txn_id=txn, staff_id="s1", session_id=session,
                 duration_s=60.0, reason="rating")


class Fleet:
    """``idents`` sending to ``url`` by ``plan`` until its duration is over."""

    def __init__(self, url: str, idents: list[UnitIdentity], plan: Plan, clip_dir: Path,
                 run_id: str) -> None:
        self.url, self.idents, self.plan = url, idents, plan
        self.clip_dir, self.run_id = clip_dir, run_id
        self.result = FleetResult()
        self.errors: list[str] = []
        self._events: dict[str, Iterator[EventEnvelope]] = {}

    def run(self) -> FleetResult:
        """Send until the plan's duration is over and every batch is answered."""
        self.clip_dir.mkdir(parents=True, exist_ok=True)
        # Warm-up: every unit connects (TLS handshake with its certificate) and sends its
        # login; the measured run starts when all have.
        clients = [HQClient.from_identity(self.url, ident, timeout=(10.0, 60.0))
                   for ident in self.idents]
        warm = [threading.Thread(target=self._warm, args=(c, ident))
                for c, ident in zip(clients, self.idents, strict=True)]
        for t in warm:
            t.start()
        for t in warm:
            t.join()
        start = time.monotonic() + 0.2
        self.result.first_send = start
        end = start + self.plan.duration_s
        threads = [threading.Thread(target=self._unit, args=(i, c, start, end))
                   for i, c in enumerate(clients)]
        senders = min(4, len(self.idents)) if self.plan.clips_per_s > 0 else 0
        threads += [threading.Thread(target=self._clips, args=(k, senders, start, end))
                    for k in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for c in clients:
            c.close()
        if self.errors:
            raise SystemExit("the fleet failed: " + "; ".join(self.errors[:5]))
        return self.result

    # ---- events -----------------------------------------------------------------------

    def _warm(self, client: HQClient, ident: UnitIdentity) -> None:
        unit_id = ident.directory.name
        self._events[unit_id] = events = unit_events(unit_id, f"boot-{self.run_id}")
        try:
            self._send(client, [next(events)], timed=False)  # the login
        except Exception as exc:
            self.errors.append(f"{unit_id} warm-up: {exc}")

    def _unit(self, i: int, client: HQClient, start: float, end: float) -> None:
        unit_id = self.idents[i].directory.name
        events = self._events[unit_id]
        per_batch = self.plan.rate * self.plan.interval_s / len(self.idents)
        due, owed = start + self.plan.interval_s * i / len(self.idents), 0.0
        try:
            while due < end:
                time.sleep(max(0.0, due - time.monotonic()))  # the unit's own pace
                owed += per_batch
                batch = [next(events) for _ in range(int(owed))]
                owed -= len(batch)
                if batch:
                    self._send(client, batch)
                due += self.plan.interval_s
        except Exception as exc:  # reported once the run is over
            self.errors.append(f"{unit_id}: {exc}")

    def _send(self, client: HQClient, batch: list[EventEnvelope], *, timed: bool = True
              ) -> None:
        with self.result.lock:
            self.result.sent.update(e.uuid for e in batch)
        for attempt in range(MAX_RETRIES):
            t0 = time.monotonic()
            try:
                answer = client.send_events(batch)
            except HQUnavailable:
                with self.result.lock:
                    self.result.retries += 1
                time.sleep(RETRY_PAUSE_S * min(attempt + 1, 10))
                continue
            except HQRejected as exc:
                if exc.status == 429 or exc.status >= 500:
                    with self.result.lock:
                        self.result.retries += 1
                    time.sleep(RETRY_PAUSE_S)
                    continue
                raise
            t1 = time.monotonic()
            with self.result.lock:
                if timed:
                    self.result.latencies_ms.append((t1 - t0) * 1000)
                    self.result.last_answer = max(self.result.last_answer, t1)
                self.result.rejected += len(answer.rejected)
                ok = [e for e in batch if e.uuid not in answer.rejected]
                self.result.acked.update(e.uuid for e in ok)
                self.result.transactions += sum(e.type == "transaction_ended" for e in ok)
                if timed:
                    self.result.timed_events += len(ok)
            return
        raise RuntimeError(f"a batch was not acknowledged after {MAX_RETRIES} tries")

    # ---- clips --------------------------------------------------------------------------

    def _clips(self, k: int, senders: int, start: float, end: float) -> None:
        every = senders / self.plan.clips_per_s
        due, n = start + every * k / senders, 0
        try:
            while due < end:
                time.sleep(max(0.0, due - time.monotonic()))
                ident = self.idents[(k + n * senders) % len(self.idents)]
                self._upload(ident, f"clip-{self.run_id}-{k}-{n}")
                n += 1
                due += every
        except Exception as exc:
            self.errors.append(f"clip sender {k}: {exc}")

    def _upload(self, ident: UnitIdentity, clip_id: str) -> None:
        body = os.urandom(self.plan.clip_bytes)
        digest = hashlib.sha256(body).hexdigest()
        meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                        for k, v in (("clip_id", clip_id), ("sha256", digest)))
        with requests.Session() as s:
            s.cert = (str(ident.cert_path), str(ident.key_path))
            s.verify, s.trust_env = str(ident.ca_path), False
            s.headers["Tus-Resumable"] = "1.0.0"
            r = s.post(f"{self.url}/v1/uploads", timeout=60, headers={
                "Upload-Length": str(len(body)), "Upload-Metadata": meta})
            if r.status_code != 201:
                raise RuntimeError(f"upload create answered {r.status_code}: {r.text[:200]}")
            where, offset = f"{self.url}{r.headers['Location']}", 0
            while offset < len(body):
                t0 = time.monotonic()
                r = s.patch(where, data=body[offset:offset + self.plan.chunk_bytes],
                            timeout=60, headers={
                                "Upload-Offset": str(offset),
                                "Content-Type": "application/offset+octet-stream"})
                if r.status_code not in (204, 409):
                    raise RuntimeError(f"chunk at {offset} answered {r.status_code}")
                with self.result.lock:
                    self.result.chunk_ms.append((time.monotonic() - t0) * 1000)
                offset = int(r.headers["Upload-Offset"])
        with self.result.lock:
            self.result.clips.append((clip_id, digest))
            self.result.clip_bytes += len(body)
