"""``counterunit hq serve --workers N``: N HQ worker processes on one listening socket.

The supervisor binds the port once (so no worker races another for it, and a restarted
worker finds the same socket with its queued connections), then starts N copies of
``python -m hq.cli serve ... --listen-fd FD`` that inherit the socket and accept on it
side by side: the kernel hands each new connection to one of them. Each worker does its
own TLS handshakes with client certificates (hq/server/tls.py), so mutual TLS is exactly
what one process does.

A worker that exits is started again (after a pause that grows while it keeps dying
within ``QUICK_S`` of starting, so a broken install does not spin); after
``MAX_QUICK`` quick deaths in a row the supervisor stops them all and exits 1. SIGTERM
or SIGINT stops every worker (SIGTERM: each finishes its requests in flight), SIGKILL
after ``STOP_GRACE_S``, then the supervisor exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger(__name__)

QUICK_S = 5.0  # a worker dying sooner than this after its start counts as a quick death
MAX_QUICK = 5
STOP_GRACE_S = 15.0


def _die_with_parent() -> None:
    """In a worker, before it runs: SIGTERM when the supervisor dies (even by SIGKILL), so
    no orphaned worker keeps serving the port on its own (Linux PR_SET_PDEATHSIG)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def restart_delay(quick_deaths: int) -> float:
    """Seconds before starting a worker again after ``quick_deaths`` quick deaths in a row
    (0 after a death following a good run)."""
    if quick_deaths <= 0:
        return 0.0
    return min(5.0, 0.25 * 2 ** (quick_deaths - 1))


def bind_shared(host: str, port: int, backlog: int) -> socket.socket:
    """The listening TCP socket every worker inherits (IPv6 when ``host`` is one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


@dataclass
class _Slot:
    index: int
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    quick_deaths: int = 0
    start_at: float = 0.0  # monotonic time of the next start while proc is None


@dataclass
class Supervisor:
    """Keeps ``n`` workers made by ``argv(index)`` running until told to stop."""

    n: int
    argv: Callable[[int], list[str]]
    pass_fds: tuple[int, ...] = ()
    env: dict[str, str] | None = None
    _slots: list[_Slot] = field(default_factory=list)
    _wake: threading.Event = field(default_factory=threading.Event)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def pids(self) -> list[int]:
        """Process ids of the workers running now."""
        return [s.proc.pid for s in self._slots if s.proc is not None]

    def stop(self) -> None:
        """Ask :meth:`run` to stop every worker and return (safe from a signal handler)."""
        self._stopping.set()
        self._wake.set()

    def _start(self, slot: _Slot) -> None:
        slot.proc = subprocess.Popen(self.argv(slot.index), pass_fds=self.pass_fds,
                                     env=self.env, preexec_fn=_die_with_parent)
        slot.started = time.monotonic()
        log.info("HQ worker %d started (pid %d)", slot.index, slot.proc.pid)

    def _reap(self, slot: _Slot, now: float) -> bool:
        """Note a worker that exited and when to start it again; False if it gave up."""
        assert slot.proc is not None
        code = slot.proc.returncode
        quick = now - slot.started < QUICK_S
        slot.quick_deaths = slot.quick_deaths + 1 if quick else 0
        slot.proc = None
        if slot.quick_deaths >= MAX_QUICK:
            log.error("HQ worker %d exited %d times within %.0f s of starting (last status "
                      "%s); stopping HQ", slot.index, slot.quick_deaths, QUICK_S, code)
            return False
        slot.start_at = now + restart_delay(slot.quick_deaths)
        log.warning("HQ worker %d exited with status %s; starting it again", slot.index, code)
        return True

    def run(self) -> int:
        """Start the workers and keep them running until :meth:`stop`; the exit status."""
        self._slots = [_Slot(i) for i in range(self.n)]
        for slot in self._slots:
            self._start(slot)
        status = 0
        while not self._stopping.is_set():
            now = time.monotonic()
            for slot in self._slots:
                if slot.proc is not None and slot.proc.poll() is not None \
                        and not self._stopping.is_set() and not self._reap(slot, now):
                    status = 1
                    self._stopping.set()
                if slot.proc is None and not self._stopping.is_set() and now >= slot.start_at:
                    self._start(slot)
            waits = [s.start_at - now for s in self._slots if s.proc is None]
            # SIGCHLD wakes the loop at once; the timeout only bounds a missed wake-up.
            self._wake.wait(max(0.05, min([1.0, *waits])))
            self._wake.clear()
        self._stop_all()
        return status

    def _stop_all(self) -> None:
        live = [s.proc for s in self._slots if s.proc is not None]
        for proc in live:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in live:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("HQ worker pid %d did not stop in %.0f s; killing it",
                            proc.pid, STOP_GRACE_S)
                proc.kill()
                proc.wait(10)
        log.info("HQ: all %d workers stopped", len(live))


def supervise(n: int, worker_argv: Callable[[int, int], list[str]], host: str, port: int,
              backlog: int) -> int:
    """Bind ``host:port``, run ``n`` workers on it (``worker_argv(index, fd)``) until
    SIGTERM/SIGINT; the exit status."""
    sock = bind_shared(host, port, backlog)
    fd = sock.fileno()
    sup = Supervisor(n, lambda i: worker_argv(i, fd), pass_fds=(fd,), env=dict(os.environ))

    def on_stop(signum: int, frame: FrameType | None) -> None:
        sup.stop()

    def on_child(signum: int, frame: FrameType | None) -> None:
        sup._wake.set()

    previous = {s: signal.signal(s, on_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    previous[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, on_child)
    log.info("HQ supervisor (pid %d): %d workers on https://%s:%d", os.getpid(), n, host,
             port)
    try:
        return sup.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()


def python_argv(*args: str) -> list[str]:
    """``python -m hq.cli`` with ``args``, in this interpreter."""
    return [sys.executable, "-m", "hq.cli", *args]
