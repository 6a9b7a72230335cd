"""Pure parts of ``hal.camera.live`` the live back-ends share: argument checks, stream change."""

from __future__ import annotations

import pytest

from hal.camera.base import StreamInfo
from hal.camera.live import require_at_least, require_positive, stream_changed

SPS_A = b"\x00\x00\x00\x01\x67\x42\x00\x1f"
SPS_B = b"\x00\x00\x00\x01\x67\x64\x00\x28"
PPS = b"\x00\x00\x00\x01\x68\xce\x3c\x80"


@pytest.mark.parametrize(("values", "error"), [
    ({"fps": 15.0, "poll_s": 0.005}, None),
    ({"fps": 0.0, "poll_s": 0.005}, "fps must be > 0, got 0.0"),
    ({"fps": 15.0, "poll_s": -1}, "poll_s must be > 0, got -1"),
    ({"fps": -1, "poll_s": -1}, "fps must be > 0"),  # the first offender is named
])
def test_require_positive_names_the_key(values: dict[str, float], error: str | None) -> None:
    if error is None:
        require_positive(**values)
    else:
        with pytest.raises(ValueError, match=error):
            require_positive(**values)


@pytest.mark.parametrize(("values", "error"), [
    ({"width": 16, "height": 640}, None),
    ({"width": 8, "height": 640}, "width must be >= 16, got 8"),
    ({"width": 16, "height": 15}, "height must be >= 16, got 15"),
])
def test_require_at_least_names_the_key(values: dict[str, int], error: str | None) -> None:
    if error is None:
        require_at_least(16, **values)
    else:
        with pytest.raises(ValueError, match=error):
            require_at_least(16, **values)


def _info(width: int, sps: bytes) -> StreamInfo:
    return StreamInfo(kind="video", codec="h264", extradata=sps + PPS, width=width, height=240,
                      fps=10.0)


@pytest.mark.parametrize(("old", "new", "compare_sps", "changed"), [
    (_info(320, SPS_A), _info(320, SPS_A), True, False),
    (_info(320, SPS_A), _info(640, SPS_A), True, True),
    (_info(320, SPS_A), _info(640, SPS_A), False, True),  # size counts either way
    (_info(320, SPS_A), _info(320, SPS_B), True, True),
    (_info(320, SPS_A), _info(320, SPS_B), False, False),
])
def test_stream_changed(old: StreamInfo, new: StreamInfo, compare_sps: bool,
                        changed: bool) -> None:
    assert stream_changed(old, new, compare_sps=compare_sps) is changed
