"""PacketRing: keyframe-nearest selection, eviction by time, audio alignment."""

from __future__ import annotations

import pytest

from firmware.recorder.ring import PacketRing
from hal.camera.base import Packet


def video(pts: float, key: bool = False) -> Packet:
    return Packet("video", b"v", round(pts, 6), 0.1, key)


def audio(pts: float) -> Packet:
    return Packet("audio", b"a", round(pts, 6), 0.064, True)


def stream(seconds: float, fps: int = 10, gop_s: float = 1.0) -> list[Packet]:
    """Video at ``fps`` with a keyframe every ``gop_s``; audio packets every 64 ms."""
    n = round(seconds * fps)
    every = round(gop_s * fps)
    vid = [video(i / fps, key=i % every == 0) for i in range(n)]
    aud = [audio(i * 0.064) for i in range(int(seconds / 0.064))]
    return sorted(vid + aud, key=lambda p: p.pts)


def filled(seconds: float = 10.0, ring_s: float = 30.0) -> PacketRing:
    ring = PacketRing(ring_s)
    ring.add(stream(seconds))
    return ring


@pytest.mark.parametrize(
    ("t", "start"),
    [
        (0.0, 0.0),
        (3.0, 3.0),  # exactly on a keyframe
        (3.4, 3.0),  # nearer the earlier keyframe
        (3.6, 4.0),  # nearer the later one: a clip may start after t
        (3.5, 3.0),  # tie: the earlier one, more pre-roll rather than less
        (-5.0, 0.0),  # before anything held: the oldest
        (42.0, 9.0),  # after everything held: the newest
    ],
)
def test_since_starts_at_the_nearest_keyframe(t: float, start: float) -> None:
    got = filled().since(t)
    assert got[0].kind == "video"
    assert got[0].keyframe
    assert got[0].pts == pytest.approx(start)


@pytest.mark.parametrize(
    ("ring_s", "seconds", "held"),
    [
        # newest pts 9.9: horizon 6.9, so the last keyframe at/before it (6) is kept
        (3.0, 10.0, [6.0, 7.0, 8.0, 9.0]),
        (3.0, 3.0, [0.0, 1.0, 2.0]),  # nothing old enough to evict yet
        (0.5, 10.0, [9.0]),  # shorter than a GOP: the current GOP stays whole
        (2.0, 10.0, [7.0, 8.0, 9.0]),
    ],
)
def test_eviction_by_time_keeps_a_keyframe_covering_the_window(
    ring_s: float, seconds: float, held: list[float]
) -> None:
    ring = PacketRing(ring_s)
    ring.add(stream(seconds))
    assert ring.keyframes == pytest.approx(held)


def test_audio_is_evicted_with_the_video_it_belongs_to() -> None:
    ring = filled(10.0, ring_s=3.0)
    packets = ring.since(-100.0)
    first_audio = next(p for p in packets if p.kind == "audio")
    assert first_audio.pts >= 6.0
    assert first_audio.pts < 6.0 + 0.064


@pytest.mark.parametrize("t", [2.2, 5.0, 7.7])
def test_audio_starts_at_the_chosen_keyframe(t: float) -> None:
    packets = filled().since(t)
    start = packets[0].pts
    aud = [p.pts for p in packets if p.kind == "audio"]
    assert min(aud) >= start
    assert min(aud) - start < 0.064  # nothing missing at the front
    assert len(aud) == sum(1 for p in stream(10.0) if p.kind == "audio" and p.pts >= start)


def test_since_is_in_pts_order_with_video_first_on_ties() -> None:
    ring = PacketRing(10.0)
    ring.add([video(0.0, True), audio(0.0), video(0.1), audio(0.064), audio(0.128)])
    got = [(p.kind, p.pts) for p in ring.since(0.0)]
    assert got == [
        ("video", 0.0),
        ("audio", 0.0),
        ("audio", 0.064),
        ("video", 0.1),
        ("audio", 0.128),
    ]


def test_since_covers_every_video_packet_from_the_keyframe() -> None:
    packets = filled().since(4.0)
    assert [p.pts for p in packets if p.kind == "video"] == pytest.approx(
        [i / 10 for i in range(40, 100)]
    )


@pytest.mark.parametrize(
    ("packets", "dropped", "held_video"),
    [
        ([video(0.0), video(0.1, True), video(0.2)], 1, 2),  # nothing to decode against
        ([video(0.0, True), video(0.1), video(0.1)], 1, 2),  # repeated pts
        ([video(0.0, True), video(0.2), video(0.1)], 1, 2),  # back in time
        ([video(0.0, True), audio(0.5), audio(0.4)], 1, 1),  # audio back in time
    ],
)
def test_refuses_packets_it_could_not_mux(
    packets: list[Packet], dropped: int, held_video: int
) -> None:
    ring = PacketRing(10.0)
    ring.add(packets)
    assert ring.dropped == dropped
    assert sum(1 for p in ring.since(0.0) if p.kind == "video") == held_video


def test_empty_ring_gives_nothing() -> None:
    ring = PacketRing(5.0)
    assert ring.since(1.0) == []
    assert ring.nearest_keyframe(1.0) is None
    assert ring.newest is None
    ring.add([audio(0.0), audio(0.064)])  # audio alone cannot start a clip
    assert ring.since(0.0) == []


def test_a_gop_older_than_the_window_is_dropped_when_keyframes_stop() -> None:
    ring = PacketRing(2.0)
    ring.add([video(0.0, True), video(0.1), *[audio(i * 0.5) for i in range(10)]])
    assert ring.keyframes == []
    assert len(ring) <= 5  # only audio inside the 2 s window is left


@pytest.mark.parametrize("seconds", [0.0, -1.0])
def test_ring_length_must_be_positive(seconds: float) -> None:
    with pytest.raises(ValueError, match="ring length"):
        PacketRing(seconds)
