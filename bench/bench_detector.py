"""Detector pipeline throughput against the bare interpreter loop, in one run.

The pipeline is what the analyzer pays per model pass, through the same
``run_many`` the scorer calls: crop the zone out of the analysis frame,
letterbox and normalise, invoke, decode anchors and NMS (pose_detection) or
read the presence flag and segmentation share (pose_landmark), with the
letterboxing of the next crop and the decoding of the previous one overlapped
with inference on one worker thread. The bare loop invokes the same
interpreter on the same crops, pre-processed beforehand. A sequential loop
(same stages, no overlap) gives the per-stage costs. Rounds of the loops
alternate so that load from other processes hits all alike; each keeps its
best round. Overhead ratio = pipeline time / bare time, target <= 1.10. With both model sets present
(``make models``), float16 and int8 run interleaved too, and the int8
speed-up over float16 is printed as a ratio (same crops, same threads).

The overlap needs a core the interpreter does not use, as on the unit: its
default of 2 interpreter threads is sized for a Pi 5's 4 cores, leaving the
rest to the pipeline worker, the recorder and sync. So ``--threads`` defaults
to half this machine's cores. With the interpreter on every core (``--threads
2`` on a 2-core machine) the host work has no core of its own and the ratio
measures that contention as much as the pipeline; the bench prints it as such.

    python -m bench.bench_detector [--threads N] [--rounds 9] [--frames 24]
        [--precision both|float16|int8] [--batch frame|all]

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vision.compose.render import Renderer
from vision.compose.scenes import scene
from vision.detector import PoseDetector
from vision.landmark import PoseLandmark
from vision.model_files import ModelSelectionError, Precision, resolve_model_files
from vision.zones import DEFAULT_ZONES, Zone

TARGET = 1.10
Crops = list[tuple[np.ndarray, Zone]]


def frames(count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """Analysis-size frames of the demo scene, spread over its length."""
    spec = scene("demo_day")
    renderer = Renderer(dataclasses.replace(spec, size=size))
    return [renderer.frame(spec.duration_s * i / count) for i in range(count)]


def bare_loop(interp: Any, tensors: list[np.ndarray]) -> Callable[[], None]:
    """Set the input, invoke, read every output: the interpreter and nothing else."""
    index = interp.get_input_details()[0]["index"]
    outputs = [d["index"] for d in interp.get_output_details()]

    def loop() -> None:
        for tensor in tensors:
            interp.set_tensor(index, tensor)
            interp.invoke()
            for out in outputs:
                interp.get_tensor(out)

    return loop


class Stages:
    """Per-stage wall time accumulated over a pipeline round."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


def batches(crops: Crops, per_frame: bool) -> list[Crops]:
    """One batch per frame (what the analyzer hands ``run_many``), or all crops at once."""
    if not per_frame:
        return [crops]
    out: list[Crops] = []
    for frame, zone in crops:
        if out and out[-1][0][0] is frame:
            out[-1].append((frame, zone))
        else:
            out.append([(frame, zone)])
    return out


def run_many_loop(model: PoseDetector | PoseLandmark, crops: Crops,
                  per_frame: bool) -> Callable[[], None]:
    """What the analyzer runs: crop a frame's zones, then the overlapped ``run_many``."""
    groups = batches(crops, per_frame)

    def loop() -> None:
        for group in groups:
            model.run_many([zone.crop(frame) for frame, zone in group])

    return loop


def detector_pipeline(det: PoseDetector, crops: Crops, stages: Stages) -> Callable[[], None]:
    def loop() -> None:
        clock = time.perf_counter
        for frame, zone in crops:
            t0 = clock()
            crop = zone.crop(frame)
            lb = det.prepare(crop)
            t1 = clock()
            raw, logits = det.infer()
            t2 = clock()
            det.read(raw, logits, lb)
            t3 = clock()
            stages.add("crop+preprocess", t1 - t0)
            stages.add("infer", t2 - t1)
            stages.add("decode+nms", t3 - t2)

    return loop


def landmark_pipeline(lm: PoseLandmark, crops: Crops, stages: Stages) -> Callable[[], None]:
    def loop() -> None:
        clock = time.perf_counter
        for frame, zone in crops:
            t0 = clock()
            lb = lm.prepare(zone.crop(frame))
            t1 = clock()
            presence, segmentation = lm.infer()
            t2 = clock()
            lm.read(presence, segmentation, lb)
            t3 = clock()
            stages.add("crop+preprocess", t1 - t0)
            stages.add("infer", t2 - t1)
            stages.add("read outputs", t3 - t2)

    return loop


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@dataclass
class Contender:
    """One model's loops (pipeline, sequential, bare) and the best round of each."""

    label: str
    model: Any
    pipeline: Callable[[], None]
    sequential: Callable[[], None]
    bare: Callable[[], None]
    stages: Stages
    best_p: float = float("inf")
    best_s: float = float("inf")
    best_b: float = float("inf")
    best_stages: dict[str, float] = field(default_factory=dict)

    @property
    def overhead(self) -> float:
        return self.best_p / self.best_b


