"""Bad input through the real command line: one clear message, non-zero exit, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "firmware.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120, check=False)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("body,needle", [
    ('[camera]\ntype = "file"\npath = "/x.mp4"\nanalysis_fps = "fast"\n',
     "camera.file.analysis_fps: Input should be a valid number"),
    ('[camera]\ntype = "file"\npath = "/x.mp4"\n[unit]\nunit_idd = "u"\n',
     "unit.unit_idd: unknown key"),
    ('[camera]\ntype = "file"\npath = "/x.mp4"\nrecord_bitrate = 1\n',
     "camera.file.record_bitrate: Input should be greater than or equal to 64000"),
])
@pytest.mark.parametrize("command", ["check-config", "run", "replay"])
def test_bad_config(tmp_path: Path, body: str, needle: str, command: str) -> None:
    cfg = tmp_path / "unit.toml"
    cfg.write_text(body)
    commands: dict[str, list[str | Path]] = {
        "check-config": ["check-config", cfg],
        "run": ["run", "--config", cfg],
        "replay": ["replay", tmp_path / "v.mp4", "--config", cfg, "--json"],
    }
    args = commands[command]
    assert_clean_failure(run_cli(*args), 2, needle)


def test_replay_missing_video(tmp_path: Path) -> None:
    proc = run_cli("replay", tmp_path / "nope.mp4", "--json", "--out", tmp_path / "o")
    assert_clean_failure(proc, 1, "no such file")
    assert proc.stderr.count("\n") == 1


def test_replay_corrupt_video(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    proc = run_cli("replay", bad, "--json", "--out", tmp_path / "o")
    assert_clean_failure(proc, 1, str(bad))
    assert proc.stderr.count("\n") == 1


def test_replay_text_file_as_video(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n")
    assert_clean_failure(run_cli("replay", bad, "--json", "--out", tmp_path / "o"), 1, str(bad))


def test_replay_bad_script(tmp_path: Path) -> None:
    script = tmp_path / "s.jsonl"
    script.write_text('{"t": 1, "key": "five"}\n')
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    proc = run_cli("replay", video, "--script", script, "--json", "--out", tmp_path / "o")
    assert_clean_failure(proc, 1, "s.jsonl:1: key")


def test_bad_zone_argument(tmp_path: Path) -> None:
    proc = run_cli("replay", tmp_path / "v.mp4", "--zone", "seat=1,2", "--json")
    assert proc.returncode == 2 and "--zone wants NAME=x0,y0,x1,y1" in proc.stderr
    assert "Traceback" not in proc.stderr
