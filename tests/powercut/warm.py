"""One warm interpreter that forks the daemon and sync for every boot, imports done.

A cold boot spends its first second or more (several under load) importing Python
modules, which touches nothing under the data folder, so a cut landing there tests
nothing. ``python -m tests.powercut.warm [--normal]`` is started once per rig, under the
shim, with the modules of ``counterunit run`` and ``counterunit sync`` imported; for
each program of a boot it forks a child that starts where ``python -m firmware.cli``
would after its imports: its own process group (or the daemon's), the log as stdout and
stderr, stdin from /dev/null, the boot's environment, then ``firmware.cli.app.main``.
Everything the daemon does at start-up (config, store, migrations, salvage, models)
still happens after the fork, under the shim.

The shim opens its journal once, in this process, so every boot writes the same
journal file (``journal``); the harness empties it after each rollback. Requests and
replies are JSON lines on stdin/stdout: ``{"argv", "log", "env", "pgid"}`` answers
``{"pid"}`` (or ``{"error"}``); every child's end is reported as ``{"exit", "code"}``
(the code as ``subprocess`` gives it: negative for a signal).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

_PRELOAD = ("firmware.cli.app", "firmware.system.logsetup", "firmware.wiring.runner",
            "firmware.syncd.main")


def _child(req: dict[str, Any], wake: tuple[int, int]) -> None:
    """In the fork: become the program ``req`` asks for; never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in wake:
            os.close(fd)
        os.setpgid(0, int(req["pgid"]))
        log = os.open(req["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        for k, v in req["env"].items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        from firmware.cli.app import main

        sys.argv = ["counterunit", *req["argv"]]
        code = main(req["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # a crash must show in the log, as a cold one's would
        traceback.print_exc()
        code = 1
    finally:
        import atexit
        import logging

        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code & 0xFF)


def _send(msg: dict[str, Any]) -> None:
    os.write(1, (json.dumps(msg) + "\n").encode())


def serve(normal: bool) -> int:
    """The zygote's loop: fork on each request, report each child's exit."""
    if normal:
        from tests.powercut import normal as normal_mode

        normal_mode.install()
    for name in _PRELOAD:
        __import__(name)
    wake = os.pipe()
    for fd in wake:
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake[1])
    signal.signal(signal.SIGCHLD, lambda *_: None)
    _send({"ready": os.getpid()})
    buf = b""
    while True:
        ready, _, _ = select.select([0, wake[0]], [], [])
        if wake[0] in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake[0], 4096)
        while True:  # reap every child that ended
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            _send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})
        if 0 not in ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            return 0
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            req = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _child(req, wake)
            # Also here, so the group exists before the harness hears the pid.
            try:
                os.setpgid(pid, int(req["pgid"]) or pid)
            except OSError as exc:  # the child is gone already, or its group
                _send({"pid": pid, "error": str(exc)})
                continue
            _send({"pid": pid})


class WarmProcess:
    """A forked program, with the part of ``subprocess.Popen`` the rig uses."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.zygote.pump(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            self.zygote.pump(left)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)


class Zygote:
    """Start the warm interpreter (``env`` has the shim's variables) and fork from it."""

    def __init__(self, env: dict[str, str], cwd: Path, normal: bool, log: Path,
                 timeout_s: float = 120) -> None:
        self._log = open(log, "ab")  # noqa: SIM115 (closed in close)
        cmd = [sys.executable, "-m", "tests.powercut.warm", *(["--normal"] if normal else [])]
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log,
                                     start_new_session=True)
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self._out = self.proc.stdout.fileno()
        os.set_blocking(self._out, False)
        self._buf = b""
        self._children: dict[int, WarmProcess] = {}
        self._exits: dict[int, int] = {}
        self._replies: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while not any("ready" in r for r in self._replies):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError(f"the warm interpreter did not start; see {log}")
            self.pump(left)
        self._replies.clear()

    def pump(self, timeout: float | None) -> None:
        """Read what the zygote said, waiting up to ``timeout`` for something."""
        ready, _, _ = select.select([self._out], [], [], timeout)
        if not ready:
            return
        try:
            chunk = os.read(self._out, 65536)
        except BlockingIOError:
            return
        if not chunk:
            raise RuntimeError("the warm interpreter ended")
        self._buf += chunk
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            msg = json.loads(line)
            if "exit" in msg:
                child = self._children.pop(msg["exit"], None)
                if child is not None:
                    child.returncode = msg["code"]
                else:
                    self._exits[msg["exit"]] = msg["code"]
            else:
                self._replies.append(msg)

    def spawn(self, argv: list[str], log: Path, env: dict[str, str | None],
              pgid: int = 0) -> WarmProcess:
        """Fork ``counterunit argv`` into process group ``pgid`` (0: its own)."""
        assert self.proc.stdin is not None
        req = {"argv": argv, "log": str(log), "env": env, "pgid": pgid}
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()
        while not self._replies:
            self.pump(30)
            if self.proc.poll() is not None:
                raise RuntimeError("the warm interpreter ended")
        reply = self._replies.pop(0)
        child = WarmProcess(self, int(reply["pid"]))
        if reply["pid"] in self._exits:  # ended before its pid came back
            child.returncode = self._exits.pop(reply["pid"])
        else:
            self._children[child.pid] = child
        if "error" in reply and child.returncode is None:
            child.wait(30)
        return child

    def close(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self._log.close()


if __name__ == "__main__":
    sys.exit(serve("--normal" in sys.argv[1:]))
