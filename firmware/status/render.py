"""Show a :class:`~firmware.status.report.StatusReport`: rich panels (~100x40 terminal) or JSON.

The words are for a technician at the counter: a process that is not running
says so in the first lines, with how old the last news from it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from firmware.status.format import ago, duration, local, since, size, until, yes_no
from firmware.status.live import ProcessView, SyncLive, UnitLive
from firmware.status.report import StatusReport

_DEAD = "bold red"
_WARN = "yellow"
_OK = "green"
CERT_WARN_DAYS = 30


# ---- JSON ------------------------------------------------------------------------------

def _plain(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def report_dict(report: StatusReport) -> dict[str, Any]:
    """The report as plain JSON types (times ISO 8601 UTC, sizes bytes, ages seconds)."""
    doc = _plain(dataclasses.asdict(report))
    doc["alive"] = report.alive
    doc["exit_code"] = report.exit_code
    return dict(doc)


def to_json(report: StatusReport) -> str:
    return json.dumps(report_dict(report), indent=2, sort_keys=True)


# ---- words -------------------------------------------------------------------------------

def process_line(view: ProcessView, *, configured: bool = True) -> Text:
    """One line on a process: ``running (status 2 seconds ago)``, ``NOT RUNNING: ...``."""
    age = "" if view.age_s is None else ago(view.age_s)
    pid = f"pid {view.pid}" if view.pid is not None else "no pid"
    ahead = (" (dated in the future: clock changed?)"
             if view.age_s is not None and view.age_s < -1 else "")
    match view.state:
        case "running":
            return Text(f"running, updated {age}", style=_OK)
        case "stopped":
            return Text(f"NOT RUNNING: {pid} is gone; last status {age}{ahead}", style=_DEAD)
        case "hung":
            return Text(f"NOT RESPONDING: last status {age}, {pid} still exists{ahead}",
                        style=_DEAD)
        case "stale":
            return Text(f"NOT RUNNING?: last status {age}{ahead}", style=_DEAD)
        case "never ran":
            if not configured:
                return Text("not configured (no [sync] section in the config)", style="dim")
            return Text(f"never ran (no {view.path.parent.name}/{view.path.name})", style=_DEAD)
    return Text(f"status file unreadable: {view.problem}", style=_DEAD)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _presence(v: bool | None, yes: str, no: str) -> Text:
    return Text(yes_no(v, yes, no, "unknown yet"), style="dim" if v is None else "")


def _db_gap(r: StatusReport) -> Text:
    if not r.db.exists:
        return Text("unknown (no database yet)", style="dim")
    return Text("unknown (database unreadable, see Storage)", style=_WARN)


def _grid() -> Table:
    g = Table.grid(padding=(0, 1))
    g.add_column(style="bold", no_wrap=True)
    g.add_column(overflow="fold")
    return g


_WINDOW_WORDS = {"open": "open", "closed": "temporarily closed", "away": "away on business",
                 "off": "outside opening hours"}


def counter_panel(r: StatusReport, tz: ZoneInfo) -> Panel:
    g = _grid()
    u: UnitLive | None = r.unit
    title = "Counter"
    if u is None:
        g.add_row("", Text("no counter state: the daemon has not written any", style="dim"))
        return Panel(g, title=title, title_align="left")
    if not r.alive:
        title = f"Counter (as last reported, {since(u.written_utc, r.now_utc)})"
    now = r.now_utc if r.alive else (u.written_utc or r.now_utc)
    g.add_row("open", yes_no(u.counter_open, "yes (in shift)", "no (outside shift)"))
    if u.window_state is not None and u.window_state.state:
        w, name = u.window_state, u.window_state.state
        when = f" since {local(w.since_utc, tz, r.now_utc)}" if w.since_utc else ""
        note = f", {w.note}" if w.note else ""
        g.add_row("window", Text(f"{_WINDOW_WORDS.get(name, name)} "
                                 f"({w.source or '?'}{note}){when}",
                                 style=_WARN if name in ("closed", "away") else ""))
    if u.staff is None:
        g.add_row("staff", Text("nobody logged in", style=_WARN))
    else:
        who = u.staff.name or "?"
        g.add_row("staff", f"{who} ({u.staff.staff_id or '?'}) since "
                  f"{local(u.staff.since_utc, tz, r.now_utc)}")
    g.add_row("seat", _presence(u.seat_present, "occupied", "empty"))
    g.add_row("customer", _presence(u.customer_present, "present", "none"))
    if u.transaction is None:
        g.add_row("transaction", "none open")
    else:
        t = u.transaction
        took = ((now - t.since_utc).total_seconds() if t.since_utc else t.seconds)
        g.add_row("transaction", f"{t.txn_id or '?'} for "
                  f"{duration(took) if took is not None else '?'}")
    if u.absence is not None:
        a = u.absence
        level = f", alert level {a.alert_level}" if a.alert_level else ""
        took = (now - a.since_utc).total_seconds() if a.since_utc else a.seconds
        g.add_row("off seat", Text(f"for {duration(took) if took is not None else '?'}{level}",
                                   style=_WARN if a.alert_level else ""))
    if u.rating_window_open:
        g.add_row("rating", "waiting for the customer's key")
    if u.manual_recording:
        g.add_row("recording", "manual recording on")
    if u.last_frame_age_s is None:
        g.add_row("camera", Text("no frame yet", style=_WARN))
    elif u.last_frame_age_s > 5:
        g.add_row("camera", Text(f"no frame for {duration(u.last_frame_age_s)}", style=_DEAD))
    else:
        g.add_row("camera", f"frames arriving ({u.last_frame_age_s:.1f} s)")
    return Panel(g, title=title, title_align="left")


def _upload(up: Any) -> RenderableType:
    if up.size and up.sent is not None:
        done = min(up.sent, up.size)
        return Group(Text(f"{up.clip_id or '?'}: {100 * done / up.size:.0f}% of {size(up.size)}"),
                     ProgressBar(total=up.size, completed=done, width=30))
    return Text(f"{up.clip_id or '?'} (starting)")


def sync_panel(r: StatusReport) -> Panel:
    g = _grid()
    g.add_row("state", process_line(r.sync, configured=r.sync_configured))
    s: SyncLive | None = r.sync_live
    hq = r.hq_url or (s.hq_url if s else None)
    if hq:
        g.add_row("HQ", hq)
    if s is not None:
        g.add_row("last ok", Text(since(s.last_ok_utc, r.now_utc) if s.last_ok_utc else "never",
                                  style="" if s.last_ok_utc else _WARN))
        if s.last_error:
            fails = (f" ({s.consecutive_failures} failures in a row)"
                     if s.consecutive_failures else "")
            g.add_row("error", Text(f"{s.last_error}{fails}", style=_DEAD))
        if s.next_try_utc is not None and r.sync.state == "running":
            g.add_row("next try", until((s.next_try_utc - r.now_utc).total_seconds()))
        if s.in_upload_window is not None:
            g.add_row("clips", "upload window open" if s.in_upload_window
                      else "outside upload window (clips wait)")
        if s.uploading is not None:
            g.add_row("uploading", _upload(s.uploading))
        if s.config_etag:
            g.add_row("config", f"from HQ, version {s.config_etag}")
        if s.stats:
            st = s.stats
            g.add_row("sent", f"{_n(st.get('events_accepted', 0), 'event')} "
                      f"(+{st.get('events_duplicate', 0)} dup), "
                      f"{_n(st.get('clips_uploaded', 0), 'clip')}")
    b = r.db.backlog
    if b is None:
        g.add_row("backlog", _db_gap(r))
    elif not (b.events or b.clips):
        g.add_row("backlog", Text("nothing waiting", style=_OK))
    else:
        alerts = f" ({_n(b.alerts, 'alert')})" if b.alerts else ""
        g.add_row("backlog", f"{_n(b.events, 'event')}{alerts}, {_n(b.clips, 'clip')} "
                  f"({size(b.clip_bytes)})")
        if b.oldest_utc:
            g.add_row("oldest", f"queued {since(b.oldest_utc, r.now_utc)}")
    if b is not None and b.refused:
        g.add_row("refused", Text(f"{_n(b.refused, 'event')} refused by HQ, set aside "
                                  "(kept here, not re-sent)", style=_WARN))
    return Panel(g, title="Sync to HQ", title_align="left")


def today_panel(r: StatusReport) -> Panel:
    g = _grid()
    t = r.db.today
    if t is None:
        g.add_row("", _db_gap(r))
    else:
        still = f" ({t.transactions_open} open)" if t.transactions_open else ""
        g.add_row("transactions", f"{t.transactions}{still}")
        avg = f" (average {t.rating_avg:.2f})" if t.rating_avg is not None else ""
        g.add_row("ratings", f"{t.rated} rated{avg}, {t.not_rated} unrated")
        g.add_row("alerts", Text(f"{t.alerts}" + (f" ({t.alerts_open} open)"
                                                  if t.alerts_open else ""),
                                 style=_WARN if t.alerts_open else ""))
    return Panel(g, title="Today", title_align="left")


def storage_panel(r: StatusReport) -> Panel:
    g = _grid()
    d = r.disk
    if d.problem or d.free is None or d.total is None:
        g.add_row("disk", Text(d.problem or "?", style=_DEAD))
    else:
        style = _DEAD if (d.used_pct or 0) >= 95 else _WARN if (d.used_pct or 0) >= 85 else ""
        g.add_row("disk", Text(f"{size(d.free)} free of {size(d.total)} "
                               f"({d.used_pct:.0f}% used)", style=style))
    c = r.db.clips
    if c is not None:
        rec = f", {c.recording} recording" if c.recording else ""
        g.add_row("clips", f"{c.count} ({size(c.bytes)}){rec}")
        g.add_row("unsynced", f"{c.unsynced} ({size(c.unsynced_bytes)})")
    db = r.db
    if not db.exists:
        g.add_row("database", Text(f"{db.path.name} not found (the daemon has not run yet)",
                                   style=_WARN))
    else:
        schema = ("" if db.schema_version is None
                  else f"schema {db.schema_version}" + (
                      "" if db.schema_version == db.schema_current
                      else f" (this version expects {db.schema_current})"))
        g.add_row("database", schema or "?")
    for problem in db.problems:
        g.add_row("", Text(problem, style=_DEAD))
    return Panel(g, title="Storage", title_align="left")


def events_table(r: StatusReport, tz: ZoneInfo) -> RenderableType:
    events = r.db.events
    if not events:
        body = Text("none yet", style="dim") if events is not None else _db_gap(r)
        return Panel(body, title="Last events", title_align="left")
    table = Table(box=None, padding=(0, 1), show_header=False)
    times = [local(e.utc, tz, r.now_utc) for e in events]
    # Time and type must stay whole; the summary gives way.
    table.add_column(style="dim", no_wrap=True, min_width=max(map(len, times)))
    table.add_column(style="bold", no_wrap=True, min_width=max(len(e.type) for e in events))
    table.add_column(overflow="ellipsis", no_wrap=True)
    for t, e in zip(times, events, strict=True):
        table.add_row(t, e.type, e.summary)
    return Panel(table, title=f"Last {len(events)} events", title_align="left")


def versions_panel(r: StatusReport) -> Panel:
    g = _grid()
    v = r.versions
    if v is not None:
        g.add_row("software", f"counterunit {v.package or '(not installed)'}, "
                  f"Python {v.python}")
        models = Text()
        for m in v.models:
            if models:
                models.append(", ")
            mark, style = ("ok", _OK) if m.verified else (m.problem or "bad", _DEAD)
            models.append(f"{m.name} {m.sha256} ")
            models.append(mark, style=style)
        g.add_row("models", models if v.models else Text(v.models_problem or "none",
                                                           style=_DEAD))
    daemon_clock = r.unit.clock_synced if r.unit else None
    g.add_row("clock", Text(yes_no(r.clock_synced, "synchronised (NTP)", "NOT synchronised")
                            + ("" if daemon_clock is not False
                               else "; the daemon marks events unsynchronised"),
                            style=_OK if r.clock_synced else _WARN))
    cert = r.certificate
    # The identity folder is root-only on a unit; the sync process reports the expiry too.
    reported = r.sync_live.cert_not_after_utc if r.sync_live else None
    if cert is not None:
        not_after = cert.not_after_utc or reported
        if not_after is None:
            g.add_row("HQ cert", Text(cert.problem or "?", style=_WARN))
        else:
            days = (not_after - r.now_utc).days
            style = _DEAD if days < 0 else _WARN if days < CERT_WARN_DAYS else ""
            left = "EXPIRED" if days < 0 else f"{days} days left"
            g.add_row("HQ cert", Text(f"valid until {not_after:%Y-%m-%d} ({left})",
                                      style=style))
    return Panel(g, title="Versions", title_align="left")


def _pair(left: RenderableType, right: RenderableType) -> Table:
    row = Table.grid(expand=True)
    row.add_column(ratio=1)
    row.add_column(ratio=1)
    row.add_row(left, right)
    return row


def render(report: StatusReport, console: Console) -> None:
    """Print the report as panels sized for a ~100-column terminal."""
    tz = ZoneInfo(report.timezone)
    head = Text()
    head.append(f"unit {report.unit_id} · counter {report.counter_id} · ", style="bold")
    head.append(f"{report.now_utc.astimezone(tz):%Y-%m-%d %H:%M:%S} {report.timezone} · ")
    head.append("daemon alive" if report.alive else "DAEMON NOT ALIVE",
                style=_OK if report.alive else _DEAD)
    console.print(head)
    console.print(Text("daemon: ").append(process_line(report.daemon)))
    console.print(_pair(Group(counter_panel(report, tz), today_panel(report)),
                        Group(sync_panel(report), storage_panel(report))))
    console.print(events_table(report, tz))
    console.print(versions_panel(report))
    for problem in report.problems:
        console.print(Text(f"problem: {problem}", style=_DEAD))
