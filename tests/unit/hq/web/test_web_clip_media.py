"""Which media type a recording is served as: an alert's still is a JPEG, the rest MP4."""

from __future__ import annotations

import pytest

from hq.web.transactions.clip import media_of


@pytest.mark.parametrize(("clip_id", "expected"), [
    # firmware/daemon/snapshots.py: <absence>-snap<level>
    ("0f3a9c-abs-snap1", ("image/jpeg", "jpg")),
    ("0f3a9c-abs-snap3", ("image/jpeg", "jpg")),
    ("6f4d1a7f-a4-clip", ("video/mp4", "mp4")),
    ("snapshot-clip", ("video/mp4", "mp4")),         # only the unit's suffix counts
    ("abs-snap1-clip", ("video/mp4", "mp4")),
])
def test_media_of(clip_id: str, expected: tuple[str, str]) -> None:
    assert media_of(clip_id) == expected
