"""Debian 12 root filesystems for the appliance tests, cached as tarballs.

The first run bootstraps from deb.debian.org (a minute or two); later runs only
unpack the cached tarball under build/appliance/ (gitignored).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "appliance"
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
# What the boot test's root needs besides the .deb's own dependencies (apt
# resolves those): an init, journald and the shell tools the monitor uses.
BOOT_INCLUDES = ["systemd", "systemd-sysv", "dbus", "procps", "apt"]


def _cached(name: str, make: Callable[[Path], None]) -> Path:
    tar = CACHE / name
    if not tar.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = tar.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        make(partial)
        partial.replace(tar)
    return tar


def debootstrap_minbase(dest: Path) -> None:
    """The chroot test's root: plain debootstrap (what the brief names), cached."""
    def make(out: Path) -> None:
        tmp = out.with_suffix(".dir")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["debootstrap", "--variant=minbase", "--arch=amd64", SUITE, str(tmp),
                        MIRROR], check=True, capture_output=True)
        with tarfile.open(out, "w") as tf:
            tf.add(tmp, arcname=".")
        shutil.rmtree(tmp)
    unpack(_cached(f"{SUITE}-amd64-debootstrap.tar", make), dest)


def systemd_root(dest: Path, arch: str = "amd64") -> None:
    """mmdebstrap root with systemd as init, cached."""
    def make(out: Path) -> None:
        subprocess.run(["mmdebstrap", "--variant=minbase", "--mode=root", "--format=tar",
                        f"--architectures={arch}", "--include=" + ",".join(BOOT_INCLUDES),
                        SUITE, str(out), MIRROR], check=True, capture_output=True)
    unpack(_cached(f"{SUITE}-{arch}-systemd.tar", make), dest)


def unpack(tar: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-xpf", str(tar), "-C", str(dest), "--numeric-owner"], check=True)


def nspawn(root: Path, *cmd: str, check: bool = True, binds: tuple[str, ...] = (),
           timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run one command in ``root`` (no init: a chroot with /proc, /dev and /sys)."""
    args = ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--pipe", "-D", str(root),
            "--setenv=DEBIAN_FRONTEND=noninteractive", "--setenv=LC_ALL=C.UTF-8"]
    args += [f"--bind={b}" for b in binds]
    proc = subprocess.run([*args, *cmd], text=True, capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env={**os.environ, "SYSTEMD_LOG_LEVEL": "err"})
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}")
    return proc
