"""The end-of-day summary a supervisor reads: transactions, ratings, clips, absences, alerts.

Also checks the day against what really happened, when that is known (the demo
composes its scene, so it knows): every true customer visit must appear once,
rated, with a clip that plays and covers it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from firmware.tools.probe import probe_clip


def _rows(conn: sqlite3.Connection, sql: str) -> list[dict[str, Any]]:
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute(sql)]


def _t(v: float | None) -> str:
    return "-" if v is None else f"{v:7.1f}s"


def print_summary(db: Path, truth: Sequence[tuple[float, float]] = (), *,
                  pre_roll_s: float = 3.0, post_roll_s: float = 5.0,
                  console: Console | None = None) -> bool:
    """Print the tables; return True when every check holds."""
    con = console or Console(width=140)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        txns = _rows(conn, "SELECT t.*, c.path, c.state AS clip_state, s.name AS staff_name "
                           "FROM transactions t LEFT JOIN clips c ON c.clip_id = t.clip_id "
                           "LEFT JOIN staff_sessions s ON s.session_id = t.session_id "
                           "ORDER BY t.started_t")
        absences = _rows(conn, "SELECT * FROM absences ORDER BY started_t")
        alerts = _rows(conn, "SELECT * FROM alerts ORDER BY raised_t")
        sessions = _rows(conn, "SELECT * FROM staff_sessions ORDER BY login_t")
        pending = conn.execute("SELECT count(*) FROM outbox WHERE acked_utc IS NULL").fetchone()[0]
    finally:
        conn.close()

    problems: list[str] = []
    table = Table(title="Transactions", show_lines=False,
                  caption="times: seconds of the unit clock (media time in a demo or replay)")
    for col in ("#", "start", "end", "duration", "staff", "rating", "clip", "clip check"):
        table.add_column(col)
    for n, t in enumerate(txns, start=1):
        check = "-"
        if t.get("path") and t.get("clip_state") in ("closed", "salvaged"):
            p = probe_clip(Path(t["path"]))
            want = (t["duration_s"] or 0) + pre_roll_s + post_roll_s
            fits = p.duration is not None and abs(p.duration - want) <= 1.0
            check = (f"{p.video}+{p.audio} {p.duration:.1f}s" if p.ok and p.duration
                     else f"FAILED {p.error}")
            if not (p.ok and fits):
                problems.append(f"transaction {n}: clip {check}, expected ~{want:.1f}s")
        else:
            problems.append(f"transaction {n}: no playable clip ({t.get('clip_state')})")
        rating = (str(t["rating"]) if t["rating"] is not None else (t["rating_outcome"] or "-"))
        if t["rating_suspect"]:
            rating += " (suspect)"
        if t["rating"] is None:
            problems.append(f"transaction {n}: not rated ({t['rating_outcome']})")
        table.add_row(str(n), _t(t["started_t"]), _t(t["ended_t"]),
                      f"{t['duration_s']:.1f}s" if t["duration_s"] is not None else "-",
                      t.get("staff_name") or t.get("staff_id") or "-", rating,
                      Path(t["path"]).name if t.get("path") else "-", check)
    con.print(table)

    st = Table(title="Staff sessions")
    for col in ("staff", "login", "logout"):
        st.add_column(col)
    for s in sessions:
        st.add_row(f"{s['name']} ({s['staff_number']})", _t(s["login_t"]),
                   _t(s["logout_t"]) if s["logout_utc"] else "still logged in")
    con.print(st)

    ab = Table(title="Absences (seat empty)")
    for col in ("start", "end", "duration", "max alert level", "clip"):
        ab.add_column(col)
    for a in absences:
        ab.add_row(_t(a["started_t"]), _t(a["ended_t"]),
                   f"{a['duration_s']:.1f}s" if a["duration_s"] is not None else "-",
                   str(a["max_level"] or 0), a["clip_id"] or "-")
    con.print(ab)

    al = Table(title="Alerts")
    for col in ("raised", "alert", "level", "cleared"):
        al.add_column(col)
    for a in alerts:
        al.add_row(_t(a["raised_t"]), a["alert"], str(a["level"]),
                   _t(a["cleared_t"]) if a["cleared_utc"] else "open (for HQ)")
    con.print(al if alerts else "Alerts: none")

    if truth:
        problems += check_against_truth(txns, truth)
    con.print(f"\nOutbox: {pending} item(s) still waiting for HQ.")
    if problems:
        con.print("[bold red]Checks failed:[/]")
        for problem in problems:
            con.print(f"  - {problem}")
        return False
    if truth:
        con.print(f"[bold green]All checks passed:[/] {len(truth)} customer visit(s) in the "
                  "scene, each recorded once as a rated transaction with a playable clip.")
    return True


def check_against_truth(txns: Sequence[dict[str, Any]], truth: Sequence[tuple[float, float]],
                        tolerance_s: float = 1.0) -> list[str]:
    """Every true visit matches exactly one transaction (start and end within
    ``tolerance_s``) and every transaction a true visit."""
    problems = []
    used: set[int] = set()
    for start, end in truth:
        hits = [i for i, t in enumerate(txns)
                if t["started_t"] < end and (t["ended_t"] or float("inf")) > start]
        if len(hits) != 1:
            problems.append(f"visit {start:.0f}-{end:.0f}s matched {len(hits)} transactions")
        for i in hits:
            t = txns[i]
            if abs(t["started_t"] - start) > tolerance_s or (
                    t["ended_t"] is not None and abs(t["ended_t"] - end) > tolerance_s):
                problems.append(f"visit {start:.0f}-{end:.0f}s recorded as "
                                f"{t['started_t']:.1f}-{t['ended_t']}s (> {tolerance_s}s off)")
        used.update(hits)
    extra = len(txns) - len(used)
    if extra:
        problems.append(f"{extra} transaction(s) with no real visit")
    return problems
