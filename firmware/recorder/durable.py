"""Small helpers for files that must survive a power cut."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sync.durable import fsync_dir as fsync_dir  # re-exported: one definition

_CHUNK = 1 << 20


def makedirs_durable(path: Path) -> None:
    """Create ``path`` and missing parents, fsyncing each parent that gained an entry."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
        fsync_dir(d.parent)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes as they are on disk."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()
