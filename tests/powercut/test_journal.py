"""The shim and the rollback, on small programs: what a power cut keeps and what it loses."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.powercut.build import build_shim
from tests.powercut.journal import JournalError, rollback

PRELUDE = """
import os
from os import O_CREAT, O_WRONLY, O_RDWR, O_TRUNC
def dsync(p="."):
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd)
    os.close(fd)
"""


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shim(tmp_path_factory.mktemp("shim"))


def run_cut(shim: Path, root: Path, program: str, *, keep: str = "none",
            seed: int = 0) -> None:
    """Run ``program`` under the shim in ``root`` to its end (a cut right after), roll back."""
    journal = root.parent / "journal"
    env = {**os.environ, "LD_PRELOAD": str(shim), "POWERCUT_ROOT": str(root),
           "POWERCUT_JOURNAL": str(journal)}
    try:
        subprocess.run([sys.executable, "-c", PRELUDE + program], cwd=root, env=env,
                       check=True)
        rollback(root, journal, keep=keep, rng=random.Random(seed))  # type: ignore[arg-type]
    finally:
        journal.unlink(missing_ok=True)


def state(root: Path, names: list[str]) -> dict[str, bytes | None]:
    return {n: (root / n).read_bytes() if (root / n).is_file() else None for n in names}


CASES = [
    # (what, files before, program, files after the cut)
    ("fsynced data stays, later data goes", {},
     "f = os.open('a', O_CREAT | O_WRONLY); dsync()\n"
     "os.write(f, b'abc'); os.fsync(f); os.write(f, b'def')", {"a": b"abc"}),
    ("a new file whose folder was not fsynced is gone", {},
     "f = os.open('a', O_CREAT | O_WRONLY); os.write(f, b'x'); os.fsync(f)", {"a": None}),
    ("an overwrite in place goes back to the old bytes", {"a": b"hello"},
     "f = os.open('a', O_WRONLY); os.pwrite(f, b'J', 0); os.write(f, b'ELLO!!')",
     {"a": b"hello"}),
    ("an overwrite then fsync stays", {"a": b"hello"},
     "f = os.open('a', O_RDWR); os.pwrite(f, b'J', 0); os.fsync(f)", {"a": b"Jello"}),
    ("a truncate goes back", {"a": b"hello"}, "os.truncate('a', 2)", {"a": b"hello"}),
    ("O_TRUNC goes back", {"a": b"hello"}, "open('a', 'wb').write(b'x')", {"a": b"hello"}),
    ("a rename without folder fsync is undone", {"a": b"hello"}, "os.rename('a', 'b')",
     {"a": b"hello", "b": None}),
    ("a rename with folder fsync stays", {"a": b"hello"}, "os.rename('a', 'b'); dsync()",
     {"a": None, "b": b"hello"}),
    ("a removal counts as durable at once", {"a": b"hello"}, "os.unlink('a')", {"a": None}),
    ("a folder whose parent was not fsynced goes with its files", {},
     "os.mkdir('d'); dsync('d'); f = os.open('d/x', O_CREAT | O_WRONLY); dsync('d')\n"
     "os.write(f, b'x'); os.fsync(f)", {"d/x": None}),
    ("a rename the shim never saw (a kill before its record) is kept, not undone wrongly",
     {"a": b"hello"},
     "import ctypes, platform\nassert platform.machine() == 'x86_64'\n"
     "os.rename('a', 'b'); open('c', 'wb').write(b'new')\n"
     "ctypes.CDLL(None, use_errno=True).syscall(82, b'c', b'b')  # SYS_rename, unseen",
     {"a": None, "b": b"new", "c": None}),
    ("the recorder's sequence keeps the clip under its final name", {},
     "f = os.open('c.partial', O_CREAT | O_WRONLY); os.fsync(f); dsync()\n"
     "os.write(f, b'frag1'); os.fsync(f); os.write(f, b'frag2'); os.fsync(f); os.close(f)\n"
     "os.rename('c.partial', 'c'); dsync(); open('c', 'ab').write(b'after')",
     {"c": b"frag1frag2", "c.partial": None}),
]


@pytest.mark.parametrize(("what", "before", "program", "after"), CASES,
                         ids=[c[0] for c in CASES])
def test_rollback(shim: Path, tmp_path: Path, what: str, before: dict[str, bytes],
                  program: str, after: dict[str, bytes | None]) -> None:
    root = tmp_path / "root"
    root.mkdir()
    for name, data in before.items():
        (root / name).write_bytes(data)
    run_cut(shim, root, program)
    assert state(root, list(after)) == after, what


def test_prefix_keeps_a_leading_part_of_the_unsynced_writes(shim: Path,
                                                             tmp_path: Path) -> None:
    seen = set()
    for seed in range(12):
        root = tmp_path / f"root{seed}"
        root.mkdir()
        (root / "a").write_bytes(b"")
        run_cut(shim, root, "f = os.open('a', O_WRONLY)\n"
                "for c in b'xyz': os.write(f, bytes([c]))", keep="prefix", seed=seed)
        seen.add((root / "a").read_bytes())
    assert seen <= {b"", b"x", b"xy", b"xyz"} and len(seen) >= 3, seen


def test_shm_is_dropped_and_a_shared_writable_map_is_refused(shim: Path,
                                                             tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "db-shm").write_bytes(b"x" * 4096)
    (root / "m").write_bytes(b"x" * 4096)
    with pytest.raises(JournalError, match="mmap"):
        run_cut(shim, root, "import mmap\nf = os.open('m', O_RDWR)\n"
                "mmap.mmap(f, 4096, mmap.MAP_SHARED, mmap.PROT_WRITE)")
    run_cut(shim, root, "pass")
    assert not (root / "db-shm").exists()


def test_a_copy_by_sendfile_is_journaled(shim: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "src").write_bytes(b"payload")
    (root / "a").write_bytes(b"")
    run_cut(shim, root, f"import shutil\nshutil.copyfile({str(tmp_path / 'src')!r}, 'a')")
    assert (root / "a").read_bytes() == b""
