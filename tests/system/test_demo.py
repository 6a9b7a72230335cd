"""`counterunit demo`: the composed day comes out whole — every visit once, rated, playable,
and all of it at the embedded HQ."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.tools.probe import probe_clip
from tests.system.demo_handover import check_hq_handover

pytestmark = pytest.mark.slow


def test_demo_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "firmware.cli", "demo", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "All checks passed" in proc.stdout
    assert "Where to look" in proc.stdout
    assert "alert deliveries: 1 delivered, 0 failed" in proc.stdout  # level 1 to the webhook
    # The embedded HQ got everything, checked through its user API.
    hq_part = proc.stdout[proc.stdout.index("At HQ"):]
    assert "FAIL" not in hq_part, hq_part
    for line in ("outbox drained", "once each", "with the unit's sha256", "answered 206",
                 "audit log holds"):
        assert line in hq_part, hq_part
    check_hq_handover(out, proc.stdout)  # demo-output/hq is a whole HQ, served as printed
    # The demo's HQ has a config for its unit (the window's rules), which the unit applies.
    assert "no_config" not in proc.stdout + proc.stderr
    assert "HQ config" in (out / "sync.log").read_text()
    # Its day is dated to end when the demo ends: status right after is not "from now".
    status = subprocess.run([sys.executable, "-m", "firmware.cli", "status", "--config",
                             str(out / "sync.toml")], capture_output=True, text=True,
                            timeout=60, check=False, env={**os.environ, "COLUMNS": "200"})
    assert "last status" in status.stdout, status.stdout
    assert "from now" not in status.stdout and "future" not in status.stdout, status.stdout

    conn = sqlite3.connect(out / "data" / "counterunit.db")
    txns = conn.execute("SELECT t.duration_s, t.rating, c.path, t.staff_id FROM transactions t "
                        "JOIN clips c ON c.clip_id = t.clip_id").fetchall()
    logins = conn.execute("SELECT staff_id FROM staff_sessions").fetchall()
    absences = conn.execute("SELECT a.duration_s, c.path FROM absences a "
                            "JOIN clips c ON c.clip_id = a.clip_id").fetchall()
    alerts = conn.execute("SELECT alert, level, cleared_utc IS NOT NULL FROM alerts "
                          "ORDER BY raised_t").fetchall()
    conn.close()
    assert len(txns) == 3
    assert logins == [("s-001",)]
    assert [r[1] for r in txns] == [5, 4, 2]  # the simulator's scripted ratings, in order
    assert all(staff == "s-001" for *_, staff in txns)
    from firmware.config.unit import RecordingConfig

    post = RecordingConfig.model_fields["post_roll_s"].default  # pre-roll is 3 s
    for duration, _, path, _ in txns:
        probe = probe_clip(Path(path))
        assert probe.ok and probe.video == "h264" and probe.audio == "aac"
        assert probe.duration is not None and abs(probe.duration - (duration + 3 + post)) <= 1.0
    ((away_s, away_clip),) = absences
    assert abs(away_s - 40) <= 1.0
    # Recorded while away: the whole absence plus pre- and post-roll.
    probe = probe_clip(Path(away_clip))
    assert probe.ok and probe.duration is not None
    assert abs(probe.duration - (away_s + 3 + post)) <= 1.0
    # 40 s away crosses the demo's 15/25/35 s levels; the rating 2 is "dissatisfied".
    assert alerts == [("off_seat", 1, 1), ("off_seat", 2, 1), ("off_seat", 3, 1),
                      ("dissatisfied", 1, 0)]
