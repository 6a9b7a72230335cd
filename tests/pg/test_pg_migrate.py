"""``counterunit hq migrate`` and the schema check HQ runs before opening a data folder."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

import pytest

from hq.api.deps import HQDeps
from hq.cli import main
from hq.config import load_hq_config
from hq.storage.db.migrate import SchemaError, current_revision, known_revisions
from hq.storage.events import SqliteEventStore
from sync.schema import EventEnvelope
from tests.servers.postgres_fixtures import Backend


def _event(unit: str = "u1") -> EventEnvelope:
    return EventEnvelope(uuid=uuid.uuid4().hex, type="login", unit_id=unit, counter_id="c",
                         utc=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), mono=1.0, boot_id="b",
                         clock_synced=True, data={"staff_id": "s1"})


def _close(deps: HQDeps) -> None:
    for store in (deps.events, deps.clips, deps.audit):
        store.close()


def test_a_data_folder_from_before_revisions_is_stamped_in_place(tmp_path: Path) -> None:
    old = SqliteEventStore(tmp_path / "events.db")  # as HQ wrote it before hq migrate
    kept = _event()
    old.ingest("u1", [kept])
    old.close()
    assert current_revision(tmp_path, load_hq_config(tmp_path).database) is None
    deps = HQDeps.open(tmp_path)
    try:
        assert deps.events.event(kept.uuid) == kept
    finally:
        _close(deps)
    assert current_revision(tmp_path, load_hq_config(tmp_path).database) == \
        known_revisions()[0]


def test_migrate_says_what_it_did_and_is_safe_to_repeat(
        backend: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = backend.configure(tmp_path / "hq")  # PostgreSQL: migrated here once already
    capsys.readouterr()
    assert main(["migrate", "--data", str(data)]) == 0
    head = known_revisions()[0]
    assert capsys.readouterr().out.strip() == f"{backend.name} schema " + (
        f"already at revision {head}" if backend.postgres
        else f"migrated from revision (none) to {head}")
    assert main(["migrate", "--data", str(data)]) == 0
    assert capsys.readouterr().out.strip() == f"{backend.name} schema already at revision {head}"
    deps = HQDeps.open(data)
    try:
        assert deps.events.ingest("u1", [_event()]).accepted == 1
    finally:
        _close(deps)


def _set_revision(backend: Backend, data: Path, revision: str) -> None:
    if backend.postgres:
        import psycopg

        assert backend.dsn is not None
        with psycopg.connect(backend.dsn, autocommit=True) as conn:
            conn.execute("UPDATE hq_events.alembic_version SET version_num = %s", [revision])
    else:
        with sqlite3.connect(data / "events.db", isolation_level=None) as conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", [revision])


def test_a_revision_hq_does_not_know_is_refused_by_serve_and_migrate(
        backend: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = backend.configure(tmp_path / "hq")
    _close(HQDeps.open(data))
    _set_revision(backend, data, "0099")
    with pytest.raises(SchemaError, match="revision 0099, which this HQ does not know"):
        HQDeps.open(data)
    assert main(["migrate", "--data", str(data)]) == 2
    assert "schema revision 0099" in capsys.readouterr().err
    assert main(["enroll-code", "--data", str(data), "--unit", "u9"]) == 2


@pytest.mark.postgres
def test_postgresql_without_migrate_is_refused_naming_the_fix(tmp_path: Path,
                                                              pg_dsn: str) -> None:
    data = tmp_path / "hq"
    data.mkdir()
    (data / "hq.toml").write_text(f'[database]\ntype = "postgresql"\ndsn = "{pg_dsn}"\n')
    try:
        with pytest.raises(SchemaError, match=r"has no HQ schema yet.*counterunit hq migrate"):
            HQDeps.open(data)
    finally:
        from hq.storage.db.routes import unroute

        unroute([data])
