"""What the daemon's and the sync process's status files say, read defensively.

Both files are written by other processes (possibly an older or newer
version), so every key is optional and a key of the wrong type reads as
"unknown" rather than failing. How old the file is, and whether its writer's
pid still exists, decide the process's state: a file alone cannot tell a
stopped process from a hung one.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from firmware.status.publish import read_json

# The daemon rewrites unit.json every ~2 s; 15 s without one means it is not counting.
DAEMON_FRESH_S = 15.0
# The sync process writes after each pass but may then sleep for a poll or a
# back-off; it is also fresh until a minute past the retry time it announced.
SYNC_FRESH_S = 90.0
SYNC_RETRY_GRACE_S = 60.0

ProcessState = Literal["running", "stale", "hung", "stopped", "never ran", "unreadable"]


@dataclass(frozen=True)
class ProcessView:
    """A process as its status file shows it.

    ``state``: ``running`` (fresh file, pid not known to be gone), ``stopped``
    (its pid no longer exists), ``hung`` (old file but the pid exists),
    ``stale`` (old file, pid unknown), ``never ran`` (no file) or
    ``unreadable`` (``problem`` says why). ``age_s`` is negative when the file
    is dated in the future (the clock was changed, or a replay wrote it).
    """

    name: str
    path: Path
    state: ProcessState
    age_s: float | None = None
    pid: int | None = None
    pid_alive: bool | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Staff:
    staff_id: str | None
    name: str | None
    since_utc: dt.datetime | None


@dataclass(frozen=True)
class OpenTransaction:
    txn_id: str | None
    since_utc: dt.datetime | None
    seconds: float | None


@dataclass(frozen=True)
class Absence:
    absence_id: str | None
    since_utc: dt.datetime | None
    seconds: float | None
    alert_level: int | None


@dataclass(frozen=True)
class WindowStateLive:
    state: str | None
    source: str | None
    since_utc: dt.datetime | None
    note: str | None


@dataclass(frozen=True)
class UnitLive:
    """The counter as the daemon last described it (``unit.json``); None = not said."""

    written_utc: dt.datetime | None
    counter_open: bool | None
    staff: Staff | None
    seat_present: bool | None
    customer_present: bool | None
    transaction: OpenTransaction | None
    rating_window_open: bool | None
    absence: Absence | None
    manual_recording: bool | None
    last_frame_age_s: float | None
    clock_synced: bool | None
    window_state: WindowStateLive | None = None


@dataclass(frozen=True)
class Upload:
    clip_id: str | None
    sent: int | None
    size: int | None


@dataclass(frozen=True)
class SyncLive:
    """The sync process's last report (``sync.json``); None = not said."""

    written_utc: dt.datetime | None
    hq_url: str | None
    last_ok_utc: dt.datetime | None
    last_error: str | None
    consecutive_failures: int | None
    next_try_utc: dt.datetime | None
    in_upload_window: bool | None
    uploading: Upload | None
    stats: dict[str, int]
    config_etag: str | None
    cert_not_after_utc: dt.datetime | None


# ---- lenient field readers ---------------------------------------------------------------

