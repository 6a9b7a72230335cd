"""Off-seat alerts carry a stamped snapshot: a JPEG stored durably beside the clips,
its id in the alert as ``snapshot_id``, queued for sync's clip upload."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import sqlite3
import zoneinfo
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from firmware.config.unit import SyncConfig, parse_config
from firmware.daemon.snapshots import save_durably, stamp_text, stamped_jpeg
from firmware.syncd.runner import SyncRunner
from firmware.system.clock import MediaClock
from firmware.wiring.runner import open_unit
from sync.hq_client import HQClient
from sync.outbox import Outbox
from tests.helpers.hq.server import running_hq


def test_stamp_and_durable_save(tmp_path: Path) -> None:
    text = stamp_text(dt.datetime(2026, 12, 7, 9, 5, 3, tzinfo=dt.timezone(dt.timedelta(hours=8))),
                      "unit-7", "counter-03")
    assert text == "2026-12-07 09:05:03 +0800  window counter-03  unit unit-7"
    grey = np.full((360, 640, 3), 200, np.uint8)
    jpeg = stamped_jpeg(grey, text)
    img = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    assert img.shape == (360, 640, 3)
    assert img[:300].mean() > 190, "the picture itself is untouched"
    band = img[-8:]
    assert band.mean() < 60 and band.max() > 150, "a dark band with light text at the bottom"
    saved = save_durably(tmp_path / "snaps", "a1-snap1", jpeg)
    assert saved.path.read_bytes() == jpeg and saved.size == len(jpeg)
    assert saved.sha256 == hashlib.sha256(jpeg).hexdigest()
    assert [p.name for p in (tmp_path / "snaps").iterdir()] == ["a1-snap1.jpg"], "no temp left"


def test_off_seat_alerts_carry_a_snapshot_queued_for_upload(
        tmp_path: Path, scene_video: Callable[[str], tuple[Path, object]]) -> None:
    video, _ = scene_video("staff_away_1min")
    cfg = parse_config({
        "unit": {"data_dir": tmp_path / "data", "unit_id": "unit-s", "counter_id": "win-9"},
        "camera": {"type": "file", "path": video, "realtime": False},
        "keypad": None, "badge": None, "rules": {"off_seat_alert_s": [10, 20, 30]},
    })
    unit = open_unit(cfg, media_time=True, media_clock=MediaClock())
    try:
        unit.run()
        rows = unit.store.rows("events", order_by="rowid")
        clips = {r["clip_id"]: r for r in unit.store.rows("clips")}
    finally:
        unit.store.close()
    alerts = [json.loads(r["data"]) for r in rows if r["type"] == "alert_raised"]
    assert [a["level"] for a in alerts] == [1, 2, 3], alerts
    snaps = [a["snapshot_id"] for a in alerts]
    assert snaps == [f"{alerts[0]['absence_id']}-snap{lv}" for lv in (1, 2, 3)]
    for snap in snaps:
        row = clips[snap]
        assert row["kind"] == "snapshot" and row["state"] == "closed"
        path = Path(row["path"])
        assert path.parent == cfg.unit.data_dir / "clips" / "snapshots"
        data = path.read_bytes()
        assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["size"] == len(data)
        assert Image.open(io.BytesIO(data)).format == "JPEG"
    outbox = Outbox(cfg.unit.data_dir / "counterunit.db")
    try:
        pending = {c.clip_id for c in outbox.pending_clips()}
        assert set(snaps) <= pending, "sync uploads snapshots through the clip upload"
        with running_hq(tmp_path / "hq") as hq:  # the real thing: mutual TLS, tus, ingest
            client = HQClient.from_identity(hq.url, hq.enrolled_unit("unit-s"))
            runner = SyncRunner(outbox, client, SyncConfig.model_validate(
                {"hq_url": "https://localhost"}), zoneinfo.ZoneInfo("UTC"),
                rng=random.Random(1))
            now = 0.0
            try:
                for _ in range(60):
                    backlog = outbox.backlog()
                    if not backlog.events and not backlog.clips:
                        break
                    runner.step(now)
                    now = max(now, runner.next_try) + 0.1
            finally:
                client.close()
            for snap in snaps:
                assert hq.deps.clips.open_clip(snap, "unit-s").sha256 == clips[snap]["sha256"]
            (events_db,) = (tmp_path / "hq").rglob("events.db")
            db = sqlite3.connect(events_db)
            try:
                threads = db.execute("SELECT kind, level, snapshot_id FROM alert_threads "
                                     "WHERE unit_id = 'unit-s'").fetchall()
            finally:
                db.close()
            assert threads == [("off_seat", 3, snaps[-1])], threads
    finally:
        outbox.close()
