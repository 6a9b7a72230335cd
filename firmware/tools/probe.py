"""Check a clip the way a person's player would: ffprobe's view of its streams."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    video: str | None = None
    audio: str | None = None
    duration: float | None = None
    error: str = ""


def probe_clip(path: Path) -> ProbeResult:
    """Codecs and duration by ffprobe; ok only with a video and an audio stream."""
    exe = shutil.which("ffprobe")
    if exe is None:
        return ProbeResult(False, error="ffprobe not installed")
    proc = subprocess.run(
        [exe, "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        return ProbeResult(False, error=proc.stderr.strip() or f"exit {proc.returncode}")
    info = json.loads(proc.stdout or "{}")
    codecs = {s.get("codec_type"): s.get("codec_name") for s in info.get("streams", [])}
    duration = info.get("format", {}).get("duration")
    video, audio = codecs.get("video"), codecs.get("audio")
    return ProbeResult(bool(video and audio), video, audio,
                       float(duration) if duration else None)
