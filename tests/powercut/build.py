"""Compile the shim (``shim.c``) with gcc into a folder, once per source version."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).with_name("shim.c")


class BuildError(RuntimeError):
    """gcc is missing or the shim does not compile; the message says which."""


def build_shim(out_dir: Path) -> Path:
    """The path of ``powercut-<hash>.so`` in ``out_dir``, compiled if not there yet."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    lib = out_dir / f"powercut-{digest}.so"
    if lib.exists():
        return lib
    gcc = shutil.which("gcc")
    if gcc is None:
        raise BuildError("gcc not found: install it (it is in the Makefile's APT_PACKAGES)")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = lib.with_suffix(".so.tmp")
    done = subprocess.run([gcc, "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                           "-o", str(tmp), str(SOURCE), "-ldl", "-lpthread"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"{SOURCE}: gcc failed:\n{done.stderr}")
    tmp.rename(lib)
    return lib
