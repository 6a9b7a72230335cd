"""Every table of an HQ data folder, created by opening each store that owns some."""

from __future__ import annotations

from pathlib import Path


def create_all(root: Path) -> None:
    """Open (creating if missing) every store's tables under ``root``, then close them.

    On PostgreSQL the folder must be routed first (:func:`hq.storage.db.routes.route_folder`).
    """
    from hq.accounts.users import UserStore
    from hq.alerts import schema as alerts_schema
    from hq.live import store as live
    from hq.reports.tables import schema as reports_schema
    from hq.storage.audit import SqliteAuditLog
    from hq.storage.clips.store import LocalClipStore
    from hq.storage.events import SqliteEventStore
    from hq.storage.sqlite import private_dir

    private_dir(root)
    events = SqliteEventStore(root / "events.db")
    try:
        with events.writing() as conn:
            alerts_schema.ensure(conn)
        live.ensure_schema(events._conn)
        reports_schema.ensure_schema(events._conn)
    finally:
        events.close()
    for store in (SqliteAuditLog(root / "audit.db"), UserStore(root / "users.db"),
                  LocalClipStore(root / "clips")):
        store.close()
