"""One unit (daemon, and sync when HQ is given) run under the shim, then cut.

``boot`` starts the programs in one new process group with the shim preloaded and a
fresh journal (forked from a warm interpreter, tests/powercut/warm.py, unless
``warm=False``: then each is a new ``python -m firmware.cli``); ``watch`` polls a
read-only connection for events the store has committed (a reader sees a transaction
only once its COMMIT has done its work, so whatever it saw must survive the cut);
``cut`` takes a last look, kills the whole group with SIGKILL and rolls the data
folder back to what the disk would hold.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from tests.powercut.journal import Stats, rollback
from tests.powercut.warm import WarmProcess, Zygote

UNIT_ID = "unit-powercut"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SyncTarget:
    """An HQ the sync process talks to, and the unit's identity enrolled there."""

    url: str
    identity_dir: Path


def unit_toml(data: Path, video: Path, tmp: Path, sync: SyncTarget | None) -> str:
    """A unit with short dwell times and rolls, so a few seconds hold several events and
    clips that open and close."""
    zone = "enter_dwell_s = 0.3\nexit_hold_s = 0.5\n"
    text = (f'[unit]\nunit_id = "{UNIT_ID}"\ndata_dir = "{data}"\n'
            f'[camera]\ntype = "file"\npath = "{video}"\nrealtime = true\n'
            '[microphone]\ntype = "silent"\n'
            f'[keypad]\nurl = "{tmp / "no-keypad"}"\n[badge]\nurl = "{tmp / "no-badge"}"\n'
            f'[zones.seat]\nx0 = 0.0\ny0 = 0.0\nx1 = 0.5\ny1 = 1.0\n{zone}'
            f'[zones.customer]\nx0 = 0.5\ny0 = 0.0\nx1 = 1.0\ny1 = 1.0\n{zone}'
            '[recording]\npre_roll_s = 0.5\npost_roll_s = 0.5\n'
            '[rules]\noff_seat_alert_s = [1.0, 2.0, 3.0]\n')
    if sync is not None:
        text += (f'[sync]\nhq_url = "{sync.url}"\npoll_s = 0.5\nbackoff_cap_s = 2.0\n'
                 f'identity_dir = "{sync.identity_dir}"\n')
    return text


@dataclass
class Boot:
    """The programs of one boot, from start to cut."""

    n: int
    journal: Path
    log_path: Path
    started: float
    procs: list[subprocess.Popen[bytes] | WarmProcess] = field(default_factory=list)
    log: IO[bytes] | None = None
    cut_at: float | None = None  # time.monotonic() just before SIGKILL
    exited_early: list[int] = field(default_factory=list)


