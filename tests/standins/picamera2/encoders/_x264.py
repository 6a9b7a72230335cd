"""Stand-in helper (not in the real package): libx264 configured as the real encoders are."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av


def open_x264(width: int, height: int, framerate: float, bitrate: int | None,
              iperiod: int | None, repeat: bool, preset: str = "ultrafast") -> Any:
    """An H.264 stream like LibavH264Encoder's: µs time base, zerolatency, SPS/PPS
    repeated before keyframes unless ``repeat`` is False (then they go to extradata)."""
    container = av.open("/dev/null", "w", format="null")
    stream = container.add_stream("h264", rate=Fraction(framerate).limit_denominator(1001))
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    ctx = stream.codec_context
    if bitrate is not None:
        ctx.bit_rate = bitrate
    ctx.gop_size = iperiod or (1 << 31) - 1
    ctx.options = {"preset": preset, "deblock": "1", "tune": "zerolatency"}
    if not repeat:
        ctx.flags |= av.codec.context.Flags.global_header
    ctx.time_base = Fraction(1, 1_000_000)
    return container, stream
