"""seed-demo authors its organisation through hq.org (templates, config versions), so the
org pages show the demo's schedule as editable templates and the units have a config."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hq.org.authoring.bulk import author_many
from hq.org.authoring.store import OrgStore
from hq.org.records.errors import OrgInvalid
from hq.reports.demo.seed import SeedSpec, seed
from hq.storage.sqlite import connect
from tests.servers.postgres_fixtures import Backend


def test_seed_writes_templates_and_config_versions(tmp_path: Path, backend: Backend) -> None:
    spec = SeedSpec(branches=1, halls=1, windows=2, days=10, seed=3,
                    end=dt.date(2026, 3, 10), txn_per_day=2)
    counts = seed(backend.migrated(tmp_path), spec)
    conn = connect(tmp_path / "events.db")
    templates = conn.execute("SELECT window_id, days, start_local, end_local "
                             "FROM org_shift_templates ORDER BY window_id").fetchall()
    templates = [tuple(t) for t in templates]
    assert templates == [("B01H1W01", "mon,tue,wed,thu,fri,sat", "09:00", "17:00"),
                         ("B01H1W02", "mon,tue,wed,thu,fri,sat", "09:00", "17:00")]
    # 2026-03-01..10 holds one Sunday (the 1st and 8th are Sundays: two), so 8 shifts each.
    assert conn.execute("SELECT count(*) FROM org_shifts").fetchone()[0] == 16 == \
        counts["shifts"]
    windows = {r[0] for r in conn.execute("SELECT window_id FROM org_config_versions")}
    assert windows == {"B01H1W01", "B01H1W02"}


def test_bulk_refuses_a_bad_record_and_writes_nothing(tmp_path: Path, backend: Backend
                                                     ) -> None:
    store = OrgStore(backend.migrated(tmp_path) / "events.db")
    with pytest.raises(OrgInvalid, match="tz"):
        author_many(store, [("branch", {"branch_id": "B1", "name": "x"}),
                            ("branch", {"branch_id": "B2", "name": "y", "tz": "Mars/Base"})])
    with store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM org_branches").fetchone()[0] == 0
    store.close()
