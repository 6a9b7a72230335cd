"""Replay of composed counter scenes reports exactly the true transactions and absences.

The whole unit runs (file camera, real models, state machine, store, recorder)
over each scene as fast as possible; media time is the clock, so the reported
times compare directly with the scene's ground truth.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from firmware.cli.app import main
from firmware.tools.probe import probe_clip

pytestmark = pytest.mark.slow
TOLERANCE_S = 1.0

SCENES = [
    "arrive_leave", "two_customers", "passer_by", "object_in_zone", "animal_in_zone",
    "lighting_dip", "customer_out_of_view_2s", "staff_away_1min", "customer_turns_back",
    "teller_turns_to_printer", "poster_face",
]


def replay_events(video: Path, out: Path, capsys: pytest.CaptureFixture[str],
                  *extra: str) -> list[dict[str, Any]]:
    assert main(["replay", str(video), "--json", "--out", str(out), *extra]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def pairs(events: list[dict[str, Any]], start: str, end: str, key: str
          ) -> list[tuple[float, float | None]]:
    ends = {e[key]: e for e in events if e["type"] == end}
    return [(e["t"], ends[e[key]]["t"] if e[key] in ends else None)
            for e in events if e["type"] == start]


def expected_absences(seat: list[tuple[float, float]], duration: float
                      ) -> list[tuple[float, float | None]]:
    """Gaps after the seat was first occupied; a final gap ends with the video (shutdown)."""
    gaps: list[tuple[float, float | None]] = [
        (a[1], b[0]) for a, b in itertools.pairwise(seat)]
    if seat and seat[-1][1] < duration - 1:
        gaps.append((seat[-1][1], duration))
    return gaps


def assert_matches(got: list[tuple[float, float | None]],
                   want: list[tuple[float, float | None]], what: str) -> None:
    assert len(got) == len(want), f"{what}: got {got}, want {want}"
    for (g0, g1), (w0, w1) in zip(got, want, strict=True):
        assert abs(g0 - w0) <= TOLERANCE_S, f"{what} start {g0} vs true {w0}"
        if w1 is not None:
            assert g1 is not None and abs(g1 - w1) <= TOLERANCE_S, f"{what} end {g1} vs {w1}"


@pytest.mark.parametrize("name", SCENES)
def test_replay_reports_true_transactions_and_absences(
        name: str, scene_video: Callable[[str], tuple[Path, Any]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    video, truth = scene_video(name)
    events = replay_events(video, tmp_path / "out", capsys)
    customer = [(a, b) for a, b in truth.intervals["customer"]]
    txns = pairs(events, "transaction_started", "transaction_ended", "txn_id")
    assert_matches(txns, customer, "transactions")
    absences = pairs(events, "absence_started", "absence_ended", "absence_id")
    assert_matches(absences, expected_absences(truth.intervals["seat"], truth.spec.duration_s),
                   "absences")
    # Every transaction's clip was committed and plays.
    clips = {e["clip_id"]: e for e in events if e["type"] == "clip_closed"}
    for e in events:
        if e["type"] == "transaction_started":
            clip = clips[e["clip_id"]]
            assert probe_clip(Path(clip["path"])).ok


def test_replay_cli_with_script_logs_in_and_rates(
        scene_video: Callable[[str], tuple[Path, Any]], tmp_path: Path) -> None:
    """The real command line, a roster and a script: login, a rating tied to staff."""
    from hal.badge.uid import hash_badge_uid

    video, truth = scene_video("arrive_leave")
    ((_, end),) = truth.intervals["customer"]
    roster = tmp_path / "roster.toml"
    roster.write_text('[[staff]]\nstaff_id = "s-7"\nname = "Wang Fang"\nstaff_number = "B7"\n'
                      f'badge_uid_sha256 = ["{hash_badge_uid("0A0B0C0D", "salt-1")}"]\n')
    cfg = tmp_path / "unit.toml"
    cfg.write_text(f'[camera]\ntype = "file"\npath = "{video}"\n'
                   f'[roster]\npath = "{roster}"\nuid_salt = "salt-1"\n')
    script = tmp_path / "script.jsonl"
    from firmware.config.unit import ZoneConfig

    hold = ZoneConfig.model_fields["exit_hold_s"].default
    prompt_at = end + hold + 1  # the prompt follows the confirmed departure (exit hold)
    script.write_text(f'{{"t": 1.0, "badge": "0A0B0C0D"}}\n{{"t": 2.0, "badge": "FFFF"}}\n'
                      f'{{"t": {prompt_at}, "key": 4}}\n{{"t": {prompt_at + 1}, "key": 2}}\n')
    proc = subprocess.run(
        [sys.executable, "-m", "firmware.cli", "replay", str(video), "--config", str(cfg),
         "--script", str(script), "--out", str(tmp_path / "out"), "--json"],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    types = [e["type"] for e in events]
    assert all("type" in e and isinstance(e["t"], float | int) for e in events)
    login = events[types.index("login")]
    assert login["staff_id"] == "s-7" and abs(login["t"] - 1.0) <= 0.2
    assert "badge_refused" in types
    (rating,) = [e for e in events if e["type"] == "rating"]
    assert (rating["rating"], rating["staff_id"], rating["suspect"]) == (4, "s-7", False)
    assert [e["reason"] for e in events if e["type"] == "key_ignored"] == ["already_rated"]
