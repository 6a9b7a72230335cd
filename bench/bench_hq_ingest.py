"""HQ ingest under a fleet: events in batches and clips by tus, through real servers.

Starts what it measures: a PostgreSQL 15 cluster of its own (the tests' helper,
``tests/servers/postgres.py``) when ``--backend postgresql``, then ``counterunit hq serve
--workers N`` on a fresh data folder. Enrolls ``--units`` simulated units through HQ's
enrollment endpoint (one-time codes, real keys and client certificates), then for
``--duration`` seconds each unit sends its events as the sync process does (a batch of
what accumulated every ``--interval`` seconds, retried until acknowledged), while clip
senders upload clips by tus in chunks. Finally it stops HQ and reads the database back
against what was sent, and prints, last::

    hq ingest: B backend, W workers, E events/s sustained, p99 L ms, lost 0, duplicated 0

E is the events acknowledged over the time from the first send to the last answer; L the
99th percentile of one batch request (send to answer). Exit status 1 if anything was
lost or duplicated.

    python -m bench.bench_hq_ingest --backend sqlite|postgresql --workers N
        [--units 30] [--rate 180] [--interval 1.0] [--duration 30] [--clips-per-s 0.5]
        [--clip-kb 512] [--keep DIR]

Not part of the test suite (tests/workers/test_bench_smoke.py runs it for a moment).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from bench.hq_ingest_fleet import Fleet, FleetResult, Plan
from hq.cli import main as hq_main
from hq.pki.enrollment import EnrollmentCodes
from hq.storage.db.backend import open_data
from hq.storage.sqlite import connect
from sync.enroll import enroll
from sync.identity import UnitIdentity

ROOT = Path(__file__).resolve().parents[1]
START_DEADLINE_S = 180.0


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q * len(ordered) - 1e-9)))
    return ordered[rank - 1]


def summary_line(backend: str, workers: int, events_per_s: float, p99_ms: float,
                 lost: int, duplicated: int) -> str:
    """The last line the issue asks for."""
    return (f"hq ingest: {backend} backend, {workers} worker{'s' if workers != 1 else ''}, "
            f"{events_per_s:.0f} events/s sustained, p99 {p99_ms:.0f} ms, lost {lost}, "
            f"duplicated {duplicated}")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _database(backend: str, data: Path, *, fsync: bool) -> Iterator[None]:
    """The data folder configured for ``backend`` (PostgreSQL started and migrated)."""
    data.mkdir(parents=True)
    if backend == "sqlite":
        yield
        return
    from tests.servers.postgres import postgres_server

    with postgres_server() as server:
        if fsync:  # the tests' cluster runs with fsync off; a bank's does not
            server.stop()
            server._ctl("-o", f"-h 127.0.0.1 -p {server.port} -k {server.folder} "
                        "-c max_connections=200 -c fsync=on -c synchronous_commit=on",
                        "-l", str(server.folder / "server.log"), "-w", "start")
        dsn = server.create_database("bench")
        (data / "hq.toml").write_text(f'[database]\ntype = "postgresql"\ndsn = "{dsn}"\n'
                                      'connect_timeout_s = 5\n', encoding="utf-8")
        if hq_main(["migrate", "--data", str(data)]) != 0:
            raise SystemExit("hq migrate failed")
        yield


@contextlib.contextmanager
def _hq(data: Path, workers: int, log: Path) -> Iterator[str]:
    """``counterunit hq serve --workers N`` until the block ends; its URL."""
    import requests

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "hq.cli", "serve", "--data", str(data), "--port", str(port),
            "--workers", str(workers)]
    proc = subprocess.Popen(argv, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        url = f"https://localhost:{port}"
        while True:
            try:
                if requests.get(f"{url}/v1/openapi.json", timeout=5,
                                verify=str(data / "ca" / "ca.pem")).status_code == 200:
                    break
            except (requests.RequestException, OSError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("HQ did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
        if workers > 1:  # every worker up, not only the first to answer
            _wait_workers(proc.pid, workers, log, deadline)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_workers(pid: int, n: int, log: Path, deadline: float) -> None:
    def serving() -> int:
        return log.read_text(errors="replace").count("HQ serving")

    while serving() < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {serving()} of {n} HQ workers started")
        time.sleep(0.2)


def _enroll(data: Path, url: str, units: int, where: Path) -> list[UnitIdentity]:
    codes = EnrollmentCodes(data / "enrollment.db")
    out = []
    for i in range(units):
        unit_id = f"bench-{i:03d}"
        ident = UnitIdentity(where / unit_id)
        enroll(url, codes.issue(unit_id, dt.timedelta(hours=1)), unit_id, ident,
               data / "ca" / "ca.pem")
        out.append(ident)
    return out


def read_back(data: Path, result: FleetResult) -> tuple[int, int, int]:
    """(lost, duplicated, clips missing or wrong) from HQ's database against what was sent."""
    conn = connect(data / "events.db")
    try:
        rows = conn.execute("SELECT uuid FROM events WHERE unit_id LIKE 'bench-%'").fetchall()
        txns = conn.execute("SELECT COUNT(*) FROM transactions WHERE unit_id LIKE 'bench-%' "
                            "AND ended_utc IS NOT NULL").fetchone()[0]
    finally:
        conn.close()
    stored = [r[0] for r in rows]
    seen = set(stored)
    lost = len(result.acked - seen)
    duplicated = len(stored) - len(seen) + len(seen - result.sent)
    if txns != result.transactions:
        print(f"transactions: {txns} stored, {result.transactions} sent", file=sys.stderr)
        lost += max(0, result.transactions - txns)
        duplicated += max(0, txns - result.transactions)
    clips = connect(data / "clips" / "clips.sqlite")
    try:
        have = {(r[0], r[1]) for r in clips.execute(
            "SELECT clip_id, sha256 FROM clips WHERE unit_id LIKE 'bench-%'").fetchall()}
    finally:
        clips.close()
    return lost, duplicated, len(set(result.clips) - have)


