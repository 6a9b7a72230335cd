"""``counterunit replay`` speed on a 720p 10 fps counter scene, end to end, in one run.

Composes the demo scene (118 s, 1280x720, 10 fps) once, then runs the real
``counterunit replay VIDEO --json`` as a child process ``--runs`` times (start-up,
model loading, decoding, analysis, state machine, store and recording all
counted) and keeps the best wall time, as bench_detector keeps its best round:
other load on the machine only ever slows a run down. CPU seconds (user +
system of the child) are printed beside it; media seconds per CPU second is
the speed a machine with nothing else running could not beat on one core.

``--source camera`` (default) is a camera-like H.264 file (no B-frames, a
keyframe every second: what a unit records), which replay records as it is;
``--source reencode`` has B-frames, so the recording is re-encoded with
libx264 as for any other video. Prints ``replay speed xS real time`` last and
exits 1 when it is below ``--target`` (default 20). Not part of the test suite:

    python -m bench.bench_replay [--runs 3] [--source camera|reencode] [--target 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vision.compose.scenes import compose, scene

TARGET = 20.0


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_replay(video: Path, out: Path) -> tuple[float, float, int]:
    """(wall s, CPU s, events) of one ``counterunit replay`` child."""
    cmd = [sys.executable, "-m", "firmware.cli", "replay", str(video), "--json",
           "--out", str(out)]
    cpu0 = child_cpu()
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"replay failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, child_cpu() - cpu0, len(done.stdout.splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", choices=("camera", "reencode"), default="camera")
    parser.add_argument("--target", type=float, default=TARGET)
    parser.add_argument("--dir", type=Path, help="keep the video here (default: temp)")
    args = parser.parse_args(argv)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-replay-"))
    folder.mkdir(parents=True, exist_ok=True)
    spec = scene("demo_day")
    video = folder / f"demo_day_{args.source}.mp4"
    if not video.is_file():
        # ultrafast has no B-frames (camera-like); veryfast's B-frames force a re-encode.
        compose(spec, video, preset="ultrafast" if args.source == "camera" else "veryfast")
    print(f"{video.name}: {spec.duration_s:.0f} s, {spec.size[0]}x{spec.size[1]}, "
          f"{spec.fps} fps, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    best = float("inf")
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-replay-out-") as out:
            wall, cpu, events = run_replay(video, Path(out))
        best = min(best, wall)
        print(f"run {i + 1}: {wall:5.1f} s wall ({spec.duration_s / wall:4.1f}x), CPU {cpu:5.1f} s "
              f"({spec.duration_s / cpu:4.1f}x per CPU second), {events} events")
    speed = spec.duration_s / best
    print(f"replay speed x{speed:.1f} real time (best of {args.runs}, target >= {args.target:g})")
    return 0 if speed >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
