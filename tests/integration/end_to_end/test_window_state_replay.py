"""State cards and state keys through ``counterunit replay --script`` (the whole unit).

A card listed in ``[window_states]`` is tapped on the badge reader: the window closes
(and the staff member leaving raises nothing); tapped again, it opens with the seat
empty, so an off-seat episode starts then and alerts 5 s later; a state key "away" ends
it. The card is never looked up in the roster (no badge_refused).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from vision.compose.scenes import Appearance, SceneSpec, compose

pytestmark = pytest.mark.slow
CARD = "0C0A0D0E"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("ws-replay")
    video = tmp / "scene.mp4"
    compose(SceneSpec(45, fps=5, appearances=(
        Appearance("astronaut", "seat", 0, 8, enter_s=0.0),)), video)
    base = tmp / "replay.toml"
    base.write_text(f'[camera]\ntype = "file"\npath = "{video}"\n'
                    '[rules]\noff_seat_alert_s = [5.0, 60.0, 120.0]\n'
                    f'[window_states]\ncards = [{{ uid = "{CARD}", state = "closed" }}]\n')
    script = tmp / "script.jsonl"
    script.write_text(f'{{"t": 2.0, "badge": "{CARD}"}}\n{{"t": 30.0, "badge": "{CARD}"}}\n'
                      '{"t": 40.0, "window_state": "away"}\n')
    proc = subprocess.run(
        [sys.executable, "-m", "firmware.cli", "replay", str(video), "--config", str(base),
         "--script", str(script), "--out", str(tmp / "data"), "--json"],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def test_cards_and_keys_drive_the_window_state(replayed: list[dict[str, Any]]) -> None:
    states = [(e["state"], e["source"], round(e["t"])) for e in replayed
              if e["type"] == "window_state"]
    assert [s[:2] for s in states] == [("open", "start"), ("closed", "card"),
                                       ("open", "default"), ("away", "keypad"),
                                       ("off", "shutdown")]
    assert [s[2] for s in states[1:4]] == [2, 30, 40]
    assert not [e for e in replayed if e["type"] == "badge_refused"]


def test_no_episode_while_closed_one_from_the_opening(replayed: list[dict[str, Any]]) -> None:
    started = [e for e in replayed if e["type"] == "absence_started"]
    raised = [e for e in replayed if e["type"] == "alert_raised"]
    ended = [e for e in replayed if e["type"] == "absence_ended"]
    assert [(round(e["t"]), e["reason"]) for e in started] == [(30, "window_opened")]
    assert [(round(e["t"]), e["level"]) for e in raised] == [(35, 1)]
    assert [(round(e["t"]), e["reason"], e["max_level"]) for e in ended] == [
        (40, "window_away", 1)]
