"""A hall unit end to end: `counterunit replay` over vtest.avi with role = "hall".

The real file camera, recorder, store and clip book; the hall monitor counting.
vtest's hand count (tests/data/hall/vtest.json) is 7-9 people from t=8 to 28 s,
2-4 from 38 to 50 s and 8-9 from 69 s: with a crowd at 7 held 3 s and a clear at 4
held 3 s, a crowd is raised in the first stretch, cleared in the quiet one and
raised again at the end, each with a clip. check-config names a hall area
outside the frame.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
HALL_TOML = """
role = "hall"
[camera]
type = "file"
path = "/unused.mp4"
[hall.areas.plaza]
rect = [0.0, 0.0, 1.0, 1.0]
raise_at = 7
clear_at = 4
raise_hold_s = 3
clear_hold_s = 3
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "firmware.cli", *args], capture_output=True,
                          text=True, env=env, timeout=240, check=False)


@pytest.mark.skipif(not VTEST.is_file(), reason="opencv-doc not installed")
def test_replay_raises_clears_and_records_crowds(tmp_path: Path) -> None:
    (tmp_path / "hall.toml").write_text(HALL_TOML)
    out = tmp_path / "out"
    done = _cli("replay", str(VTEST), "--json", "--config", str(tmp_path / "hall.toml"),
                "--out", str(out))
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    alerts = [e for e in events if e["type"].startswith("alert_")]
    assert [e["type"] for e in alerts] == ["alert_raised", "alert_cleared", "alert_raised"]
    first, cleared, second = alerts
    assert 8 <= first["t"] <= 22 and first["area"] == "plaza" and first["count"] >= 7
    assert first["alert"] == "crowd" and first["threshold"] == 7
    assert 38 <= cleared["t"] <= 50 and cleared["count"] <= 4 and cleared["peak"] >= 8
    assert cleared["episode_id"] == first["episode_id"] != second["episode_id"]
    assert 66 <= second["t"] <= 76
    clips = {e["clip_id"]: e for e in events if e["type"] == "clip_closed"}
    assert set(clips) == {first["clip_id"], second["clip_id"]}
    for clip in clips.values():
        assert Path(clip["path"]).stat().st_size == clip["size"] > 0
    # Everything is in the unit's store, queued for sync like a counter's events.
    with sqlite3.connect(out / "counterunit.db") as db:
        stored = [r[0] for r in db.execute("SELECT type FROM events ORDER BY mono")]
    assert stored.count("alert_raised") == 2 and stored.count("alert_cleared") == 1


def test_check_config_names_an_area_outside_the_frame(tmp_path: Path) -> None:
    bad = HALL_TOML.replace("rect = [0.0, 0.0, 1.0, 1.0]", "rect = [0.0, 0.0, 1.5, 1.0]")
    (tmp_path / "bad.toml").write_text(bad)
    done = _cli("check-config", str(tmp_path / "bad.toml"))
    assert done.returncode == 2
    assert "hall.areas.plaza: rect corner x1, y1 (1.5, 1) is outside the frame" in done.stderr
    (tmp_path / "good.toml").write_text(HALL_TOML)
    good = _cli("check-config", str(tmp_path / "good.toml"))
    assert good.returncode == 0 and "hall areas plaza (crowd at 7, clear at 4)" in good.stdout
