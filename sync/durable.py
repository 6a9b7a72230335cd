"""Durability on disk that the unit and HQ share: a folder's entries made durable."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (new, renamed or removed files) durable.

    A rename or a new file is only durable once its folder is fsynced too; without it a
    power cut may bring back the old name, or no file at all.
    """
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
