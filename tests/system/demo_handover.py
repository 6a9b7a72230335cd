"""What `counterunit demo` leaves at HQ: a data folder `counterunit hq serve --data` serves,
with the demo's organisation, staff, transactions and clips, and an admin who can log in."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import wait_for
from tests.helpers.hq.web import browser, login_response


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Served:
    """Just enough of EmbeddedHQ for the page-session helpers."""

    def __init__(self, url: str, ca_pem: Path) -> None:
        self.url, self.ca_pem = url, ca_pem


def check_hq_handover(out: Path, stdout: str) -> None:
    """Serve ``out/hq`` with the printed command and check it through the pages."""
    assert f"counterunit hq serve --data {out / 'hq'}" in stdout, stdout[-1500:]
    assert "https://localhost:8443/" in stdout
    login_file = out / "hq-login.json"
    assert (login_file.stat().st_mode & 0o777) == 0o600
    login = json.loads(login_file.read_text(encoding="utf-8"))
    assert set(login) == {"username", "password"}
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    log = (out / "hq-serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "firmware.cli", "hq", "serve", "--data",
                             str(out / "hq"), "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    hq = _Served(f"https://localhost:{port}", out / "hq" / "ca" / "ca.pem")
    s = browser(hq)  # type: ignore[arg-type]
    try:

        def up() -> bool:
            try:
                return s.get(f"{hq.url}/login", timeout=2).status_code == 200
            except requests.RequestException:
                return proc.poll() is not None
        wait_for(up, 30, "counterunit hq serve answering")
        assert proc.poll() is None
        r = login_response(s, hq, login["username"], login["password"])  # type: ignore[arg-type]
        assert r.status_code == 303, r.text[:300]
        board = s.get(f"{hq.url}/", timeout=10).text
        assert "7号窗口" in board and "演示支行" in board
        found = s.get(f"{hq.url}/transactions", params={"window": "DEMO-W07"}, timeout=10).text
        txns = re.findall(r'data-txn="([^"]+)"', found)
        assert len(txns) == 3, found[-2000:]
        unit, txn = txns[-1].split("/")
        page = s.get(f"{hq.url}/transactions/{unit}/{txn}", timeout=10).text
        assert "Li Na" in page and "Asia/Shanghai" in page
        clip = s.get(f"{hq.url}/transactions/{unit}/{txn}/clip?download=1", timeout=30)
        assert clip.status_code == 200
        sha = re.search(r'id="clip-sha256">([0-9a-f]{64})<', page)
        assert sha and hashlib.sha256(clip.content).hexdigest() == sha.group(1)
    finally:
        s.close()  # no kept-alive connection holds the server's shutdown up
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