class Rig:
    """A data folder that lives through many boots and cuts; see the module docstring."""

    def __init__(self, work: Path, video: Path, shim: Path, *,
                 synchronous: Literal["FULL", "NORMAL"] = "FULL",
                 sync: SyncTarget | None = None, warm: bool = True) -> None:
        self.work = work
        self.data = work / "data"
        # The data partition exists before the first boot, as on the unit.
        self.data.mkdir(parents=True, exist_ok=True)
        self.config = work / "unit.toml"
        self.config.write_text(unit_toml(self.data, video, work, sync))
        self.shim = shim
        self.synchronous = synchronous
        self.sync = sync
        self.notify_path = str(work / "notify.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.committed: set[str] = set()
        self._last_rowid = 0
        self.boots = 0
        # Warm: one journal for all boots (the shim opens it once, in the zygote).
        self.journal = work / "journal"
        self.zygote = (Zygote(self._env(self.journal, False), REPO,
                              synchronous == "NORMAL", work / "warm.log") if warm else None)

    @property
    def db(self) -> Path:
        return self.data / "counterunit.db"

    def _command(self, sub: str) -> list[str]:
        module = "firmware.cli.app" if self.synchronous == "FULL" else "tests.powercut.normal"
        return [sys.executable, "-m", module, sub, "--config", str(self.config)]

    def _env(self, journal: Path, notify: bool) -> dict[str, str]:
        env = {**os.environ, "LD_PRELOAD": str(self.shim), "POWERCUT_ROOT": str(self.data),
               "POWERCUT_JOURNAL": str(journal), "PYTHONPATH": str(REPO),
               "NOTIFY_SOCKET": self.notify_path if notify else ""}
        env.pop("JOURNAL_STREAM", None)
        return env

    def boot(self, *, notify: bool = False) -> Boot:
        """Start the daemon (sync joins in ``watch`` once the store exists); ``notify``:
        it reports READY to ``self.notify``."""
        self.boots += 1
        n = self.boots
        journal = self.journal if self.zygote else self.work / f"journal-{n}"
        b = Boot(n, journal, self.work / f"boot-{n}.log", time.monotonic())
        b.log = open(b.log_path, "wb")  # noqa: SIM115 (closed in cut)
        if self.zygote is not None:
            b.procs.append(self.zygote.spawn(
                ["run", "--config", str(self.config)], b.log_path,
                {"NOTIFY_SOCKET": self.notify_path if notify else ""}))
            return b
        b.procs.append(subprocess.Popen(
            self._command("run"), env=self._env(b.journal, notify), cwd=REPO,
            stdout=b.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            process_group=0))
        return b

    def _start_sync(self, b: Boot) -> None:
        assert b.log is not None
        if self.zygote is not None:
            b.procs.append(self.zygote.spawn(["sync", "--config", str(self.config)],
                                             b.log_path, {"NOTIFY_SOCKET": ""},
                                             pgid=b.procs[0].pid))
            return
        b.procs.append(subprocess.Popen(
            self._command("sync"), env=self._env(b.journal, False), cwd=REPO,
            stdout=b.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            process_group=b.procs[0].pid))

    def look(self) -> None:
        """Add what a reader sees committed now to ``committed``."""
        if not self.db.exists():
            return
        try:
            conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        except sqlite3.OperationalError:
            return
        try:
            rows = conn.execute("SELECT rowid, uuid FROM events WHERE rowid > ?",
                                (self._last_rowid,)).fetchall()
        except sqlite3.OperationalError:
            rows = []  # not migrated yet
        finally:
            conn.close()
        for rowid, uuid in rows:
            self.committed.add(uuid)
            self._last_rowid = max(self._last_rowid, rowid)

    def watch(self, b: Boot, until: float, poll_s: float = 0.02) -> None:
        """Look every ``poll_s`` until ``until`` (monotonic); start sync when it can."""
        while True:
            self.look()
            if self.sync is not None and len(b.procs) == 1 and self._last_rowid:
                self._start_sync(b)
            for p in b.procs:
                if p.poll() is not None and p.pid not in b.exited_early:
                    b.exited_early.append(p.pid)
            now = time.monotonic()
            if now >= until:
                return
            time.sleep(min(poll_s, until - now))

    def cut(self, b: Boot, rng: random.Random,
            keep: Literal["none", "prefix"] = "none") -> Stats:
        """Last look, SIGKILL to the group, roll the disk back; reset the reader's mark."""
        self.look()
        b.cut_at = time.monotonic()
        with contextlib.suppress(ProcessLookupError):  # all gone already
            os.killpg(b.procs[0].pid, signal.SIGKILL)
        for p in b.procs:
            p.wait(30)
        assert b.log is not None
        b.log.close()
        stats = rollback(self.data, b.journal, keep=keep, rng=rng)
        # Rowids of events lost in flight are used again after the cut.
        self._last_rowid = self._max_rowid()
        for shm in self.data.glob("*-shm"):  # made by the reader just now
            shm.unlink()
        return stats

    def _max_rowid(self) -> int:
        if not self.db.exists():
            return 0
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0])
        except sqlite3.OperationalError:
            return 0
        finally:
            conn.close()

    def shutdown(self, timeout_s: float = 60) -> tuple[int, bytes]:
        """A clean boot: wait for READY (recovery done), SIGTERM, wait for the exit."""
        b = self.boot(notify=True)
        self.notify.settimeout(timeout_s)
        try:
            while b"READY=1" not in self.notify.recv(4096):
                pass
        except TimeoutError:
            pass
        # The daemon alone: a sync started just now would die of the SIGTERM mid-import.
        self.look()
        for p in reversed(b.procs):
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(timeout_s) for p in b.procs]
        assert b.log is not None
        b.log.close()
        self.look()
        return max(codes, key=abs), b.log_path.read_bytes()

    def forget(self, b: Boot) -> None:
        """Drop a boot's journal once it has been rolled back and checked."""
        if b.journal != self.journal:
            b.journal.unlink(missing_ok=True)
        elif b.journal.exists():  # the zygote keeps it open, O_APPEND
            os.truncate(b.journal, 0)

    def close(self) -> None:
        self.notify.close()
        if self.zygote is not None:
            self.zygote.close()
