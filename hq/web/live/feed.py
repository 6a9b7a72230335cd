"""The dashboard's server-sent events: changed tiles, found by polling the database.

No in-memory bus: ingest may run in another HQ worker process, so the feed asks the
database every ``poll_s`` for live rows whose change number passed the last one sent
(``hq.live.store``), renders those tiles and sends them. Every ``full_every_s`` it sends
all tiles of the scope again, because a tile also changes with the clock alone (a shift
begins, a unit falls silent).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from hq.live.board import WindowTile, board
from hq.live.store import changed_windows, current_seq, ensure_schema
from hq.storage.scope import Scope

POLL_S = 0.5
FULL_EVERY_S = 30.0
KEEPALIVE_S = 15.0

Render = Callable[[list[WindowTile]], dict[str, str]]


def snapshot(conn: sqlite3.Connection, scope: Scope,
             now: dt.datetime) -> tuple[int, list[WindowTile]]:
    """The change number, then the tiles: a change between the two is sent again, never lost."""
    ensure_schema(conn)
    seq = current_seq(conn)
    return seq, board(conn, scope, now)


def poll(conn: sqlite3.Connection, scope: Scope, since: int, now: dt.datetime,
         full: bool) -> tuple[int, list[WindowTile]]:
    """(new change number, tiles to send): the changed ones, or all when ``full``."""
    seq = current_seq(conn)
    if full:
        return seq, board(conn, scope, now)
    if seq <= since:
        return since, []
    changed = changed_windows(conn, scope, since)
    return seq, board(conn, scope, now, only=changed) if changed else []


def sse(event: str, data: object) -> str:
    """One server-sent event (JSON data on one line)."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def feed(open_conn: Callable[[], sqlite3.Connection], scope: Scope, since: int,
               render: Render, disconnected: Callable[[], Awaitable[bool]], *,
               poll_s: float = POLL_S, full_every_s: float = FULL_EVERY_S,
               clock: Callable[[], dt.datetime] | None = None) -> AsyncIterator[str]:
    """Server-sent events for one dashboard until the browser goes away.

    ``tiles`` events carry ``{"seq": n, "tiles": {window_id: html}}``; a comment line
    keeps idle connections open through proxies. ``open_conn`` gives a connection of
    this feed's own, usable from a worker thread (``check_same_thread=False``); the feed
    closes it.
    """
    now = clock or (lambda: dt.datetime.now(dt.UTC))
    conn = open_conn()
    try:
        last_full = last_sent = time.monotonic()
        yield "retry: 2000\n\n"
        while not await disconnected():
            full = time.monotonic() - last_full >= full_every_s
            seq, tiles = await asyncio.to_thread(poll, conn, scope, since, now(), full)
            if full:
                last_full = time.monotonic()
            since = seq
            if tiles:
                yield sse("tiles", {"seq": seq, "tiles": render(tiles)})
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= KEEPALIVE_S:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(poll_s)
    finally:
        conn.close()
