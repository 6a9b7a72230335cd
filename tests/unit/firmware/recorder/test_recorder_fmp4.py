"""Fragmented-MP4 box layout: what survives a cut."""

from __future__ import annotations

import io
import struct

import pytest

from firmware.recorder.fmp4 import Box, Layout, layout, moof_sample_counts, parse_header, scan


def box(kind: str, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind.encode()) + payload


def large_box(kind: str, payload: bytes) -> bytes:
    return struct.pack(">I4sQ", 1, kind.encode(), 16 + len(payload)) + payload


def full_box(kind: str, body: bytes) -> bytes:
    return box(kind, b"\x00\x00\x00\x00" + body)  # version + flags


def moof(track_samples: dict[int, int]) -> bytes:
    trafs = b"".join(
        box(
            "traf",
            full_box("tfhd", struct.pack(">I", tid)) + full_box("trun", struct.pack(">I", n)),
        )
        for tid, n in track_samples.items()
    )
    return box("moof", box("mfhd", b"\0" * 8) + trafs)


HEADER = box("ftyp", b"iso5") + box("moov", b"\0" * 40)
FRAG = moof({1: 10, 2: 16}) + box("mdat", b"\x55" * 100)


@pytest.mark.parametrize(
    ("head", "offset", "file_size", "expected"),
    [
        (box("moof", b"\0" * 8), 0, 16, Box("moof", 0, 16, True)),
        (box("mdat", b"\0" * 8), 100, 110, Box("mdat", 100, 16, False)),  # cut
        (large_box("mdat", b"")[:16], 0, 1000, Box("mdat", 0, 16, True)),
        (struct.pack(">I4s", 0, b"mdat"), 10, 50, Box("mdat", 10, 40, True)),  # to EOF
        (b"\x00\x00\x00", 0, 3, None),  # header itself cut
        (struct.pack(">I4s", 4, b"moof"), 0, 100, None),  # smaller than its header
        (struct.pack(">I4s", 1, b"mdat") + b"\0\0", 0, 100, None),  # largesize cut
    ],
)
def test_parse_header(head: bytes, offset: int, file_size: int, expected: Box | None) -> None:
    assert parse_header(head, offset, file_size) == expected


def layout_of(data: bytes) -> Layout:
    return layout(scan(io.BytesIO(data), len(data)), len(data))


@pytest.mark.parametrize(
    ("data", "fragments", "playable_end"),
    [
        (HEADER + FRAG * 3, 3, len(HEADER + FRAG * 3)),
        (HEADER + FRAG * 3 + box("mfra", b"\0" * 8), 3, len(HEADER + FRAG * 3)),
        (HEADER + FRAG * 2 + FRAG[:-10], 2, len(HEADER + FRAG * 2)),  # cut inside mdat
        (HEADER + FRAG * 2 + FRAG[:20], 2, len(HEADER + FRAG * 2)),  # cut inside moof
        (HEADER + FRAG * 2 + FRAG[:5], 2, len(HEADER + FRAG * 2)),  # cut inside a header
        (HEADER + FRAG[: len(FRAG) // 2], 0, 0),  # only a partial fragment
        (HEADER, 0, 0),
        (HEADER[:-3], 0, 0),  # moov cut
        (box("moov") + FRAG, 0, 0),  # no ftyp: not our file
        (HEADER + moof({1: 1}) + moof({1: 1}) + box("mdat"), 1, None),  # lone moof skipped
    ],
)
def test_layout_finds_complete_fragments(
    data: bytes, fragments: int, playable_end: int | None
) -> None:
    lay = layout_of(data)
    assert len(lay.fragments) == fragments
    if playable_end is not None:
        assert lay.playable_end == playable_end
        assert lay.lost_bytes == len(data) - playable_end


def test_header_end_is_known_only_with_ftyp_and_moov() -> None:
    assert layout_of(HEADER + FRAG).header_end == len(HEADER)
    assert layout_of(HEADER[:-1]).header_end is None


def test_moof_sample_counts_per_track() -> None:
    payload = moof({1: 10, 2: 16})[8:]
    assert moof_sample_counts(payload) == {1: 10, 2: 16}


def test_moof_sample_counts_of_a_cut_moof_counts_what_is_whole() -> None:
    payload = moof({1: 10, 2: 16})[8:]
    assert moof_sample_counts(payload[: len(payload) - 4]) == {1: 10}
