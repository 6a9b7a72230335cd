"""``counterunit replay`` shows its progress on a terminal, and nowhere else."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware.tools.replay_progress import media_seconds, progress_text
from tests.helpers.media import bars_video


@pytest.mark.parametrize(("done", "total", "expected"), [
    (0.0, 10.0, "0.0 s of 10.0 s of media (0%)"),
    (2.5, 10.0, "2.5 s of 10.0 s of media (25%)"),
    (12.0, 10.0, "12.0 s of 10.0 s of media (100%)"),  # the last frame runs past the header
    (3.25, None, "3.2 s of media"),
    (3.0, 0.0, "3.0 s of media"),
])
def test_progress_text(done: float, total: float | None, expected: str) -> None:
    assert progress_text(done, total) == expected


def test_media_seconds(tmp_path: Path) -> None:
    video = bars_video(tmp_path / "v.mp4", 3.0)
    assert media_seconds(video) == pytest.approx(3.0, abs=0.15)
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    assert media_seconds(tmp_path / "junk.mp4") is None


def _replay(tmp_path: Path, *extra: str) -> tuple[str, str]:
    """Replay with stderr on a pseudo-terminal; stdout stays a pipe."""
    video = bars_video(tmp_path / "v.mp4", 20.0)
    parent, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "firmware.cli", "replay", str(video),
                             "--out", str(tmp_path / "out"), *extra],
                            stdout=subprocess.PIPE, stderr=child, text=True,
                            env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
    os.close(child)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(parent, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(parent)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    return out, b"".join(chunks).decode("utf-8", "replace")


def test_replay_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    out, err = _replay(tmp_path)
    assert "s of media" in err and "of 20.0 s of media" in err
    assert "s of media" not in out  # the event list on stdout stays clean
    assert "replay data in" in err


def test_no_progress_with_json(tmp_path: Path) -> None:
    out, err = _replay(tmp_path, "--json")
    assert "s of media" not in err and "s of media" not in out
    assert out.startswith("{")
