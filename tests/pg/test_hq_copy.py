"""``counterunit hq copy``: an embedded HQ (SQLite files + clips folder) into PostgreSQL
and the clip store hq.toml names, against the session's real PostgreSQL 15 (and moto's
S3 API for the bucket case).

The source is the reports' hand-worked fixture (org, events, rollups), an off-seat alert
thread with its outbox, users, audit records and three real clips uploaded through the
local store. The copy is interrupted (``--stop-after``) and run again; the target then
holds exactly the source's rows, once each, and every clip with its sha256, and HQ runs
on it: into a clips folder and into an S3 bucket alike (the same ``import_clip``). Bad
inputs: a target not migrated, a value an integer column cannot hold, a clip whose bytes
do not match its digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from pathlib import Path

import psycopg
import pytest

from hq.accounts.users import UserStore
from hq.api.deps import HQDeps
from hq.cli import main
from hq.copy.schema import pg_schema_of
from hq.storage import SqliteAuditLog
from hq.storage.clips.store import LocalClipStore
from hq.storage.db.routes import unroute
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from tests.helpers.hq import reports_fixture as fx
from tests.helpers.hq.alerts import off_seat
from tests.servers.s3_fixtures import with_s3_clips

pytestmark = pytest.mark.postgres

CLIPS = {("U1", "T1"): os.urandom(300_000), ("U1", "T2"): os.urandom(5_000),
         ("U2", "T3"): os.urandom(70_001)}


def _upload(store: LocalClipStore, unit: str, clip: str, data: bytes) -> None:
    up = store.create(unit, clip, len(data), hashlib.sha256(data).hexdigest())
    for at in range(0, len(data), 65536):
        store.append(up.upload_id, unit, at, data[at:at + 65536])


def _source(folder: Path, clips: dict[tuple[str, str], bytes]) -> Path:
    fx.build(folder)
    events = SqliteEventStore(folder / "events.db")
    events.ingest("U1", [off_seat(1, unit="U1", staff="S1")])
    events.close()
    users = UserStore(folder / "users.db")
    users.create_user("ann", "a long passphrase 1", "admin")
    users.create_user("sue", "a long passphrase 2", "hall_supervisor",
                      scope=Scope("hall", "H1"))
    users.issue_token("ann")
    users.close()
    audit = SqliteAuditLog(folder / "audit.db")
    for n in range(3):
        audit.append(actor="ann", role="admin", action="clip_download", object_type="clip",
                     object_id=f"U1/T{n}", client="127.0.0.1")
    audit.close()
    store = LocalClipStore(folder / "clips")
    for (unit, clip), data in clips.items():
        _upload(store, unit, clip, data)
    store.close()
    return folder


def _target(folder: Path, dsn: str) -> Path:
    folder.mkdir()
    (folder / "hq.toml").write_text(f'[database]\ntype = "postgresql"\ndsn = "{dsn}"\n')
    return folder / "hq.toml"


def _counts_sqlite(folder: Path) -> dict[str, int]:
    out = {}
    for file in ("events.db", "users.db", "audit.db"):
        with contextlib.closing(sqlite3.connect(folder / file)) as conn:
            for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                     "name NOT IN ('sqlite_sequence', 'alembic_version')"):
                out[f"{file}:{t}"] = conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
    return out


def _count(conn: psycopg.Connection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def _counts_pg(dsn: str, names: list[str]) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {name: _count(conn, f'SELECT count(*) FROM {pg_schema_of(name.split(":")[0])}'
                                   f'."{name.split(":")[1]}"') for name in names}


def _copy(src: Path, cfg: Path, *extra: str) -> int:
    try:
        return main(["copy", "--from", str(src), "--to", str(cfg), *extra])
    finally:
        unroute([cfg.parent])


@pytest.mark.parametrize("clips", ["files", pytest.param("s3", marks=pytest.mark.s3)])
def test_interrupted_copy_runs_again_to_an_exact_copy(
        tmp_path: Path, pg_dsn: str, clips: str, request: pytest.FixtureRequest,
        capsys: pytest.CaptureFixture[str]) -> None:
    src = _source(tmp_path / "embedded", CLIPS)
    cfg = _target(tmp_path / "bank", pg_dsn)
    if clips == "s3":  # the bank's deployment: PostgreSQL + an S3 bucket (moto)
        with_s3_clips(request, cfg.parent)

    assert _copy(src, cfg) == 2  # not migrated yet: refused, naming it and the fix
    err = capsys.readouterr().err
    assert "has no HQ schema (not migrated)" in err and "counterunit hq migrate" in err
    assert main(["migrate", "--data", str(cfg.parent)]) == 0
    unroute([cfg.parent])

    want = _counts_sqlite(src)
    seeded = sum(_counts_pg(pg_dsn, list(want)).values())  # the live board's counter row
    assert want["events.db:events"] > 50 and want["events.db:alert_threads"] >= 1
    assert want["events.db:rpt_rollup"] > 0 and want["users.db:users"] == 2

    assert _copy(src, cfg, "--stop-after", "40") == 3  # interrupted part-way
    partial = _counts_pg(pg_dsn, list(want))
    assert sum(partial.values()) - seeded == 40
    capsys.readouterr()

    assert _copy(src, cfg) == 0
    out = capsys.readouterr().out
    assert "copy complete" in out
    assert "clips: 3 in source, 3 copied, 0 already there, 3 read back" in out
    assert _counts_pg(pg_dsn, list(want)) == want
    with psycopg.connect(pg_dsn) as conn:  # once each, by key
        assert _count(conn, "SELECT count(DISTINCT uuid) FROM hq_events.events"
                      ) == want["events.db:events"]

    assert _copy(src, cfg) == 0  # a third run changes nothing
    out = capsys.readouterr().out
    assert "clips: 3 in source, 0 copied, 3 already there, 3 read back" in out
    assert _counts_pg(pg_dsn, list(want)) == want

    deps = HQDeps.open(cfg.parent)  # HQ runs on the copy: clips, rows, new ids
    try:
        for (unit, clip), data in CLIPS.items():
            held = deps.clips.open_clip(clip, unit)
            assert b"".join(deps.clips.read_range(held, 0, held.size - 1)) == data
        before = max(r.seq for r in deps.audit.query())
        assert deps.audit.append(actor="ann", role="admin", action="clip_play",
                                 object_type="clip", object_id="U1/T1",
                                 client="127.0.0.1").seq == before + 1
        assert deps.events.ingest("U1", [off_seat(1, "a2", unit="U1", staff="S1")]
                                  ).accepted == 1
    finally:
        for store in (deps.events, deps.clips, deps.audit):
            store.close()
        unroute([cfg.parent])


def test_a_clip_that_does_not_match_its_sha256_is_named_and_not_stored(
        tmp_path: Path, pg_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    clips = dict(list(CLIPS.items())[:2])
    src = _source(tmp_path / "embedded", clips)
    with contextlib.closing(sqlite3.connect(src / "clips" / "clips.sqlite")) as lite:
        upload_id = lite.execute("SELECT upload_id FROM clips WHERE clip_id = 'T2'"
                                 ).fetchone()[0]
    bad = src / "clips" / "clips" / upload_id
    bad.write_bytes(b"x" + bad.read_bytes()[1:])  # one byte changed on disk
    cfg = _target(tmp_path / "bank", pg_dsn)
    assert main(["migrate", "--data", str(cfg.parent)]) == 0
    unroute([cfg.parent])
    with contextlib.closing(sqlite3.connect(src / "events.db")) as lite, lite:
        lite.execute("UPDATE rpt_absences SET max_level = 1.5 WHERE absence_id = "
                     "(SELECT min(absence_id) FROM rpt_absences)")
    capsys.readouterr()

    # A value the target's column cannot hold as it is: refused, naming row and column.
    assert _copy(src, cfg) == 2
    err = capsys.readouterr().err
    assert "table rpt_absences, row {'unit_id': " in err
    assert "column max_level holds 1.5, which is not a whole number" in err
    with psycopg.connect(pg_dsn) as pg:
        assert _count(pg, "SELECT count(*) FROM hq_events.rpt_absences") == 0
    with contextlib.closing(sqlite3.connect(src / "events.db")) as lite, lite:
        lite.execute("UPDATE rpt_absences SET max_level = 1 WHERE max_level = 1.5")

    assert _copy(src, cfg) == 1
    out, err = capsys.readouterr()
    assert "clip U1/T2: bytes do not match its sha256" in out
    assert "copy NOT complete" in err
    assert "clips: 2 in source, 1 copied" in out
    # Nothing half-written: no partial file, one clip file, one row (in hq_clips).
    assert list((cfg.parent / "clips" / "partial").iterdir()) == []
    assert len(list((cfg.parent / "clips" / "clips").iterdir())) == 1
    with psycopg.connect(pg_dsn) as pg:
        assert pg.execute("SELECT unit_id, clip_id FROM hq_clips.clips").fetchall() == [
            ("U1", "T1")]
