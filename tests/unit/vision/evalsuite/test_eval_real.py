"""The presence suite's real clips: the truth files' zones and the real-case loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vision.evalsuite.real import REAL_DIR, real_cases, real_names
from vision.evalsuite.truth import TruthError, load_truth, parse_truth, save_truth


def _truth(**extra: Any) -> dict[str, Any]:
    return {"case": "c", "video": "c.mp4", "duration_s": 30.0, "transactions": [[4, 16]],
            **extra}


def test_zones_parse_and_round_trip(tmp_path: Path) -> None:
    data = _truth(zones={"customer": [0.78, 0.45, 0.92, 0.78], "seat": [0, 0.5, 0.25, 1]})
    truth = parse_truth(data, "c.json")
    assert truth.zones == (("customer", (0.78, 0.45, 0.92, 0.78)), ("seat", (0.0, 0.5, 0.25, 1.0)))
    save_truth(truth, tmp_path / "c.json")
    assert load_truth(tmp_path / "c.json") == truth
    assert "zones" not in parse_truth(_truth(), "c.json").to_json()  # composed cases unchanged


BAD_ZONES: dict[str, tuple[Any, str]] = {
    "not an object": ([0, 0, 1, 1], "zones must be an object"),
    "unknown zone": ({"counter": [0, 0, 0.5, 0.5]}, r"zones\.counter: a zone is one of seat, "
                                                     "customer"),
    "three numbers": ({"seat": [0, 0, 1]}, r"zones\.seat must be \[x0, y0, x1, y1\]"),
    "a string": ({"seat": [0, 0, "1", 1]}, r"zones\.seat must be"),
    "a boolean": ({"seat": [0, 0, True, 1]}, r"zones\.seat must be"),
    "x0 after x1": ({"customer": [0.6, 0, 0.5, 1]}, r"zones\.customer needs 0 <= x0 < x1 <= 1"),
    "beyond the frame": ({"customer": [0.5, 0, 1.2, 1]}, r"zones\.customer needs"),
}


@pytest.mark.parametrize("name", list(BAD_ZONES))
def test_bad_zones_name_the_zone(name: str) -> None:
    zones, message = BAD_ZONES[name]
    with pytest.raises(TruthError, match=message) as info:
        parse_truth(_truth(zones=zones), "real.json")
    assert str(info.value).startswith("real.json: ")


def test_the_shipped_real_clips_are_annotated() -> None:
    """Each real truth names its zones and footage that a package installs; no absences
    (nobody sits in the seat box)."""
    assert real_names() == ["vtest_grass_companion", "vtest_stop_walkway"]
    for path in sorted(REAL_DIR.glob("*.json")):
        truth = load_truth(path)
        assert truth.case == path.stem
        assert dict(truth.zones).keys() == {"customer", "seat"}
        assert truth.video.startswith("/usr/share/doc/opencv-doc/")
        assert "real" in truth.tags and truth.note
        assert truth.absences == ()
        assert len(truth.transactions) == 1
    assert load_truth(REAL_DIR / "vtest_stop_walkway.json").transactions == ((49.0, 62.5),)
    assert load_truth(REAL_DIR / "vtest_grass_companion.json").transactions == ((52.5, 68.5),)


def test_missing_real_video_names_the_truth_file(tmp_path: Path) -> None:
    (tmp_path / "gone.json").write_text(json.dumps(_truth(video="/nonexistent/gone.avi")))
    with pytest.raises(TruthError, match=r"gone\.json: video /nonexistent/gone\.avi not found"):
        real_cases(tmp_path)
    (tmp_path / "gone.json").write_text(json.dumps(_truth(zones={"seat": [0, 0, 2, 1]})))
    with pytest.raises(TruthError, match=r"gone\.json: zones\.seat needs"):
        real_cases(tmp_path)
