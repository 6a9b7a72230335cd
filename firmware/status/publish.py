"""What the running processes tell ``counterunit status``: small JSON files, replaced atomically.

The daemon writes ``<data_dir>/status/unit.json`` and the sync process
``<data_dir>/status/sync.json``, each at most every few seconds. Files (not a
socket) because the status command must work when a process is hung or dead:
the file's ``written_utc`` then shows how stale it is. A few hundred bytes
every few seconds is nothing next to the clips on the same card.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware.machine.model import CounterState
from firmware.machine.window_step import resolve

UNIT_STATUS = "unit.json"
SYNC_STATUS = "sync.json"


def status_dir(data_dir: Path) -> Path:
    return data_dir / "status"


def write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    """Replace ``path`` with ``doc`` so a reader never sees half a file (no fsync: it is live
    state, rewritten seconds later, and a stale file after a power cut is harmless)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # `counterunit status` may run as another user than the daemon
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, sort_keys=True, default=str)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    """The document, or None when absent or unreadable (a process that never ran)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def unit_snapshot(state: CounterState, now: float, utc_at: Callable[[float], dt.datetime],
                  *, last_frame_t: float | None, clock_synced: bool) -> dict[str, Any]:
    """The technician's view of the state machine at unit time ``now`` (pure)."""

    def utc(t: float | None) -> str | None:
        return None if t is None else utc_at(t).astimezone(dt.UTC).isoformat(timespec="seconds")

    s = state.session
    txn = state.transaction
    absence = state.absence
    return {
        "written_utc": utc(now),
        "counter_open": state.counter_open,
        "staff": None if s is None else {
            "staff_id": s.staff.staff_id, "name": s.staff.name, "since_utc": utc(s.since)},
        "seat_present": state.seat,
        "customer_present": state.customer,
        "transaction": None if txn is None else {
            "txn_id": txn.txn_id, "since_utc": utc(txn.started_at),
            "seconds": round(now - txn.started_at, 1)},
        "rating_window_open": state.rating is not None,
        "absence": None if absence is None else {
            "absence_id": absence.absence_id, "since_utc": utc(absence.since),
            "seconds": round(now - absence.since, 1), "alert_level": absence.level},
        "manual_recording": state.manual is not None,
        "window_state": _window_state(state, utc),
        "last_frame_age_s": None if last_frame_t is None else round(now - last_frame_t, 2),
        "clock_synced": clock_synced,
        "pid": os.getpid(),
    }


def _window_state(state: CounterState, utc: Callable[[float | None], str | None]
                  ) -> dict[str, Any]:
    """The window state in force, who/what set it and since when (docs/window-states.md)."""
    ws = state.window
    _, setting = resolve(ws, state.counter_open)
    return {"state": ws.shown, "since_utc": utc(ws.shown_since) if ws.announced else None,
            "source": setting.source if setting is not None else
            ("hours" if ws.shown == "off" else "default"),
            "note": setting.note if setting is not None else ""}
