"""What the /org, /staff and /schedules pages show, read within the user's scope (pure
reads over the org store's connection; the pages only render these)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from hq.org.config.versions import latest
from hq.org.records import queries
from hq.org.records.models import DAYS, DEFAULT_TZ
from hq.org.schedules.periods import periods_in
from hq.org.units.overview import unit_overview
from hq.storage.models import parse_utc
from hq.storage.scope import Scope

TIME_ZONES = ("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei",
              "Asia/Singapore", "Europe/London", "UTC")


def window_zones(conn: sqlite3.Connection) -> dict[str, str]:
    """Each window's branch time zone (shifts are shown in it, with the zone named)."""
    return {r[0]: r[1] for r in conn.execute(
        "SELECT w.window_id, b.tz FROM org_windows w JOIN org_halls h ON h.hall_id = w.hall_id "
        "JOIN org_branches b ON b.branch_id = h.branch_id")}


def branch_zones(conn: sqlite3.Connection) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute("SELECT branch_id, tz FROM org_branches")}


def org_page(conn: sqlite3.Connection, scope: Scope, now: dt.datetime) -> dict[str, Any]:
    """The tree with each window's newest config version and what each of its units runs
    (or refused, and why), the rules and the settings."""
    branches = queries.tree(conn, scope)
    units = {u.unit_id: u for u in unit_overview(conn, scope, now)}
    for b in branches:
        for h in b["halls"]:
            for w in h["windows"]:
                w["unit_rows"] = [units[u] for u in w["units"] if u in units]
                row = latest(conn, w["window_id"])
                w["config"] = None if row is None else {
                    "version": row["version"], "sections": row["sections"],
                    "created": parse_utc(row["created_utc"])}
    return {"branches": branches, "rules": queries.rules(conn),
            "zones": queries.zones(conn, scope),
            "salt_set": "badge_uid_salt" in queries.settings(conn),
            "time_zones": TIME_ZONES, "default_tz": DEFAULT_TZ,
            "window_ids": queries.window_ids(conn, scope)}


def staff_page(conn: sqlite3.Connection, scope: Scope,
               edit: str | None = None) -> dict[str, Any]:
    """Staff in scope with their alert contacts; ``edit``: the staff number whose record
    fills the form (only one in scope; otherwise the form is blank)."""
    tree = queries.tree(conn, scope)
    staff = queries.staff(conn, scope)
    editing = next((s for s in staff if s["staff_no"] == edit), None) if edit else None
    return {"staff": staff, "editing": editing or {},
            "branch_ids": [b["branch_id"] for b in tree]}


def schedules_page(conn: sqlite3.Connection, scope: Scope, now: dt.datetime,
                   days: int = 14) -> dict[str, Any]:
    """Templates, the dated shifts of the next ``days`` days, leave around them and the
    windows' planned closed/away periods."""
    zones = window_zones(conn)
    homes = branch_zones(conn)
    shifts = queries.shifts(conn, scope, now - dt.timedelta(days=1),
                            now + dt.timedelta(days=days), limit=2000)
    for s in shifts:
        s["tz"] = zones.get(s["window_id"], DEFAULT_TZ)
        s["start"], s["end"] = parse_utc(s["start_utc"]), parse_utc(s["end_utc"])
    leave = queries.leave(conn, scope, now - dt.timedelta(days=30),
                          now + dt.timedelta(days=90))
    staff_home = {s["staff_no"]: s["home_branch_id"] for s in queries.staff(conn, scope)}
    for x in leave:
        x["tz"] = homes.get(staff_home.get(x["staff_no"]) or "", DEFAULT_TZ)
        x["start"], x["end"] = parse_utc(x["start_utc"]), parse_utc(x["end_utc"])
    return {"templates": queries.templates(conn, scope), "shifts": shifts, "leave": leave,
            "periods": periods_in(conn, *scope.window_filter("window_id")),
            "window_ids": queries.window_ids(conn, scope),
            "staff_nos": sorted(staff_home), "days": DAYS}
