"""Just enough H.264 bitstream handling for cameras that hand over encoded packets.

Hardware encoders (the Pi's, a UVC camera's) emit Annex-B access units and
repeat SPS/PPS in front of every keyframe instead of giving them out once. The
recorder's MP4 muxer wants the parameter sets as stream extradata: Annex-B
extradata is what libx264 gives the file camera, and FFmpeg's MP4 muxer turns
both extradata and packets into avcC/length-prefixed form itself, so the
packets pass through untouched and the extradata is cut out of the first
keyframe.
"""

from __future__ import annotations

import re

START_CODE = b"\x00\x00\x00\x01"
NAL_SPS = 7
NAL_PPS = 8
NAL_IDR = 5
# A 3- or 4-byte start code; the NAL unit runs to the next one.
_START = re.compile(b"\x00\x00\x01")


def is_annexb(data: bytes) -> bool:
    """Whether ``data`` starts with an Annex-B start code (not avcC/length-prefixed)."""
    return data.startswith(b"\x00\x00\x01") or data.startswith(START_CODE)


def nal_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B buffer, without start codes."""
    starts = [m.end() for m in _START.finditer(data)]
    units = []
    for i, begin in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(data)
        unit = data[begin:end]
        # A 4-byte start code leaves its leading zero on the previous unit.
        if i + 1 < len(starts) and unit.endswith(b"\x00"):
            unit = unit.rstrip(b"\x00")
        if unit:
            units.append(unit)
    return units


def nal_type(unit: bytes) -> int:
    """The nal_unit_type of a NAL unit (low five bits of its first byte)."""
    return unit[0] & 0x1F


def is_idr(data: bytes) -> bool:
    """Whether an Annex-B access unit holds an IDR slice (where a clip may start)."""
    return any(nal_type(u) == NAL_IDR for u in nal_units(data))


def parameter_sets(data: bytes) -> bytes | None:
    """Annex-B extradata (first SPS, first PPS) in ``data``; None if either is missing."""
    sps = pps = None
    for unit in nal_units(data):
        kind = nal_type(unit)
        if kind == NAL_SPS and sps is None:
            sps = unit
        elif kind == NAL_PPS and pps is None:
            pps = unit
    if sps is None or pps is None:
        return None
    return START_CODE + sps + START_CODE + pps


def sps_of(extradata: bytes) -> bytes | None:
    """The SPS in Annex-B extradata (to tell whether a reconnected camera still matches)."""
    return next((u for u in nal_units(extradata) if nal_type(u) == NAL_SPS), None)
