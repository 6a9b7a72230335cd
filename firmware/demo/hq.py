"""The demo's HQ side: an embedded HQ, a real enrollment, the sync process, and the
HQ user's view of what arrived (search, Range playback, download, audit log).

Everything goes over the real API on loopback with mutual TLS, so the demo
shows the same path a branch unit and an HQ auditor would use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from hq.accounts.users import UserStore
from hq.server.embedded import EmbeddedHQ
from sync.enroll import enroll
from sync.identity import UnitIdentity
from sync.outbox import Backlog, read_backlog

AUDITOR = "demo-auditor"


def enroll_unit(hq: EmbeddedHQ, unit_id: str, identity_dir: Path) -> UnitIdentity:
    """Issue a one-time code at HQ and redeem it from the unit, as an installer would."""
    code = hq.deps.codes.issue(unit_id, dt.timedelta(hours=1))
    identity = UnitIdentity(identity_dir)
    enroll(hq.url, code, unit_id, identity, hq.ca_pem)
    return identity


def write_sync_config(path: Path, *, unit_id: str, counter_id: str, data_dir: Path,
                      hq_url: str, identity_dir: Path, camera: Path) -> Path:
    """The unit.toml the sync process (and `counterunit status`) reads."""
    path.write_text(
        f'[unit]\nunit_id = "{unit_id}"\ncounter_id = "{counter_id}"\ndata_dir = "{data_dir}"\n'
        f'[camera]\ntype = "file"\npath = "{camera}"\n'
        f'[sync]\nhq_url = "{hq_url}"\nidentity_dir = "{identity_dir}"\npoll_s = 0.5\n'
        "backoff_base_s = 0.5\nbackoff_cap_s = 2.0\nchunk_bytes = 262144\n", encoding="utf-8")
    return path


def start_sync(config: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """``counterunit sync`` as its own process, as systemd runs it."""
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    out = log_file.open("ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "firmware.cli", "sync", "--config",
                                 str(config)], stdout=out, stderr=subprocess.STDOUT, env=env)
    finally:
        out.close()


def stop_sync(proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def backlog(db: Path) -> Backlog:
    conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)
    try:
        return read_backlog(conn)
    finally:
        conn.close()


def wait_drained(db: Path, proc: subprocess.Popen[bytes], timeout_s: float) -> Backlog:
    """Wait until the outbox is empty (or the sync process died, or time ran out)."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = backlog(db)
        if (left.events == 0 and left.clips == 0) or proc.poll() is not None \
                or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@dataclass
class HQView:
    """What an HQ auditor sees of the demo unit, checked against the unit's own records."""

    events: int = 0
    transactions: list[dict] = field(default_factory=list)
    clips_verified: int = 0
    clip_mismatches: list[str] = field(default_factory=list)
    range_status: int | None = None
    audit_entries: int = 0


def auditor_view(hq: EmbeddedHQ, unit_id: str, local_clips: dict[str, str]) -> HQView:
    """Log in as an auditor, find the unit's transactions, play one clip with a Range
    request, download every clip and compare its sha256 with the unit's, read the audit."""
    password = secrets.token_urlsafe(16)
    users = UserStore(hq.deps.config_dir.parent / "users.db")
    try:
        users.create_user(AUDITOR, password, "auditor")
    finally:
        users.close()
    view = HQView(events=hq.deps.events.count_events(unit_id))
    with requests.Session() as http:
        http.verify = str(hq.ca_pem)
        token = http.post(f"{hq.url}/v1/auth/token", json={"username": AUDITOR,
                                                           "password": password},
                          verify=str(hq.ca_pem), timeout=30).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"

        def get(path: str, **kw: object) -> requests.Response:
            return http.get(f"{hq.url}{path}", verify=str(hq.ca_pem), timeout=60, **kw)  # type: ignore[arg-type]

        view.transactions = get("/v1/transactions", params={"unit": unit_id}).json()
        for i, (clip_id, sha) in enumerate(sorted(local_clips.items())):
            if i == 0:  # what a browser's video element does first
                view.range_status = get(f"/v1/clips/{unit_id}/{clip_id}",
                                        headers={"Range": "bytes=0-1023"}).status_code
            got = get(f"/v1/clips/{unit_id}/{clip_id}")
            if got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sha:
                view.clips_verified += 1
            else:
                view.clip_mismatches.append(clip_id)
        view.audit_entries = len(get("/v1/audit", params={"limit": 1000}).json())
    return view


# ---- the HQ the demo leaves behind (helper "pages") -----------------------------------

DEMO_BRANCH = ("DEMO", "演示支行", "Asia/Shanghai")
DEMO_HALL = ("DEMO-H1", "营业大厅")
DEMO_WINDOW = ("DEMO-W07", "7号窗口")
ADMIN = "demo-admin"


def prepare_hq_org(hq: EmbeddedHQ, off_seat_s: tuple[float, float, float]) -> str:
    """The demo's branch, hall and window at HQ, before the unit enrolls; its window id.

    The window's rules are the demo's own (``off_seat_s``: the shortened alert levels),
    so HQ has a config for the unit from the start and the unit applies the same rules
    it runs with. Staff and shifts are authored after the run (:func:`finish_hq_org`):
    they make a config version the unit would pull mid-demo and replace its local
    roster with.
    """
    org = hq.deps.org
    branch, name, tz = DEMO_BRANCH
    org.author("branch", {"branch_id": branch, "name": name, "tz": tz})
    org.author("hall", {"hall_id": DEMO_HALL[0], "branch_id": branch, "name": DEMO_HALL[1]})
    org.author("window", {"window_id": DEMO_WINDOW[0], "hall_id": DEMO_HALL[0],
                          "name": DEMO_WINDOW[1]})
    org.author("rules", {"level": "window", "node_id": DEMO_WINDOW[0],
                         **{f"off_seat_l{i}_s": s for i, s in enumerate(off_seat_s, 1)}})
    return DEMO_WINDOW[0]


def enroll_unit_at_window(hq: EmbeddedHQ, unit_id: str, window_id: str,
                          identity_dir: Path) -> UnitIdentity:
    """Like :func:`enroll_unit`, with a code that files the unit under ``window_id``."""
    from hq.pki.enrollment import issue_for_window

    code = issue_for_window(hq.deps.codes, hq.deps.org, unit_id, window_id,
                            dt.timedelta(hours=1))
    identity = UnitIdentity(identity_dir)
    enroll(hq.url, code, unit_id, identity, hq.ca_pem)
    return identity


def finish_hq_org(hq: EmbeddedHQ, staff: list[tuple[str, str]], day_utc: dt.datetime) -> None:
    """The demo's staff (staff_id, name) and their all-day shift at the demo window."""
    import zoneinfo

    org = hq.deps.org
    day = day_utc.astimezone(zoneinfo.ZoneInfo(DEMO_BRANCH[2])).date()
    for staff_id, name in staff:
        org.author("staff", {"staff_no": staff_id, "name": name,
                             "home_branch_id": DEMO_BRANCH[0]})
        org.author("shift", {"window_id": DEMO_WINDOW[0], "staff_no": staff_id,
                             "date": day.isoformat(), "start": "00:00", "end": "23:59"})


def write_admin_login(hq: EmbeddedHQ, path: Path) -> dict[str, str]:
    """An admin account for the pages, its credentials in ``path`` (mode 0600)."""
    password = secrets.token_urlsafe(18)
    hq.deps.user_store().create_user(ADMIN, password, "admin")
    login = {"username": ADMIN, "password": password}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(login, f)
        f.write("\n")
    return login
