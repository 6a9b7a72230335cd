"""Read the shim's undo journal and roll a folder back to what a power cut leaves.

The shim (``shim.c``) appends one record before each change under its root and a
barrier after each fsync. After kill -9 every change is still in the page cache;
``rollback`` undoes, newest first, each change that no later barrier made durable:

- file data (write, truncate) is durable once the same inode is fsynced;
- a new entry (file or folder created, file renamed) is durable once its parent
  folder is fsynced;
- removals (unlink, rmdir, a file replaced by rename) count as durable at once.

``keep="prefix"`` keeps a random leading part of each file's (and folder's) unsynced
changes instead of none, as a disk that wrote some of its queue in order would.
Finally every ``*-shm`` file goes: a reboot does not keep shared memory.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

WRITE, TRUNC, FSYNC, CREATE, RENAME, DIRSYNC, UNLINK, SYNCALL, UNMODELLED = (
    1, 2, 3, 4, 5, 7, 8, 9, 10)
_MAGIC = 0x54554350
_HEAD = struct.Struct("<6I2Q3q")  # must match struct rec in shim.c


class JournalError(RuntimeError):
    """The journal is damaged or records something the model cannot undo."""


@dataclass(frozen=True, slots=True)
class Record:
    """One journal record, in the order the changes happened."""

    seq: int
    type: int
    pid: int
    dev: int
    ino: int
    path: str
    path2: str
    off: int
    old_size: int
    length: int
    data: bytes


def read_journal(path: Path) -> list[Record]:
    """Every whole record of ``path``; a torn last record (a kill mid-append) is dropped."""
    raw = path.read_bytes() if path.exists() else b""
    out: list[Record] = []
    pos = 0
    while pos + _HEAD.size <= len(raw):
        magic, type_, pid, plen, p2len, dlen, dev, ino, off, old, length = _HEAD.unpack_from(
            raw, pos)
        if magic != _MAGIC:
            raise JournalError(f"{path}: bad record header at byte {pos}")
        end = pos + _HEAD.size + plen + p2len + dlen
        if end > len(raw):
            break
        p = pos + _HEAD.size
        name = raw[p:p + plen].decode("utf-8", "surrogateescape")
        name2 = raw[p + plen:p + plen + p2len].decode("utf-8", "surrogateescape")
        data = raw[p + plen + p2len:end]
        out.append(Record(len(out), type_, pid, dev, ino, name, name2, off, old, length, data))
        pos = end
    return out


@dataclass
class _Obj:
    """One file or folder (an inode between its creation and its removal)."""

    path: str
    dev: int
    ino: int
    gone: bool = False
    created: bool = False

    def here(self) -> bool:
        """Whether ``path`` still names this inode. The shim journals a name change just
        after it happens, so a kill in between leaves one the journal does not know:
        then the undo of this object's records is skipped (the change that was not
        journaled is kept, which a real disk may do as well)."""
        try:
            st = os.lstat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == (self.dev, self.ino)


@dataclass
class Stats:
    """What one rollback undid, and what the processes wrote and synced."""

    records: int = 0
    writes: int = 0
    bytes_written: int = 0
    fsyncs: int = 0
    dirsyncs: int = 0
    clip_bytes: int = 0  # of bytes_written, to clip files (under a "clips" folder)
    clip_fsyncs: int = 0
    undone: int = 0
    undone_bytes: int = 0
    skipped: int = 0  # undo records of an inode no longer at its journaled name
    removed: list[str] = field(default_factory=list)


def _assign(records: list[Record]) -> tuple[list[_Obj | None], list[_Obj]]:
    """The inode each record is about, with its last path, by a forward pass."""
    live: dict[tuple[int, int], _Obj] = {}
    objs: list[_Obj] = []
    per_rec: list[_Obj | None] = []
    for r in records:
        if r.type in (SYNCALL, DIRSYNC, UNMODELLED):
            per_rec.append(None)
            continue
        key = (r.dev, r.ino)
        obj = live.get(key)
        if r.type == CREATE or obj is None:
            obj = _Obj(r.path2 if r.type == RENAME else r.path, r.dev, r.ino,
                       created=r.type == CREATE)
            live[key] = obj
            objs.append(obj)
        if r.type == RENAME:
            obj.path = r.path2
        per_rec.append(obj)
        if r.type == UNLINK:
            obj.gone = True
            del live[key]
    return per_rec, objs


def _lost(records: list[Record], per_rec: list[_Obj | None]) -> list[bool]:
    """Which records no later barrier covers (a backward pass)."""
    synced_objs: set[int] = set()
    synced_dirs: set[str] = set()
    all_synced = False
    lost = [False] * len(records)
    for i in range(len(records) - 1, -1, -1):
        r, obj = records[i], per_rec[i]
        if r.type == SYNCALL:
            all_synced = True
        elif r.type == FSYNC and obj is not None:
            synced_objs.add(id(obj))
        elif r.type == DIRSYNC:
            synced_dirs.add(r.path)
        elif r.type in (WRITE, TRUNC):
            lost[i] = not all_synced and id(obj) not in synced_objs
        elif r.type in (CREATE, RENAME):
            parent = os.path.dirname(r.path2 if r.type == RENAME else r.path)
            lost[i] = not all_synced and parent not in synced_dirs
    return lost


def _keep_prefix(records: list[Record], per_rec: list[_Obj | None], lost: list[bool],
                 rng: random.Random) -> None:
    """Spare a random leading part of each file's and each folder's lost records."""
    groups: dict[object, list[int]] = {}
    for i, r in enumerate(records):
        if not lost[i]:
            continue
        key: object = (id(per_rec[i]) if r.type in (WRITE, TRUNC)
                       else os.path.dirname(r.path2 if r.type == RENAME else r.path))
        groups.setdefault(key, []).append(i)
    for idx in groups.values():
        for i in idx[:rng.randint(0, len(idx))]:
            lost[i] = False


def _restore(path: str, off: int, data: bytes, size: int) -> None:
    with open(path, "r+b") as f:
        if data:
            f.seek(off)
            f.write(data)
        if f.seek(0, 2) != size:
            f.truncate(size)


def rollback(root: Path, journal: Path, *, keep: Literal["none", "prefix"] = "none",
             rng: random.Random | None = None) -> Stats:
    """Undo under ``root`` what ``journal`` says a power cut now would lose; see module doc."""
    records = read_journal(journal)
    for r in records:
        if r.type == UNMODELLED:
            raise JournalError(f"{r.path}: {r.data.decode()} of a tracked file (pid {r.pid}) "
                               "cannot be rolled back")
    per_rec, _ = _assign(records)
    lost = _lost(records, per_rec)
    if keep == "prefix":
        _keep_prefix(records, per_rec, lost, rng or random.Random())
    stats = Stats(records=len(records))
    for r in records:
        clip = "/clips/" in r.path
        if r.type == WRITE:
            stats.writes += 1
            stats.bytes_written += r.length
            stats.clip_bytes += r.length if clip else 0
        elif r.type == FSYNC:
            stats.fsyncs += 1
            stats.clip_fsyncs += clip
        elif r.type == DIRSYNC:
            stats.dirsyncs += 1
    for i in range(len(records) - 1, -1, -1):
        obj = per_rec[i]
        if not lost[i] or obj is None or obj.gone:
            continue
        r = records[i]
        if not obj.here():
            stats.skipped += 1
            continue
        stats.undone += 1
        if r.type == WRITE:
            stats.undone_bytes += r.length
            _restore(obj.path, r.off, r.data, r.old_size)
        elif r.type == TRUNC:
            _restore(obj.path, r.off, r.data, r.old_size)
        elif r.type == CREATE:
            p = Path(obj.path)
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)
            obj.gone = True
            stats.removed.append(obj.path)
        elif r.type == RENAME:
            if r.path.startswith(str(root)):
                os.rename(obj.path, r.path)
                obj.path = r.path
            else:  # moved in from outside: as if created here
                Path(obj.path).unlink(missing_ok=True)
                obj.gone = True
    for shm in _walk(root, "-shm"):
        shm.unlink()
    return stats


def _walk(root: Path, suffix: str) -> Iterator[Path]:
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(suffix):
                yield Path(dirpath) / f
