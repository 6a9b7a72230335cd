"""What the /reports pages share: their database connection, period and scope forms."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.reports.figures import periods
from hq.reports.query.rollups import windows
from hq.storage.scope import Scope
from hq.storage.sqlite import connect
from hq.web.auth import PageError

_local = threading.local()
PERIODS = ("day", "week", "month", "year", "custom")


def conn_for(deps: HQDeps) -> sqlite3.Connection:
    """This thread's connection to HQ's events.db (beside the config folder)."""
    path: Path = deps.config_dir.parent / "events.db"
    pool: dict[Path, sqlite3.Connection] = getattr(_local, "conns", None) or {}
    _local.conns = pool
    if path not in pool:
        pool[path] = connect(path)
    return pool[path]


def _date(text: str | None, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise PageError(400, "The field %(field)s is not valid: %(why)s", field=field,
                        why="YYYY-MM-DD") from exc


@dataclass(frozen=True)
class Period:
    """The local days a page shows, and how it was asked for."""

    kind: str
    on: dt.date
    first: dt.date
    last: dt.date

    def query(self) -> dict[str, str]:
        """The URL parameters that ask for this period again."""
        if self.kind == "custom":
            return {"period": "custom", "from": self.first.isoformat(),
                    "to": self.last.isoformat()}
        return {"period": self.kind, "on": self.on.isoformat()}


def period_of(kind: str, on: str | None, first: str | None, last: str | None,
              today: dt.date) -> Period:
    """A :class:`Period` from form values; 400 naming the field when one is bad."""
    if kind not in PERIODS:
        raise PageError(400, "The field %(field)s is not valid: %(why)s", field="period",
                        why=kind)
    day = _date(on, "on") or today
    if kind == "custom":
        a, b = _date(first, "from"), _date(last, "to")
        if a is None or b is None:
            raise PageError(400, "The field %(field)s is not valid: %(why)s", field="from/to",
                            why="both dates are needed")
        if b < a or (b - a).days > 3700:
            raise PageError(400, "The field %(field)s is not valid: %(why)s", field="to",
                            why="must be after from, within ten years")
        return Period(kind, a, a, b)
    a, b = periods.parse_period(kind, day)
    return Period(kind, day, a, b)


def narrowed(conn: sqlite3.Connection, user: User, node: str | None) -> Scope:
    """The user's scope narrowed to a branch/hall: the node if it lies inside the scope,
    the scope itself if it lies inside the node (a hall supervisor asking for the
    branch), 404 for a node outside it."""
    if not node:
        return user.scope
    if conn.execute("SELECT 1 FROM org_branches WHERE branch_id = ?", [node]).fetchone():
        wanted = Scope("branch", node)
    elif conn.execute("SELECT 1 FROM org_halls WHERE hall_id = ?", [node]).fetchone():
        wanted = Scope("hall", node)
    else:
        raise PageError(404, "No branch or hall %(id)s here.", id=node)
    mine = {w.window_id for w in windows(conn, user.scope)}
    theirs = {w.window_id for w in windows(conn, wanted)}
    if theirs and theirs <= mine:
        return wanted
    if mine and mine <= theirs:
        return user.scope
    raise PageError(404, "No branch or hall %(id)s here.", id=node)


def nodes(conn: sqlite3.Connection, scope: Scope) -> list[tuple[str, str]]:
    """(id, name) of the branches and halls with a window in ``scope``."""
    seen: dict[str, str] = {}
    for w in windows(conn, scope):
        if scope.level == "all":
            seen.setdefault(w.branch_id, w.branch)
        seen.setdefault(w.hall_id, f"{w.branch} / {w.hall}")
    return list(seen.items())


def link(path: str, **params: str | None) -> str:
    """``path`` with the given (non-empty) query parameters."""
    q = {k: v for k, v in params.items() if v}
    return path + ("?" + urlencode(q) if q else "")
