"""Recover clips that were being written when the unit lost power or was killed.

Run at start-up for every clip the store does not know as closed. A partial
file keeps its header and every fragment that was fsynced; those are copied to
the final name and checked by demuxing them. A partial file with nothing
playable is kept as ``<final>.cut``: evidence is never deleted here.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import av.error

from firmware.recorder.durable import fsync_dir, sha256_file
from firmware.recorder.fmp4 import scan_file

log = logging.getLogger(__name__)

CUT_SUFFIX = ".cut"
_TMP_SUFFIX = ".salvage"

SalvageStatus = Literal["salvaged", "cut", "missing"]


@dataclass(frozen=True, slots=True)
class SalvageResult:
    """Outcome for one clip.

    ``salvaged``: ``path`` is the playable clip (final name); ``duration`` covers
    its complete fragments; ``lost_bytes`` were an interrupted fragment.
    ``cut``: nothing playable; the bytes are kept at ``path`` (``<final>.cut``)
    and ``error`` says why. ``missing``: neither partial nor final file exists.
    """

    status: SalvageStatus
    path: Path | None
    sha256: str | None
    size: int
    duration: float
    error: str | None = None
    lost_bytes: int = 0


def probe_duration(path: Path) -> float:
    """Seconds of video the file plays, by demuxing every packet; raises on unreadable data."""
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        tb = stream.time_base
        assert tb is not None
        first: int | None = None
        end: int | None = None
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            first = packet.pts if first is None else min(first, packet.pts)
            stop = packet.pts + (packet.duration or 0)
            end = stop if end is None else max(end, stop)
        if first is None or end is None:
            raise ValueError("no video packets")
        return float((end - first) * tb)


def salvage(partial: str | Path, final: str | Path) -> SalvageResult:
    """Turn an interrupted clip into a playable file at ``final``, or keep it as ``.cut``.

    Idempotent across crashes: if the partial file is gone but ``final`` exists
    (the process died after renaming, before the store committed), the final
    file is checked and reported as salvaged.
    """
    partial, final = Path(partial), Path(final)
    if not partial.exists():
        if final.exists():
            return _check_final(final)
        return SalvageResult("missing", None, None, 0, 0.0, f"{partial}: no such file")
    try:
        lay = scan_file(partial)
    except OSError as exc:
        return _keep_as_cut(partial, final, f"cannot read ({exc.strerror})")
    if final.exists():
        # Both names exist only if something else wrote the final name; never overwrite it.
        return _keep_as_cut(partial, final, f"{final.name} already exists")
    if lay.header_end is None:
        return _keep_as_cut(partial, final, "header (ftyp+moov) incomplete")
    if not lay.fragments:
        return _keep_as_cut(partial, final, "no complete fragment")

    tmp = final.with_name(final.name + _TMP_SUFFIX)
    try:
        _copy_prefix(partial, tmp, lay.playable_end)
        duration = probe_duration(tmp)
    except (OSError, ValueError, av.error.FFmpegError) as exc:
        tmp.unlink(missing_ok=True)
        return _keep_as_cut(partial, final, f"complete fragments do not play ({exc})")
    os.rename(tmp, final)
    fsync_dir(final.parent)
    # The interrupted tail cannot be played (its moof or mdat is short), and the
    # playable part is now durable under the final name.
    partial.unlink()
    fsync_dir(final.parent)
    size = final.stat().st_size
    log.warning(
        "salvaged %s: %d fragment(s), %.2f s; %d trailing bytes of an interrupted fragment lost",
        final,
        len(lay.fragments),
        duration,
        lay.lost_bytes,
    )
    return SalvageResult(
        "salvaged", final, sha256_file(final), size, duration, None, lay.lost_bytes
    )


def _copy_prefix(src: Path, dst: Path, length: int) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        remaining = length
        while remaining:
            chunk = fin.read(min(remaining, 1 << 20))
            if not chunk:
                raise OSError(f"{src} shrank while copying")
            fout.write(chunk)
            remaining -= len(chunk)
        fout.flush()
        os.fsync(fout.fileno())


def _keep_as_cut(partial: Path, final: Path, why: str) -> SalvageResult:
    cut = final.with_name(final.name + CUT_SUFFIX)
    n = 1
    while cut.exists():  # an earlier cut of the same clip is evidence too
        cut = final.with_name(f"{final.name}{CUT_SUFFIX}.{n}")
        n += 1
    shutil.move(partial, cut)
    fsync_dir(cut.parent)
    log.warning("clip %s is cut: %s; kept as %s", final, why, cut)
    size = cut.stat().st_size
    return SalvageResult("cut", cut, sha256_file(cut), size, 0.0, why, size)


def _check_final(final: Path) -> SalvageResult:
    try:
        duration = probe_duration(final)
    except (OSError, ValueError, av.error.FFmpegError) as exc:
        # A final file that does not play goes through the same rules as a partial one.
        partial = final.with_name(final.name + ".recheck")
        os.rename(final, partial)
        log.warning("clip %s does not play (%s); salvaging it", final, exc)
        return salvage(partial, final)
    return SalvageResult("salvaged", final, sha256_file(final), final.stat().st_size, duration)
