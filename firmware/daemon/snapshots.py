"""Alert snapshots: the current analysis frame as a JPEG stamped with date, time and
place, stored durably beside the clips and queued for upload as a clip of kind
``snapshot`` (HQ's resumable clip store takes any bytes with a sha256).

Seed function 1 asks for stills stamped with time, date and place; an alert event
carries the still's id as ``snapshot_id`` so HQ's alert thread can show it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from firmware.store import Store
from sync.schema import EventEnvelope

JPEG_QUALITY = 85
SNAPSHOT_DIR = "snapshots"


@dataclass(frozen=True)
class Saved:
    """A snapshot on disk."""

    snapshot_id: str
    path: Path
    size: int
    sha256: str


def stamp_text(local: dt.datetime, unit_id: str, counter_id: str) -> str:
    """The stamp: local date and time with its UTC offset, then the place."""
    return f"{local:%Y-%m-%d %H:%M:%S %z}  window {counter_id}  unit {unit_id}"


def stamped_jpeg(image: np.ndarray, text: str) -> bytes:
    """``image`` (H x W x 3 RGB) as a JPEG with ``text`` on a dark band at the bottom."""
    img = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(10, img.height // 30))
    _, top, _, bottom = draw.textbbox((0, 0), text, font=font)
    band = bottom - top + 8
    draw.rectangle((0, img.height - band, img.width, img.height), fill=(0, 0, 0))
    draw.text((4, img.height - band + 4 - top), text, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def save_durably(directory: Path, snapshot_id: str, data: bytes) -> Saved:
    """Write to a temporary name, fsync, rename into place, fsync the folder: after a
    power cut the snapshot is either whole or absent, never half-written."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{snapshot_id}.jpg"
    tmp = directory / f".{snapshot_id}.jpg.tmp"
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return Saved(snapshot_id, path, len(data), hashlib.sha256(data).hexdigest())


def store_snapshot(store: Store, directory: Path, snapshot_id: str, image: np.ndarray,
                   text: str, t: float) -> EventEnvelope:
    """Stamp, save durably and queue one snapshot as a closed clip of kind ``snapshot``
    (so sync uploads it like a clip); returns its ``clip_closed`` event."""
    saved = save_durably(directory, snapshot_id, stamped_jpeg(image, text))
    store.clip_opened(snapshot_id, "snapshot", saved.path, t)
    return store.clip_finished(snapshot_id, state="closed", path=saved.path, t=t,
                               duration_s=0.0, size=saved.size, sha256=saved.sha256,
                               note="snapshot")
