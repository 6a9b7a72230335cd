"""Real ``counterunit hq serve`` processes on loopback, for tests that start HQ itself.

``start_worker(data, port, log)`` runs ``python -m hq.cli serve`` as its own process;
``wait_up`` waits (with a deadline) until it answers over TLS. ``unit_identity`` makes a
unit certificate signed by the folder's CA, as enrollment would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from hq.pki.ca import CertificateAuthority
from sync.identity import UnitIdentity

ROOT = Path(__file__).resolve().parents[3]
START_DEADLINE_S = 120.0  # 2 cores shared by 8 engineers: imports alone take seconds


def serve_argv(data: Path, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hq.cli", "serve", "--data", str(data), "--port",
            str(port), *extra]


def start_worker(data: Path, port: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """One ``hq serve`` process (its own session, so a test can signal its whole group)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(serve_argv(data, port, *extra), env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_up(proc: subprocess.Popen[bytes], data: Path, port: int, log: Path,
            deadline_s: float = START_DEADLINE_S) -> None:
    """Until ``port`` answers HQ's OpenAPI document over TLS; the log if it never does."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            r = requests.get(f"https://127.0.0.1:{port}/v1/openapi.json", timeout=2,
                             verify=str(data / "ca" / "ca.pem"))
            if r.status_code == 200:
                return
        except (requests.RequestException, OSError):  # OSError: no CA file yet
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("HQ did not start: " + log.read_text()[-3000:])
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 20.0) -> int:
    """SIGTERM, then SIGKILL to its group if it does not stop in time; its status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(10)


@contextlib.contextmanager
def workers(data: Path, ports: list[int], logdir: Path, *extra: str
            ) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One ``hq serve`` per port on ``data``, the first up before the next starts (it
    creates the CA and the SQLite files), all stopped at the end."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i, port in enumerate(ports):
            log = logdir / f"hq-{i}.log"
            procs.append(start_worker(data, port, log, *extra))
            wait_up(procs[-1], data, port, log)
        yield procs
    finally:
        for p in procs:
            stop(p)


@dataclass(frozen=True)
class Unit:
    """A unit's identity files, for requests' ``cert=`` and ``verify=``."""

    ident: UnitIdentity

    @property
    def cert(self) -> tuple[str, str]:
        return str(self.ident.cert_path), str(self.ident.key_path)

    @property
    def verify(self) -> str:
        return str(self.ident.ca_path)


def unit_identity(data: Path, where: Path, unit_id: str) -> Unit:
    """A unit certificate from the folder's CA (the enrollment endpoint has its own tests)."""
    ca = CertificateAuthority.load(data / "ca")
    ident = UnitIdentity(where / unit_id)
    ident.generate_key()
    ident.install(ca.sign_unit_csr(ident.csr(unit_id), unit_id), ca.cert_pem)
    return Unit(ident)


def children(pid: int) -> list[int]:
    """Process ids of ``pid``'s children (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(x) for x in path.read_text().split()]
    except FileNotFoundError:
        return []
