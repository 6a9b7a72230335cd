"""``python -m tests.powercut.normal <counterunit args>``: the same programs with
``synchronous=NORMAL`` instead of FULL, to show the power-cut harness catches it.

Every SQLite connection the process opens turns ``PRAGMA synchronous=FULL`` into
NORMAL; nothing else changes. Test-only: the firmware has no such switch.
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

_FULL = "PRAGMA SYNCHRONOUS=FULL"


class _NormalConnection(sqlite3.Connection):
    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.strip().upper() == _FULL:
            sql = "PRAGMA synchronous=NORMAL"
        return super().execute(sql, *args)


_connect = sqlite3.connect


def _connect_normal(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    kwargs.setdefault("factory", _NormalConnection)
    return _connect(*args, **kwargs)


def install() -> None:
    """Make every later ``sqlite3.connect`` in this process run NORMAL; before the
    firmware's imports (the warm interpreter calls it too, tests/powercut/warm.py)."""
    sqlite3.connect = _connect_normal  # type: ignore[assignment]


def main() -> int:
    install()
    from firmware.cli.app import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
