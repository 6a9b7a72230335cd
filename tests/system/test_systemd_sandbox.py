"""The daemon under counterunit.service's seccomp settings and private user namespace.

No systemd runs as PID 1 here, so ``systemctl start`` cannot be tried. Instead this
file rebuilds, with libseccomp (the library systemd itself uses), the seccomp filters
systemd 252 installs for the unit's ``SystemCallFilter=`` lines (an allow-list; other
calls fail with EPERM, as in ``SystemCallErrorNumber=EPERM``) and for
``MemoryDenyWriteExecute=yes`` (mmap with PROT_WRITE|PROT_EXEC, mprotect/pkey_mprotect
with PROT_EXEC, shmat with SHM_EXEC -> EPERM). The unit leaves the latter out; the
tests force it on to show exactly what it breaks (cffi callbacks) and what not. The group
contents come from ``systemd-analyze syscall-filter`` of the installed systemd, and the
settings are read from the unit file, so editing the unit changes what is tested.

Run as a script it is the launcher: ``python test_systemd_sandbox.py UNIT -- CMD...``
installs the filters and execs CMD (filters survive execve).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import grp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.helpers.unit.daemon_proc import DaemonProcess

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "counterunit.service"

PROT_WRITE, PROT_EXEC = 0x2, 0x4
SHM_EXEC = 0o100000
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_MASKED_EQ = 7


def scmp_act_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


class ScmpArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def unit_settings(unit: Path) -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit file, repeated keys in order."""
    out: dict[str, list[str]] = {}
    for raw in unit.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def syscall_groups() -> dict[str, list[str]]:
    """Group name -> entries (syscalls and @groups) as the installed systemd defines them."""
    text = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                          capture_output=True, text=True).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif line.strip() and not line.strip().startswith("#") and line.startswith(" "):
            current.append(line.strip())
    return groups


def expand(names: list[str], groups: dict[str, list[str]]) -> set[str]:
    out: set[str] = set()
    for name in names:
        out |= expand(groups[name], groups) if name.startswith("@") else {name}
    return out


def allowed_syscalls(filters: list[str], groups: dict[str, list[str]]) -> set[str]:
    """systemd's reading of SystemCallFilter= lines: the first list allows, ``~`` lists remove."""
    allowed: set[str] = set()
    for value in filters:
        if value.startswith("~"):
            allowed -= expand(value[1:].split(), groups)
        else:
            allowed |= expand(value.split(), groups)
    return allowed


def _seccomp() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ScmpArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def _load(lib: ctypes.CDLL, default: int, rules: list[tuple[int, str, list[ScmpArgCmp]]]) -> None:
    ctx = lib.seccomp_init(default)
    try:
        for action, name, conds in rules:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:
                continue  # not a syscall on this architecture (systemd skips these too)
            array = (ScmpArgCmp * max(1, len(conds)))(*conds)
            rc = lib.seccomp_rule_add_array(ctx, action, nr, len(conds), array)
            if rc < 0:
                raise OSError(-rc, f"seccomp rule for {name}")
        rc = lib.seccomp_load(ctx)
        if rc < 0:
            raise OSError(-rc, "seccomp_load")
    finally:
        lib.seccomp_release(ctx)


def install_unit_filters(unit: Path, force_mdwe: bool = False) -> None:
    """Install the seccomp filters systemd would install for ``unit`` into this process.

    ``force_mdwe`` adds the MemoryDenyWriteExecute=yes filter even though the unit
    leaves it out, to show what it would break and what it would not.
    """
    settings = unit_settings(unit)
    errno_action = scmp_act_errno(getattr(errno, settings["SystemCallErrorNumber"][-1]))
    lib = _seccomp()
    if force_mdwe or settings.get("MemoryDenyWriteExecute", ["no"])[-1] == "yes":
        deny = scmp_act_errno(errno.EPERM)

        def masked(arg: int, bits: int) -> list[ScmpArgCmp]:
            return [ScmpArgCmp(arg, SCMP_CMP_MASKED_EQ, bits, bits)]

        _load(lib, SCMP_ACT_ALLOW, [
            (deny, "mmap", masked(2, PROT_WRITE | PROT_EXEC)),
            (deny, "mmap2", masked(2, PROT_WRITE | PROT_EXEC)),
            (deny, "mprotect", masked(2, PROT_EXEC)),
            (deny, "pkey_mprotect", masked(2, PROT_EXEC)),
            (deny, "shmat", masked(2, SHM_EXEC)),
        ])
    # Last, as systemd does: the allow-list forbids seccomp() itself.
    allowed = allowed_syscalls(settings["SystemCallFilter"], syscall_groups())
    _load(lib, errno_action, [(SCMP_ACT_ALLOW, name, []) for name in sorted(allowed)])


def sandboxed(cmd: list[str], mdwe: bool = False, unit: Path = UNIT) -> list[str]:
    """``cmd`` prefixed with this file as launcher (``mdwe``: add MemoryDenyWriteExecute)."""
    flags = ["--mdwe"] if mdwe else []
    return [sys.executable, str(Path(__file__).resolve()), str(unit), *flags, "--", *cmd]


needs_seccomp = pytest.mark.skipif(
    not (ctypes.util.find_library("seccomp") and shutil.which("systemd-analyze")),
    reason="libseccomp and systemd-analyze are needed")


