"""Reading the box layout of a fragmented MP4, to find what survived a power cut.

A clip is ``ftyp moov (moof mdat)* [mfra]``. Everything up to the end of the
last complete ``moof``+``mdat`` pair plays; anything after is an interrupted
fragment. The functions here only parse headers and are pure apart from
``scan_file``, which reads box headers (not payloads) from disk.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_HEADER = struct.Struct(">I4s")
_LARGE = struct.Struct(">Q")


@dataclass(frozen=True, slots=True)
class Box:
    """A box header: type, where the box starts, its declared size, and whether it all exists."""

    type: str
    offset: int
    size: int
    complete: bool

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True, slots=True)
class Layout:
    """What a (possibly cut) fragmented MP4 holds."""

    header_end: int | None  # end of the moov box, or None if ftyp/moov are not complete
    fragments: tuple[tuple[int, int], ...]  # (moof offset, mdat end) of each complete pair
    file_size: int

    @property
    def playable_end(self) -> int:
        """Bytes worth keeping: header and complete fragments (0 if there is no fragment)."""
        return self.fragments[-1][1] if self.header_end is not None and self.fragments else 0

    @property
    def lost_bytes(self) -> int:
        return self.file_size - self.playable_end if self.playable_end else self.file_size


def parse_header(head: bytes, offset: int, file_size: int) -> Box | None:
    """The box whose header starts ``head`` (up to 16 bytes read at ``offset``).

    None when the header itself is cut off or nonsensical (size smaller than
    its own header), which ends the usable part of a file.
    """
    if len(head) < _HEADER.size:
        return None
    size, raw_type = _HEADER.unpack_from(head)
    header_len = _HEADER.size
    if size == 1:
        if len(head) < 16:
            return None
        (size,) = _LARGE.unpack_from(head, 8)
        header_len = 16
    elif size == 0:  # "extends to end of file"
        size = file_size - offset
    if size < header_len:
        return None
    box_type = raw_type.decode("latin-1")
    return Box(box_type, offset, size, offset + size <= file_size)


def layout(boxes: list[Box], file_size: int) -> Layout:
    """Classify top-level boxes into header and complete moof+mdat fragments."""
    header_end: int | None = None
    seen_ftyp = False
    fragments: list[tuple[int, int]] = []
    pending_moof: Box | None = None
    for box in boxes:
        if not box.complete:
            break
        if box.type == "ftyp":
            seen_ftyp = True
        elif box.type == "moov" and seen_ftyp:
            header_end = box.end
        elif header_end is None:
            continue
        elif box.type == "moof":
            pending_moof = box
        elif box.type == "mdat" and pending_moof is not None:
            fragments.append((pending_moof.offset, box.end))
            pending_moof = None
    return Layout(header_end, tuple(fragments), file_size)


def scan(f: BinaryIO, file_size: int) -> list[Box]:
    """Top-level box headers of an open file, stopping at the first cut or garbage."""
    boxes: list[Box] = []
    offset = 0
    while offset < file_size:
        f.seek(offset)
        box = parse_header(f.read(16), offset, file_size)
        if box is None:
            break
        boxes.append(box)
        if not box.complete:
            break
        offset = box.end
    return boxes


def scan_file(path: Path) -> Layout:
    """The layout of the file at ``path``."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        return layout(scan(f, size), size)


def children(payload: bytes) -> list[tuple[str, bytes]]:
    """Child boxes (type, body) of a container box's payload; stops at a cut."""
    out: list[tuple[str, bytes]] = []
    pos = 0
    while pos + _HEADER.size <= len(payload):
        box = parse_header(payload[pos : pos + 16], pos, len(payload))
        if box is None or not box.complete:
            break
        head = 16 if _HEADER.unpack_from(payload, pos)[0] == 1 else 8
        out.append((box.type, payload[pos + head : box.end]))
        pos = box.end
    return out


def moof_sample_counts(moof_payload: bytes) -> dict[int, int]:
    """Samples per track id in one ``moof`` (payload without its 8-byte header)."""
    counts: dict[int, int] = {}
    for box_type, traf in children(moof_payload):
        if box_type != "traf":
            continue
        track_id = 0
        samples = 0
        for child_type, body in children(traf):
            if child_type == "tfhd" and len(body) >= 8:
                track_id = struct.unpack_from(">I", body, 4)[0]
            elif child_type == "trun" and len(body) >= 8:
                samples += struct.unpack_from(">I", body, 4)[0]
        counts[track_id] = counts.get(track_id, 0) + samples
    return counts


def fragment_sample_counts(path: Path) -> list[dict[int, int]]:
    """Samples per track in each complete fragment of the file, in order."""
    lay = scan_file(path)
    out = []
    with open(path, "rb") as f:
        for moof_offset, _ in lay.fragments:
            f.seek(moof_offset)
            head = f.read(16)
            box = parse_header(head, moof_offset, lay.file_size)
            assert box is not None  # scan_file already parsed it
            header_len = 16 if _HEADER.unpack_from(head)[0] == 1 else 8
            f.seek(moof_offset + header_len)
            out.append(moof_sample_counts(f.read(box.size - header_len)))
    return out
