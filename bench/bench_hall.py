"""Per-frame cost of the hall count on vtest.avi at the camera's analysis size (640 wide).

``python -m bench.bench_hall``: learning (exact median) and steady state
(running median + mask + blobs) separately, in ms per frame the monitor takes.
``python -m bench.bench_hall --counter tiled_pose [--size 768x576]``: the pose detector over
224 px tiles instead (vision/hall/tiled.py), one frame a second, ms per counted frame.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image

from firmware.hall.config import HallConfig
from firmware.hall.monitor import HallMonitor
from vision.hall.compose import VTEST


def main() -> None:
    import av

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--counter", choices=["background", "tiled_pose"], default="background")
    ap.add_argument("--size", default="640x480", help="frame size the monitor gets, WxH")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    monitor = HallMonitor(HallConfig.model_validate({"counter": {"type": args.counter}}),
                          "bench")
    learn: list[float] = []
    steady: list[float] = []
    with av.open(str(VTEST)) as c:
        for i, f in enumerate(c.decode(video=0)):
            t = i / 10
            if not monitor.wants(t):
                continue
            image = np.asarray(f.to_image().resize(size, Image.Resampling.BILINEAR))
            start = time.perf_counter()
            monitor.observe(image, t)
            (learn if t < 10.0 else steady).append(1000 * (time.perf_counter() - start))
    if args.counter == "tiled_pose":
        every = [*learn, *steady]
        print(f"hall count (tiled_pose, {args.size}): {np.mean(every):.1f} ms per counted frame "
              f"mean, p95 {np.percentile(every, 95):.1f} ({len(every)} frames, 1 a second)")
        return
    print(f"hall count: learning {np.mean(learn):.1f} ms/frame ({len(learn)} frames), "
          f"steady {np.mean(steady):.1f} ms/frame mean, p95 {np.percentile(steady, 95):.1f} "
          f"({len(steady)} frames; 3 frames a second taken: 2 samples, 1 count)")


if __name__ == "__main__":
    main()
