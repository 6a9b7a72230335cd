"""Test media made on the fly with PyAV (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def bars_video(
    path: Path, seconds: float, fps: int = 10, width: int = 320, height: int = 240
) -> Path:
    """Moving colour bars: every frame differs, so the encoder has real work."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        x = np.arange(width)
        for i in range(round(seconds * fps)):
            bars = ((x + 8 * i) * 8 // width) % 8
            row = np.stack([(bars & 1) * 255, (bars >> 1 & 1) * 255, (bars >> 2 & 1) * 255], -1)
            img = np.broadcast_to(row, (height, width, 3)).astype(np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    return path
