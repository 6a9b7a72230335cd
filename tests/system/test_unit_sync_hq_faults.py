"""The unit daemon, its sync process and HQ, with the network and HQ failing on purpose.

Three processes' worth of the real thing on loopback: `counterunit run` over the
demo day (file camera, as fast as it goes), `counterunit sync` on the same
database, and HQ over mutual TLS behind the fault proxy. While the unit records,
the link is slow, HQ is slow, a connection is cut mid-upload, HQ answers 500,
and HQ is stopped and restarted on the same data at another address. At the end
HQ holds every event exactly once and every clip with the unit's sha256. That
much holds by HQ's schema whatever the unit does, so the proxy also terminates
TLS (as HQ, then as the unit) and the test reads what went over the wire: no
acknowledged event was sent again, every duplicate HQ reported is an event of a
batch whose answer was lost (none, unless HQ's stop caught one in flight), no
clip byte below an offset HQ had announced went again, and the clip bytes sent
twice are at most one chunk per chunk upload that was interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from firmware.status.publish import read_json
from hq.api.deps import HQLimits
from sync.outbox import read_backlog
from tests.conftest import wait_for
from tests.faultproxy import Direction, FaultProxy
from tests.helpers.hq.server import HQServer, running_hq
from tests.helpers.unit.sync_wire import audit_clips, audit_events, tls_tap

pytestmark = pytest.mark.slow

UNIT = "unit-faults"
CHUNK = 128 * 1024


def write_config(tmp_path: Path, video: Path, proxy_port: int, identity: Path) -> Path:
    path = tmp_path / "unit.toml"
    path.write_text(
        f'[unit]\nunit_id = "{UNIT}"\ndata_dir = "{tmp_path / "data"}"\n'
        f'[camera]\ntype = "file"\npath = "{video}"\nrealtime = false\n'
        '[microphone]\ntype = "silent"\n'
        f'[keypad]\nurl = "{tmp_path / "no-keypad"}"\n[badge]\nurl = "{tmp_path / "no-badge"}"\n'
        f'[sync]\nhq_url = "https://localhost:{proxy_port}"\nidentity_dir = "{identity}"\n'
        f"chunk_bytes = {CHUNK}\nbatch_events = 10\npoll_s = 0.5\n"
        "backoff_base_s = 0.2\nbackoff_cap_s = 1.0\n")
    return path


def spawn(command: str, config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "firmware.cli", command, "--config",
                                 str(config)], stdout=out, stderr=subprocess.STDOUT, env=env)


def local_db(tmp_path: Path) -> sqlite3.Connection:
    db = tmp_path / "data" / "counterunit.db"
    return sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)


def sync_status(tmp_path: Path) -> dict[str, Any]:
    return read_json(tmp_path / "data" / "status" / "sync.json") or {}


def drained(tmp_path: Path) -> bool:
    if not (tmp_path / "data" / "counterunit.db").exists():
        return False
    conn = local_db(tmp_path)
    try:
        left = read_backlog(conn)
    except sqlite3.OperationalError:
        return False  # not migrated yet
    finally:
        conn.close()
    return left.events == 0 and left.clips == 0


def test_everything_reaches_hq_once_through_every_fault(
        tmp_path: Path, scene_video: Callable[[str], tuple[Path, object]]) -> None:
    video, _ = scene_video("demo_day")
    hq_root = tmp_path / "hq"
    limits = HQLimits(max_chunk_bytes=CHUNK)
    logs: dict[str, Path] = {name: tmp_path / f"{name}.log" for name in ("run", "sync")}
    with ExitStack() as network, ExitStack() as first_life:
        hq: HQServer = first_life.enter_context(running_hq(hq_root, limits))
        unit = hq.enrolled_unit(UNIT)
        # The network outlives HQ's two lives, which share HQ's server certificate.
        proxy = network.enter_context(FaultProxy(("127.0.0.1", hq.port),
                                                 tls=tls_tap(hq, unit)))
        config = write_config(tmp_path, video, proxy.port, unit.directory)
        # A slow shared uplink and a slow HQ from the start.
        proxy.set_bandwidth(600_000, Direction.UP)
        hq.faults.delay_s = 0.2
        daemon = spawn("run", config, logs["run"])
        sync = spawn("sync", config, logs["sync"])
        try:
            # A connection cut in the middle of a clip upload.
            wait_for(lambda: (sync_status(tmp_path).get("uploading") is not None), 180,
                     "a clip upload under way")
            sent_before = proxy.stats.bytes_up
            wait_for(lambda: proxy.stats.bytes_up > sent_before + 2 * CHUNK, 60,
                     "two chunks of it through the proxy")
            # Cut inside a chunk's body: half a chunk more on the upload's connection. A cut
            # of every connection at an instant (reset_all) could fall between two chunks,
            # and then no upload was interrupted at all (seen once under load).
            resets_before = proxy.stats.resets
            proxy.reset_after(CHUNK // 2, Direction.UP, times=1)
            wait_for(lambda: proxy.stats.resets > resets_before, 60, "the upload cut mid-chunk")
            # HQ answers 500 to the next requests, whatever they are.
            hq.faults.fail_next = 4
            wait_for(lambda: hq.faults.failed >= 4, 60, "four 500 answers")
            hq.faults.delay_s = 0.0
            proxy.set_bandwidth(None)
            # HQ's process goes away for a while ...
            failures_before = sync_status(tmp_path).get("stats", {}).get("failures", 0)
            first_life.close()
            proxy.set_down(True)
            proxy.reset_all()
            wait_for(lambda: sync_status(tmp_path).get("stats", {}).get("failures", 0)
                     >= failures_before + 2, 60, "sync noticing HQ is gone")
            # ... and comes back on the same data at another address.
            with running_hq(hq_root, limits) as hq2:
                proxy.set_upstream(("127.0.0.1", hq2.port))
                proxy.set_down(False)
                assert daemon.wait(300) == 0, logs["run"].read_text()[-3000:]
                wait_for(lambda: drained(tmp_path), 300, "the outbox drained")
                conn = local_db(tmp_path)
                events = {r[0] for r in conn.execute("SELECT uuid FROM events")}
                clips = conn.execute("SELECT clip_id, sha256, size FROM clips WHERE "
                                     "sha256 IS NOT NULL AND deleted_utc IS NULL").fetchall()
                conn.close()
                wait_for(lambda: sync_status(tmp_path).get("stats", {}).get(
                    "clips_uploaded", 0) >= len(clips), 30, "sync's status caught up")
                # Every event exactly once, every clip byte-exact.
                hq_conn = sqlite3.connect(hq_root / "data" / "events.db")
                at_hq = [r[0] for r in hq_conn.execute(
                    "SELECT uuid FROM events WHERE unit_id = ?", [UNIT])]
                hq_conn.close()
                assert len(at_hq) == len(set(at_hq)) and set(at_hq) == events
                for clip_id, sha, _ in clips:
                    stored = hq2.deps.clips.open_clip(clip_id, UNIT)
                    assert stored.sha256 == sha and stored.path is not None
                    assert hashlib.sha256(stored.path.read_bytes()).hexdigest() == sha
        finally:
            for proc in (sync, daemon):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
    assert sync.returncode == 0, logs["sync"].read_text()[-3000:]
    status = sync_status(tmp_path)
    assert len(clips) >= 4 and status["stats"]["failures"] >= 6
    # What the unit sent, counted on the wire by the proxy.
    assert not proxy.wire.errors
    wire_events = audit_events(proxy.wire.exchanges())
    wire_clips = audit_clips(proxy.wire.exchanges())
    figures = json.dumps({"events": repr(wire_events), "clips": repr(wire_clips),
                          "sync": status["stats"]})
    assert wire_events.unique == len(events), figures
    assert wire_events.resent_after_ack == (), figures
    assert wire_events.unexplained_duplicates == 0, figures  # 0 duplicates, no lost answer
    assert wire_events.duplicates == status["stats"]["events_duplicate"], figures
    assert wire_clips.unique_bytes == sum(size for *_, size in clips), figures
    assert wire_clips.below_ack == 0, figures  # acknowledged clip bytes never went again
    assert wire_clips.interrupted >= 1, figures  # the cut, at least
    assert 0 <= wire_clips.resent <= wire_clips.interrupted * CHUNK, figures
    print(figures)
    for log in logs.values():
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
