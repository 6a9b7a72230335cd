"""Half-sent requests cannot take HQ down (issue 13 item 1).

A real ``counterunit hq serve`` process on loopback with RLIMIT_NOFILE lowered to 256.
A few hundred connections send half a request head, or a body shorter than its
Content-Length, or never finish the TLS handshake. After the timeouts HQ answers an
enrolled unit and a user login again, and its log stays a handful of lines. The second
case lifts the connection limit above the descriptor limit, so accept() itself fails with
EMFILE: that is logged once when it starts and once when it recovers.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import resource
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from hq.accounts.users import UserStore
from hq.api.deps import HQDeps
from hq.server.embedded import running_hq
from hq.server.settings import HQServerSettings
from sync.identity import UnitIdentity
from tests.conftest import wait_for as shared_wait_for

NOFILE = 256
TIMEOUT_S = 2.0  # head, body and TLS handshake timeouts of the HQ under test
PASSWORD = "a long enough passphrase"


def wait_for(check: Callable[[], bool], deadline_s: float, what: str) -> float:
    """The shared deadline wait (tests/conftest.py); the seconds it took."""
    start = time.monotonic()
    shared_wait_for(check, deadline_s, what)
    return time.monotonic() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def hq_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, UnitIdentity]:
    data = tmp_path_factory.mktemp("hq") / "data"
    deps = HQDeps.open(data)
    unit = UnitIdentity(data.parent / "unit")
    unit.generate_key()
    unit.install(deps.ca.sign_unit_csr(unit.csr("unit-busy"), "unit-busy"), deps.ca.cert_pem)
    for store in (deps.events, deps.clips, deps.audit):
        store.close()
    users = UserStore(data / "users.db")
    users.create_user("auditor", PASSWORD, "auditor")
    users.close()
    return data, unit


class Log:
    """HQ's output, read as it comes (a thread), so a test can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stdout is not None
        stream = proc.stdout
        self.thread = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self.thread.start()

    def having(self, text: str) -> list[str]:
        return [line for line in list(self.lines) if text in line]


@contextlib.contextmanager
def hq_process(data: Path, *extra: str) -> Iterator[tuple[int, Log]]:
    port = free_port()

    def lower_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))

    args = [sys.executable, "-m", "firmware.cli", "hq", "serve", "--data", str(data),
            "--port", str(port), "--header-timeout-s", str(TIMEOUT_S),
            "--body-timeout-s", str(TIMEOUT_S), "--tls-handshake-timeout-s", str(TIMEOUT_S),
            *extra]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lower_limit, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    out = Log(proc)
    try:
        wait_for(lambda: _answers(port, data), 20, "HQ started")
        yield port, out
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _answers(port: int, data: Path) -> bool:
    try:
        r = requests.options(f"https://localhost:{port}/v1/uploads",
                             verify=str(data / "ca" / "ca.pem"), timeout=2)
    except requests.RequestException:
        return False
    return r.status_code == 204


def half_sent(port: int, ca: Path, n: int) -> list[socket.socket]:
    """n connections, each stalled in its own way (opened 32 at a time, so they are all
    open together well within the timeouts); the sockets are kept open."""
    context = ssl.create_default_context(cafile=str(ca))

    def one(i: int) -> socket.socket | None:
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        if i % 5 == 0:
            return raw  # TCP only: the TLS handshake never starts
        try:
            tls = context.wrap_socket(raw, server_hostname="localhost")
            if i % 5 in (1, 2):  # a request head that never ends
                tls.sendall(b"POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-")
            else:  # a body shorter than its Content-Length
                tls.sendall(b"POST /v1/auth/token HTTP/1.1\r\nHost: localhost\r\n"
                            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                            b'{"username": ')
            return tls
        except (OSError, ssl.SSLError):
            raw.close()  # refused at once (over the limit): that is the point
            return None

    with ThreadPoolExecutor(32) as pool:
        return [s for s in pool.map(one, range(n)) if s is not None]


def closed_by_hq(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(1) == b""
    except (TimeoutError, ssl.SSLWantReadError):
        return False
    except (OSError, ssl.SSLError):
        return True


def unit_and_user_served(port: int, data: Path, unit: UnitIdentity) -> bool:
    base, ca = f"https://localhost:{port}", str(data / "ca" / "ca.pem")
    event = {"uuid": uuid.uuid4().hex, "type": "key_ignored", "unit_id": "unit-busy",
             "counter_id": "c1", "utc": "2026-11-22T10:00:00Z", "mono": 1.0, "boot_id": "b",
             "clock_synced": True, "data": {}}
    try:
        ev = requests.post(f"{base}/v1/events", data=json.dumps({"events": [event]}),
                           headers={"Content-Type": "application/json"}, verify=ca,
                           cert=(str(unit.cert_path), str(unit.key_path)), timeout=2)
        login = requests.post(f"{base}/v1/auth/token", json={
            "username": "auditor", "password": PASSWORD}, verify=ca, timeout=2)
    except requests.RequestException:
        return False
    return ev.status_code == 200 and ev.json()["accepted"] == 1 and login.status_code == 200


def test_half_sent_requests_are_closed_and_hq_serves_again(
        hq_data: tuple[Path, UnitIdentity]) -> None:
    data, unit = hq_data
    with hq_process(data) as (port, out):
        held = half_sent(port, data / "ca" / "ca.pem", 300)
        took = wait_for(lambda: all(closed_by_hq(s) for s in held), 4 * TIMEOUT_S + 5,
                        "every stalled connection closed by HQ")
        assert took <= TIMEOUT_S + 3
        wait_for(lambda: unit_and_user_served(port, data, unit), 5, "unit and user served")
        for s in held:
            s.close()
        lines = list(out.lines)
    assert len(out.having("limit of")) == 1  # at the limit: said once
    assert len(out.having("below its connection limit")) <= 1
    assert len(lines) < 30, "\n".join(lines[:40])


def test_accept_failing_for_descriptors_is_logged_once(
        hq_data: tuple[Path, UnitIdentity]) -> None:
    data, unit = hq_data
    with hq_process(data, "--max-connections", "100000") as (port, out):
        held = half_sent(port, data / "ca" / "ca.pem", 300)
        wait_for(lambda: all(closed_by_hq(s) for s in held), 4 * TIMEOUT_S + 5,
                 "every stalled connection closed")
        for s in held:
            s.close()
        wait_for(lambda: unit_and_user_served(port, data, unit)
                 and bool(out.having("accepts connections again")), 10,
                 "unit and user served, recovery logged")
        lines = list(out.lines)
    assert len(out.having("cannot accept")) == 1, "\n".join(lines[:40])
    assert len(out.having("accepts connections again")) == 1, "\n".join(lines[:40])
    assert len(lines) < 30, "\n".join(lines[:40])


def test_a_connection_is_closed_after_its_last_request(tmp_path: Path) -> None:
    settings = HQServerSettings.model_validate({"max_requests_per_connection": 2})
    with running_hq(tmp_path, settings=settings) as hq:
        context = ssl.create_default_context(cafile=str(hq.ca_pem))
        conn = http.client.HTTPSConnection("localhost", hq.port, context=context, timeout=5)
        answers = []
        for _ in range(2):
            conn.request("OPTIONS", "/v1/uploads")
            resp = conn.getresponse()
            resp.read()
            answers.append((resp.status, resp.getheader("connection")))
        conn.close()
    assert answers == [(204, None), (204, "close")]
