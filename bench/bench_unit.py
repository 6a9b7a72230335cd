"""Whole-unit cost: 2 zones analysed at 5 fps while recording 720p H.264 + AAC, live pace.

Runs the real unit (file camera paced in real time, WAV microphone, models,
state machine, store, recorder) over a composed counter scene and prints, from
one run: the unit's CPU as a fraction of the machine, peak resident memory,
analysis frames processed against those due, and the worst lag behind the
camera. The scene is composed in a child process first: rendering it is test
scaffolding, not the unit, and its memory would otherwise count in the peak.
The last line is ``peak RSS N MiB (target <= 250)``; exits 1 when the peak is
over its target or an analysis frame that was due was not processed. Not part
of `make test`:

    .venv/bin/python -m bench.bench_unit [--seconds 60] [--threads N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from firmware.config.unit import parse_config
from firmware.wiring.runner import open_unit
from vision.presence import PresenceChange

RSS_TARGET_MIB = 250
# Frames are due at analysis_fps over the wall time; the last one may still be in flight.
DUE_SLACK = 2


def compose_scene(out: Path) -> None:
    """The demo scene's video and counter audio into ``out`` (run in a child process)."""
    from audio.synth import synth_counter_audio
    from vision.compose.scenes import compose, scene

    spec = scene("demo_day")
    truth = compose(spec, out / "scene.mp4")
    synth_counter_audio(out / "scene.wav", spec.duration_s, truth.intervals["customer"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=None,
                        help="vision.threads (default: the config's own default)")
    parser.add_argument("--target-mib", type=float, default=RSS_TARGET_MIB,
                        help="peak RSS budget (MiB)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        child = multiprocessing.get_context("spawn").Process(target=compose_scene, args=(out,))
        child.start()
        child.join()
        if child.exitcode != 0:
            print(f"composing the scene failed (exit {child.exitcode})", file=sys.stderr)
            return 2
        cfg = parse_config({
            "unit": {"data_dir": out / "data"},
            "camera": {"type": "file", "path": out / "scene.mp4", "realtime": True},
            "microphone": {"type": "wav", "path": out / "scene.wav", "realtime": True},
            "keypad": None, "badge": None,
            **({"vision": {"threads": args.threads}} if args.threads else {}),
        }, "bench")
        unit = open_unit(cfg, media_time=False)
        frames = 0
        worst_lag = 0.0
        process = unit.analyzer.process

        def counted(image: np.ndarray, t: float) -> list[PresenceChange]:
            nonlocal frames, worst_lag
            frames += 1
            worst_lag = max(worst_lag, time.monotonic() - t)
            if time.monotonic() - start >= args.seconds:
                unit.request_stop()
            return process(image, t)

        unit.analyzer.process = counted  # type: ignore[method-assign,assignment]
        cpu0 = os.times()
        start = time.monotonic()
        unit.run()
        wall = time.monotonic() - start
        cpu1 = os.times()
        unit.store.close()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    due = int(wall * cfg.camera.analysis_fps)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall {wall:.1f} s, {os.cpu_count()} cores")
    print(f"CPU {cpu:.1f} s = {cpu / wall:.2f} cores = {cpu / wall / (os.cpu_count() or 1):.2f} "
          "of the machine")
    print(f"analysis frames {frames} of ~{due} due (2 zones each), worst lag {worst_lag:.2f} s")
    dropped = max(0, due - DUE_SLACK - frames)
    if dropped:
        print(f"{dropped} analysis frames dropped (target 0)")
    print(f"peak RSS {rss_mb:.0f} MiB (target <= {args.target_mib:g})")
    return 0 if rss_mb <= args.target_mib and not dropped else 1


if __name__ == "__main__":
    sys.exit(main())