def _bool(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _dict(v: Any) -> dict[str, Any] | None:
    return v if isinstance(v, dict) else None


def parse_utc(v: Any) -> dt.datetime | None:
    """An ISO 8601 time as aware UTC; naive times are taken as UTC; junk is None."""
    if not isinstance(v, str):
        return None
    try:
        t = dt.datetime.fromisoformat(v)
    except ValueError:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def parse_unit(doc: dict[str, Any]) -> UnitLive:
    """``unit.json`` (``firmware.status.publish.unit_snapshot``) as typed, possibly-None fields."""
    staff = _dict(doc.get("staff"))
    txn = _dict(doc.get("transaction"))
    absence = _dict(doc.get("absence"))
    ws = _dict(doc.get("window_state"))
    return UnitLive(
        written_utc=parse_utc(doc.get("written_utc")),
        counter_open=_bool(doc.get("counter_open")),
        staff=None if staff is None else Staff(
            _str(staff.get("staff_id")), _str(staff.get("name")),
            parse_utc(staff.get("since_utc"))),
        seat_present=_bool(doc.get("seat_present")),
        customer_present=_bool(doc.get("customer_present")),
        transaction=None if txn is None else OpenTransaction(
            _str(txn.get("txn_id")), parse_utc(txn.get("since_utc")), _num(txn.get("seconds"))),
        rating_window_open=_bool(doc.get("rating_window_open")),
        absence=None if absence is None else Absence(
            _str(absence.get("absence_id")), parse_utc(absence.get("since_utc")),
            _num(absence.get("seconds")), _int(absence.get("alert_level"))),
        manual_recording=_bool(doc.get("manual_recording")),
        last_frame_age_s=_num(doc.get("last_frame_age_s")),
        clock_synced=_bool(doc.get("clock_synced")),
        window_state=None if ws is None else WindowStateLive(
            _str(ws.get("state")), _str(ws.get("source")), parse_utc(ws.get("since_utc")),
            _str(ws.get("note"))),
    )


def parse_sync(doc: dict[str, Any]) -> SyncLive:
    """``sync.json`` as typed, possibly-None fields (every key is optional)."""
    up = _dict(doc.get("uploading"))
    stats = _dict(doc.get("stats")) or {}
    return SyncLive(
        written_utc=parse_utc(doc.get("written_utc")),
        hq_url=_str(doc.get("hq_url")),
        last_ok_utc=parse_utc(doc.get("last_ok_utc")),
        last_error=_str(doc.get("last_error")),
        consecutive_failures=_int(doc.get("consecutive_failures")),
        next_try_utc=parse_utc(doc.get("next_try_utc")),
        in_upload_window=_bool(doc.get("in_upload_window")),
        uploading=None if up is None else Upload(
            _str(up.get("clip_id")), _int(up.get("sent")), _int(up.get("size"))),
        stats={k: v for k, v in stats.items() if isinstance(k, str) and _int(v) is not None},
        config_etag=_str(doc.get("config_etag")),
        cert_not_after_utc=parse_utc(doc.get("cert_not_after_utc")),
    )


# ---- process state --------------------------------------------------------------------------

def pid_alive(pid: int) -> bool | None:
    """Whether process ``pid`` exists on this host (None: cannot tell)."""
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)  # signal 0: existence and permission check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user (the daemon's service account)
    except OSError:
        return None
    return True


def read_status_file(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(document, None), (None, None) when absent, or (None, why it cannot be used)."""
    doc = read_json(path)
    if doc is not None:
        return doc, None
    if not path.exists():
        return None, None
    if not os.access(path, os.R_OK):
        return None, "permission denied (run as root or the counterunit user)"
    return None, "not a JSON object (half-written or corrupt)"


def assess(name: str, path: Path, doc: dict[str, Any] | None, problem: str | None,
           now: dt.datetime, fresh_for_s: float, *, alive: bool | None,
           fresh_until: dt.datetime | None = None) -> ProcessView:
    """The state of process ``name`` from its status document (pure).

    ``alive`` is whether the pid in ``doc`` exists (None: unknown or no pid).
    The file is fresh when written less than ``fresh_for_s`` ago (or ahead:
    a clock stepped back), or, if given, while ``now`` is before ``fresh_until``.
    """
    if doc is None:
        return ProcessView(name, path, "unreadable" if problem else "never ran", problem=problem)
    pid = _int(doc.get("pid"))
    written = parse_utc(doc.get("written_utc"))
    if written is None:
        return ProcessView(name, path, "unreadable", pid=pid, pid_alive=alive,
                           problem="no valid written_utc")
    age = (now - written).total_seconds()
    fresh = abs(age) < fresh_for_s or (fresh_until is not None and now <= fresh_until)
    state: ProcessState
    if alive is False:
        state = "stopped"
    elif fresh:
        state = "running"
    else:
        state = "hung" if alive else "stale"
    return ProcessView(name, path, state, age_s=round(age, 1), pid=pid, pid_alive=alive)


def sync_fresh_until(live: SyncLive | None) -> dt.datetime | None:
    """Until when a sync process that announced its next try counts as fresh."""
    if live is None or live.next_try_utc is None:
        return None
    return live.next_try_utc + dt.timedelta(seconds=SYNC_RETRY_GRACE_S)
