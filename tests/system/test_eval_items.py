"""``counterunit eval items`` end to end: real composition, the real unit replayed with
the real models, the real scoring: 7 of the suite's 12 cases (about 25 s), every
must-not-fire one among them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware.cli.app import main

CASES = ["left_cup", "taken_unattended", "light_sudden", "light_gradual", "moving_shadow",
         "staff_hands", "papers_moved"]


def test_eval_items_cases_pass_and_a_wrong_truth_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["eval", "items", "--dir", str(tmp_path)]
    for name in CASES:
        argv += ["--case", name]
    code = main(argv)
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"eval items: {len(CASES)}/{len(CASES)} cases pass", "\n".join(out)
    assert code == 0
    rows = [line for line in out if line.startswith(("ok ", "FAIL"))]
    assert [r.split()[1] for r in rows] == sorted(CASES)
    taken = next(r for r in rows if "taken_unattended" in r)
    assert "item_left@" in taken and "item_taken@" in taken
    # Re-score with a truth that says nothing was left: now spurious, exit 1.
    path = tmp_path / "left_cup.json"
    truth = json.loads(path.read_text())
    assert truth["items_left"][0]["at"] == 18.0
    truth["items_left"] = []
    path.write_text(json.dumps(truth))
    assert main(["eval", "items", "--dir", str(tmp_path), "--no-compose",
                 "--case", "left_cup"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "eval items: 0/1 cases pass"
    assert any("FAIL left_cup" in line and "1 spurious" in line for line in out)


def test_eval_items_bad_truth_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.json").write_text(
        '{"suite": "items", "case": "x", "video": "x.mp4", "duration_s": 5, '
        '"items_left": [{"at": 1, "box": [0.5, 0.9, 0.4, 1.0]}]}')
    assert main(["eval", "items", "--dir", str(tmp_path), "--no-compose"]) == 2
    assert "items_left[0].box must be [x0, y0, x1, y1]" in capsys.readouterr().err


def test_item_left_has_a_snapshot_and_a_clip(tmp_path: Path) -> None:
    """The unit's own events over one case: the still and the clip exist on disk."""
    from firmware.tools.eval_items import base_config
    from firmware.tools.eval_presence import replay_events
    from vision.items.cases import item_cases
    from vision.items.scenes import compose_items

    c = next(c for c in item_cases() if c.name == "left_cup")
    video = tmp_path / "left_cup.mp4"
    compose_items(c.scene, video)
    out = tmp_path / "unit"
    events = replay_events(video, out, base_config(video, out, None))
    left = [e for e in events if e.type == "item_left"]
    assert len(left) == 1
    data = left[0].data
    closed = {e.data.get("clip_id"): e for e in events if e.type == "clip_closed"}
    assert data["snapshot_id"] in closed and data["clip_id"] in closed
    assert (out / "clips" / "snapshots" / f"{data['snapshot_id']}.jpg").is_file()
    alerts = [e for e in events if e.type == "alert_raised" and e.data.get("alert") == "item"]
    assert [a.data["item_id"] for a in alerts] == [data["item_id"]]
