"""SQLite shared by several HQ worker processes: a connection opened again in one process
must not cost that process its locks on the file (and another process its WAL)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hq.storage.sqlite import connect

_OTHER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30)
print(conn.execute("SELECT COUNT(*) FROM t").fetchone()[0])
conn.close()
"""


def _count_elsewhere(db: Path) -> int:
    """Rows another process sees; it closes its (to it, maybe last) connection after."""
    out = subprocess.run([sys.executable, "-c", _OTHER, str(db)], capture_output=True,
                         text=True, timeout=60, check=True)
    return int(out.stdout)


def test_a_second_connection_keeps_the_first_ones_writes_visible_to_others(
        tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    first = connect(db)
    first.execute("CREATE TABLE t (x INTEGER)")
    first.execute("INSERT INTO t VALUES (1)")
    second = connect(db)  # any store, feed or lease opening the same file
    assert _count_elsewhere(db) == 1
    # Had the second open dropped this process's locks, the other process would have
    # taken itself for the last user and removed the WAL this connection still writes.
    first.execute("INSERT INTO t VALUES (2)")
    assert _count_elsewhere(db) == 2
    assert (tmp_path / "events.db-wal").exists()
    second.close()
    first.close()
