"""`counterunit run` in a subprocess with a notify socket the test owns (system tests).

The daemon reads a file camera (``realtime``), a silent microphone and absent keypad/badge
devices; it reports READY/WATCHDOG/STOPPING to a datagram socket the test binds, as
systemd's notify socket would. The socket timeout is the deadline for every wait.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path


class DaemonProcess:
    """One daemon with its own data folder, config and notify socket under ``tmp``.

    ``wrap`` turns the daemon's command line into the one actually run (e.g. a sandbox
    launcher in front); ``env`` adds to the inherited environment; ``cwd`` is where it runs.
    """

    def __init__(self, tmp: Path, video: Path, *, timeout_s: float = 60,
                 wrap: Callable[[list[str]], list[str]] = list,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self.data = tmp / "data"
        self.config = tmp / "unit.toml"
        self.config.write_text(
            f'[unit]\ndata_dir = "{self.data}"\n'
            f'[camera]\ntype = "file"\npath = "{video}"\nrealtime = true\n'
            '[microphone]\ntype = "silent"\n'
            f'[keypad]\nurl = "{tmp / "no-keypad"}"\n[badge]\nurl = "{tmp / "no-badge"}"\n')
        self.sock_path = str(tmp / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(timeout_s)
        self.wrap = wrap
        self.env = dict(env or {})
        self.cwd = cwd
        self.proc: subprocess.Popen[str] | None = None

    @property
    def db(self) -> Path:
        """The daemon's SQLite store."""
        return self.data / "counterunit.db"

    def start(self) -> None:
        """Start (or restart) the daemon; its stdout and stderr go to ``proc.stdout``."""
        env = {**os.environ, "NOTIFY_SOCKET": self.sock_path, "WATCHDOG_USEC": "2000000",
               **self.env}
        self.proc = subprocess.Popen(
            self.wrap([sys.executable, "-m", "firmware.cli", "run", "--config",
                       str(self.config)]),
            env=env, cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def notifications(self, until: bytes) -> list[bytes]:
        """Every notification up to and including the first containing ``until``."""
        got: list[bytes] = []
        while not got or until not in got[-1]:
            got.append(self.sock.recv(4096))
        return got

    def wait_message(self, wanted: bytes) -> bytes:
        """The next notification containing ``wanted``."""
        return self.notifications(wanted)[-1]

    def query(self, sql: str) -> list[tuple]:
        """Rows of ``sql`` on a read-only connection; [] while the store or schema is missing."""
        if not self.db.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []  # schema not there yet
        finally:
            conn.close()

    def stop(self) -> None:
        """Kill the daemon if still running and close the notify socket."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.sock.close()
