"""Every HQ database and secret is 0600 and every folder 0700 (issue 13 item 6).

A real HQ data folder: the CLI's user-add (users.db), then the embedded HQ storing events
and a clip (events.db, audit.db, enrollment.db, clips.sqlite and their -wal/-shm), its CA
and server keys. Certificates (*.pem) are public and stay 0644.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import requests

from hq.cli import main as hq_main
from hq.server.embedded import running_hq
from hq.storage.sqlite import private_file
from tests.helpers.hq.api import enrolled, event, tls


def modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode)
            for p in [root, *root.rglob("*")] if not p.is_symlink()}


def test_every_hq_file_is_private(tmp_path: Path) -> None:
    os.umask(0o022)  # the usual umask, under which files are born 0644
    root = tmp_path / "hq"
    assert hq_main(["user-add", "--data", str(root / "data"), "--username", "admin",
                    "--role", "admin", "--password", "a long enough passphrase"]) == 0
    with running_hq(root) as hq:
        ident = enrolled(hq, "unit-modes")
        resp = requests.post(f"{hq.url}/v1/events", json={"events": [event("unit-modes")]},
                             **tls(hq, ident))
        assert resp.status_code == 200
        hq.deps.codes.issue("unit-later", dt.timedelta(hours=1))
        found = modes(root)
    expected_present = {"data/users.db", "data/events.db", "data/events.db-wal",
                        "data/audit.db", "data/enrollment.db", "data/ca/ca.key",
                        "data/ca/ca.db", "server/server.key", "data/clips/clips.sqlite"}
    assert expected_present <= found.keys(), sorted(found)
    wide = {name: oct(mode) for name, mode in found.items()
            if (Path(root, name).is_dir() and mode != 0o700)
            or (Path(root, name).is_file() and not name.endswith(".pem") and mode != 0o600)}
    # The test's own folder and its unit identities are not HQ's.
    units = {n for n in wide if n.startswith("units") or n == "."}
    assert set(wide) - units == set(), wide


def test_an_existing_wide_database_is_narrowed(tmp_path: Path) -> None:
    db = tmp_path / "users.db"
    db.write_bytes(b"")
    (tmp_path / "users.db-wal").write_bytes(b"")
    os.chmod(db, 0o644)
    os.chmod(tmp_path / "users.db-wal", 0o644)
    private_file(db)
    assert {stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == {0o600}