def contender(label: str, model: Any, crops: Crops,
              make: Callable[..., Callable[[], None]], per_frame: bool) -> Contender:
    tensors = []
    for frame, zone in crops:
        model.prepare(zone.crop(frame))
        tensors.append(model.input_tensor.copy())
    stages = Stages()
    c = Contender(label, model, run_many_loop(model, crops, per_frame), make(model, crops, stages),
                  bare_loop(model.interpreter, tensors), stages)
    c.pipeline()
    c.sequential()
    c.bare()  # XNNPACK packs weights on the first invoke: keep that out of the figures
    return c


def race(contenders: list[Contender], rounds: int) -> None:
    """Rounds interleave every loop of every contender, so load drift hits all alike."""
    for _ in range(rounds):
        for c in contenders:
            c.best_b = min(c.best_b, timed(c.bare))
            c.best_p = min(c.best_p, timed(c.pipeline))
            c.stages.seconds.clear()
            elapsed = timed(c.sequential)
            if elapsed < c.best_s:
                c.best_s, c.best_stages = elapsed, dict(c.stages.seconds)


def report(c: Contender, n: int) -> None:
    ratio = c.overhead
    print(f"{c.label}: pipeline {n / c.best_p:6.1f} crops/s ({1000 * c.best_p / n:5.2f} ms/crop), "
          f"bare interpreter {n / c.best_b:6.1f} crops/s ({1000 * c.best_b / n:5.2f} ms/crop), "
          f"overhead x{ratio:.3f} {'ok' if ratio <= TARGET else 'over target'}")
    print(f"    sequential (no overlap) {1000 * c.best_s / n:5.2f} ms/crop "
          f"x{c.best_s / c.best_b:.3f}: "
          + ", ".join(f"{stage} {1000 * s / n:.2f} ms" for stage, s in c.best_stages.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="interpreter threads (default: half this machine's cores)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--width", type=int, default=640, help="analysis frame width (16:9)")
    parser.add_argument("--precision", choices=("both", "float16", "int8"), default="both")
    parser.add_argument("--batch", choices=("frame", "all"), default="frame",
                        help="run_many per frame's zones (as the analyzer) or over all crops")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    threads = args.threads or max(1, cores // 2)
    images = frames(args.frames, (args.width, args.width * 9 // 16))
    crops = [(f, z) for f in images for z in DEFAULT_ZONES]
    precisions: list[Precision] = (
        ["float16", "int8"] if args.precision == "both" else [args.precision]
    )
    print(f"{len(crops)} zone crops ({', '.join(z.name for z in DEFAULT_ZONES)}) from "
          f"{len(images)} frames of {images[0].shape[1]}x{images[0].shape[0]}, "
          f"{threads} interpreter thread(s) of {cores} cores, run_many per {args.batch}, "
          f"best of {args.rounds} interleaved rounds")
    if threads >= cores:
        print("note: the interpreter has every core, so the overlapped host work competes "
              "with it; the overhead below includes that contention")
    try:
        files = {p: resolve_model_files(p) for p in precisions}
    except ModelSelectionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    worst = 0.0
    for kind, cls, make in (("pose_detection", PoseDetector, detector_pipeline),
                            ("pose_landmark ", PoseLandmark, landmark_pipeline)):
        contenders = []
        for precision, f in files.items():
            path = f.detector if cls is PoseDetector else f.landmark
            model = cls(path, threads)
            contenders.append(contender(f"{kind} {precision:7}", model, crops, make,
                                         args.batch == "frame"))
        race(contenders, args.rounds)
        for c in contenders:
            report(c, len(crops))
            worst = max(worst, c.overhead)
        if len(contenders) == 2:
            f16, i8 = contenders
            print(f"{kind} int8 over float16: interpreter x{f16.best_b / i8.best_b:.2f}, "
                  f"pipeline x{f16.best_p / i8.best_p:.2f} (speed-up, same crops and threads)")
    print(f"worst overhead x{worst:.3f} (target <= {TARGET:.2f})")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