def run(args: argparse.Namespace, tmp: Path) -> int:
    data = tmp / "hq"
    plan = Plan(rate=args.rate, interval_s=args.interval, duration_s=args.duration,
                clips_per_s=args.clips_per_s, clip_bytes=args.clip_kb * 1024)
    with _database(args.backend, data, fsync=args.pg_fsync == "on"):
        with _hq(data, args.workers, tmp / "hq.log") as url:
            open_data(data)  # this process reads the database back (PostgreSQL: routed)
            idents = _enroll(data, url, args.units, tmp / "units")
            load0 = os.getloadavg()
            result = Fleet(url, idents, plan, tmp / "clips", run_id=uuid.uuid4().hex[:8]).run()
            load1 = os.getloadavg()
        lost, duplicated, bad_clips = read_back(data, result)  # HQ stopped: all it stored
    rate = result.events_per_s()
    print(f"offered {plan.rate:.0f} events/s from {args.units} units for {plan.duration_s:.0f}"
          f" s; {len(result.acked)} events in {len(result.latencies_ms)} batches, "
          f"{result.retries} retried requests; p50 "
          f"{percentile(result.latencies_ms, 0.5):.0f} ms", flush=True)
    print(f"clips: {len(result.clips)} uploaded ({result.clip_bytes / 1e6:.1f} MB), chunk "
          f"p99 {percentile(result.chunk_ms, 0.99):.0f} ms, {bad_clips} missing or wrong")
    print(f"load average before {load0[0]:.1f}, after {load1[0]:.1f} "
          f"({os.cpu_count()} cores)")
    print(summary_line(args.backend, args.workers, rate,
                       percentile(result.latencies_ms, 0.99), lost, duplicated), flush=True)
    return 1 if lost or duplicated or bad_clips else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_hq_ingest", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--workers", type=int, default=1, choices=range(1, 17), metavar="N")
    p.add_argument("--units", type=int, default=30)
    p.add_argument("--rate", type=float, default=180.0, help="events/s offered, all units")
    p.add_argument("--interval", type=float, default=1.0,
                   help="seconds between one unit's batches")
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--clips-per-s", type=float, default=0.5)
    p.add_argument("--clip-kb", type=int, default=512)
    p.add_argument("--pg-fsync", choices=("on", "off"), default="on",
                   help="PostgreSQL's fsync (default on, as in production; SQLite always "
                   "syncs fully)")
    p.add_argument("--keep", type=Path, help="work in this (new) folder and keep it")
    args = p.parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True)
        return run(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="bench-hq-ingest-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())