def run_python(code: str, mdwe: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(sandboxed([sys.executable, "-c", code], mdwe), capture_output=True,
                          text=True, timeout=120, cwd=REPO)


def test_unit_declares_what_this_file_rebuilds() -> None:
    settings = unit_settings(UNIT)
    assert "MemoryDenyWriteExecute" not in settings  # why: see the cffi test below
    assert settings["SystemCallErrorNumber"] == ["EPERM"]
    assert settings["SystemCallArchitectures"] == ["native"]
    assert settings["SystemCallFilter"][0] == "@system-service"


@needs_seccomp
def test_allow_list_is_system_service_minus_removed_groups() -> None:
    groups = syscall_groups()
    allowed = allowed_syscalls(unit_settings(UNIT)["SystemCallFilter"], groups)
    assert {"read", "openat", "ioctl", "mmap", "futex", "execve", "sendmsg"} <= allowed
    assert not {"setuid", "chown", "setpriority", "sched_setaffinity", "mount"} & allowed


@needs_seccomp
def test_replica_really_blocks_write_execute_and_removed_calls() -> None:
    """Positive control: the stand-in refuses what systemd refuses, or the rest proves nothing."""
    probe = (
        "import mmap, os\n"
        "try:\n"
        "    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
        "    print('wx-allowed')\n"
        "except PermissionError:\n"
        "    print('wx-denied')\n"
        "try:\n"
        "    os.sched_setaffinity(0, {0})\n"
        "    print('affinity-allowed')\n"
        "except PermissionError:\n"
        "    print('affinity-denied')\n"
        "mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE)\n"
        "print('rw-ok')\n")
    result = run_python(probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wx-denied", "affinity-denied", "rw-ok"]


@needs_seccomp
def test_ctypes_callbacks_and_native_modules_work_under_write_execute_ban() -> None:
    """ctypes callbacks get libffi's static trampolines; the native modules load."""
    code = (
        "import ctypes\n"
        "f = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x * 2)\n"
        "assert f(21) == 42\n"
        "import numpy, av, serial, evdev, sounddevice, systemd.journal\n"
        "from ai_edge_litert.interpreter import Interpreter\n"
        "print('ok')\n")
    result = run_python(code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


@needs_seccomp
def test_cffi_callback_needs_write_execute_memory_so_unit_leaves_mdwe_out() -> None:
    """sounddevice wraps the PortAudio stream callback with cffi's ffi.callback(), which
    allocates a W+X page: under MemoryDenyWriteExecute the microphone cannot start."""
    code = (
        "import cffi\n"
        "try:\n"
        "    cb = cffi.FFI().callback('int(int)', lambda x: x + 1)\n"
        "    print('callback', cb(41))\n"
        "except MemoryError as exc:\n"
        "    print('refused:', exc)\n")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused: Cannot allocate write+execute memory"), (
        "cffi callbacks now work under W^X: add MemoryDenyWriteExecute=yes to the unit\n"
        + result.stdout)
    plain = run_python(code, mdwe=False)
    assert plain.stdout.strip() == "callback 42", plain.stderr


@pytest.fixture
def sandboxed_daemon(tmp_path: Path, scene_video: Callable[[str], tuple[Path, object]],
                     ) -> Iterator[DaemonProcess]:
    # Imported here: run as the launcher script, this file cannot import the tests package.
    from tests.helpers.unit.daemon_proc import DaemonProcess

    video, _ = scene_video("passer_by")
    # 90 s: the sandboxed start (seccomp launcher, LiteRT) is slower than a plain one.
    d = DaemonProcess(tmp_path, video, timeout_s=90, wrap=lambda cmd: sandboxed(cmd, mdwe=True),
                      env={"PYTHONFAULTHANDLER": "1"}, cwd=REPO)
    yield d
    d.stop()


@needs_seccomp
@pytest.mark.slow
def test_daemon_runs_and_pings_watchdog_under_unit_filters(
        sandboxed_daemon: DaemonProcess) -> None:
    """READY, then WATCHDOG=1 (sent only after real frames went through LiteRT), then a clean
    SIGTERM: with the file camera and silent mic, nothing needs a removed system call, and
    not even W+X memory (the filter is forced on here although the unit leaves it out)."""
    d = sandboxed_daemon
    d.start()
    d.wait_message(b"READY=1")
    d.wait_message(b"WATCHDOG=1")
    assert d.proc is not None
    d.proc.send_signal(signal.SIGTERM)
    out, _ = d.proc.communicate(timeout=60)
    assert d.proc.returncode == 0, out
    assert "Traceback" not in out and "Operation not permitted" not in out, out


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("unshare"),
                    reason="needs root, setpriv and unshare (util-linux)")
def test_private_users_keeps_device_access_through_supplementary_group(tmp_path: Path) -> None:
    """PrivateUsers=yes maps only root and the service user; a device node owned by
    root:video then shows as nobody:nogroup inside, yet a member of video can still open
    it, because the kernel checks the real group ids. A non-member cannot (control)."""
    # Under /tmp itself: pytest's own temp root is 0700, closed to the test user.
    node = Path(tempfile.mkdtemp(dir="/tmp")) / "fake-video0"
    node.parent.chmod(0o755)
    os.mknod(node, 0o600 | 0o020000, os.makedev(1, 3))  # a character device (/dev/null's)
    video = grp.getgrnam("video").gr_gid
    os.chown(node, 0, video)
    os.chmod(node, 0o660)
    probe = f"echo x > {node} && echo opened"

    def as_nobody(groups: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", *groups, "--",
             "unshare", "--user", "--map-current-user", "sh", "-c", probe],
            capture_output=True, text=True, timeout=30)

    member = as_nobody([f"--groups={video}"])
    assert member.stdout.strip() == "opened", member.stderr
    stranger = as_nobody(["--clear-groups"])
    assert "opened" not in stranger.stdout and "Permission denied" in stranger.stderr


if __name__ == "__main__":
    split = sys.argv.index("--")
    install_unit_filters(Path(sys.argv[1]), force_mdwe="--mdwe" in sys.argv[2:split])
    os.execv(sys.argv[split + 1], sys.argv[split + 1:])
