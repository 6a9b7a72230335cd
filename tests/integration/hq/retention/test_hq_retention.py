"""Retention on a real HQ data folder: two branches with different periods, one held
transaction; after the run exactly the expected rows and clips are gone, every deletion
is in the audit log, and the held clip still plays through the transaction page.

Tree (tests/helpers/hq/scope.py): b1 (u1/t1, u2/t2), b2 (u3/t3), all recorded around
2026-03-02 01:00Z. Periods: default clips 30 d / events 60 d; b2 overrides clips 90 d
and events 120 d. Run at 2026-04-15 (44 days on): b1's clips are due (t1 held, so only
t2's), b2's clip (90 d) is not, nothing's events (60 d) are. Run at 2026-05-10 (69 days
on): b1's events are due except held t1's; b2's are not (120 d).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from hq.retention import actions
from hq.retention.run import ACTION, RetentionRun
from tests.helpers.hq.scope import seed_transactions, seed_tree
from tests.helpers.hq.server import HQServer, running_hq
from tests.helpers.hq.web import page_session, post_form
from tests.servers.postgres_fixtures import Backend
from tests.servers.s3_fixtures import with_s3_clips

PW = "a long enough password"
T_SET = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)


def _counts(hq: HQServer, unit: str) -> tuple[int, int]:
    with hq.deps.retention.reading() as conn:
        ev = conn.execute("SELECT COUNT(*) FROM events WHERE unit_id = ?", [unit]).fetchone()
        tx = conn.execute("SELECT COUNT(*) FROM transactions WHERE unit_id = ?",
                          [unit]).fetchone()
    return int(ev[0]), int(tx[0])


@pytest.mark.parametrize("clips", ["files", pytest.param("s3", marks=pytest.mark.s3)])
def test_retention_run_on_a_real_data_folder(tmp_path: Path, clips: str, backend: Backend,
                                             request: pytest.FixtureRequest) -> None:
    backend.configure(tmp_path / "data")
    bucket = with_s3_clips(request, tmp_path / "data") if clips == "s3" else None
    with running_hq(tmp_path) as hq:
        seed_tree(hq.root / "data" / "events.db")
        seed_transactions(hq.deps.events)
        bodies = {}
        for unit, txn in (("u1", "t1"), ("u2", "t2"), ("u3", "t3")):
            body = bodies[txn] = f"clip {txn} ".encode() * 50
            up = hq.deps.clips.create(unit, txn, len(body), hashlib.sha256(body).hexdigest())
            hq.deps.clips.append(up.upload_id, unit, 0, body)
        store, audit = hq.deps.retention, hq.deps.audit
        actions.set_period(store, audit, None, clip_days=30, event_days=60, by="it",
                           role="admin", client="test", now=T_SET)
        actions.set_period(store, audit, "b2", clip_days=90, event_days=120, by="it",
                           role="admin", client="test", now=T_SET)
        hq.deps.user_store().create_user("aud", PW, "auditor")
        s = page_session(hq, "aud", PW)
        page = s.get(f"{hq.url}/transactions/u1/t1", timeout=10)
        assert 'id="hold-none"' in page.text
        r = post_form(s, hq, "/transactions/u1/t1/hold", {"reason": "case 2026-17"},
                      page.text)
        assert r.status_code == 303, r.text
        assert 'id="hold-open"' in s.get(f"{hq.url}/transactions/u1/t1", timeout=10).text

        run = RetentionRun(store, hq.deps.clips, audit, batch=2)  # small pages on purpose
        dry = run(dt.datetime(2026, 4, 15, tzinfo=dt.UTC), dry_run=True)
        assert dry.clips == [("u2", "t2")] and dry.held == 1
        assert hq.deps.clips.open_clip("t2", "u2").size == len(bodies["t2"])  # dry: kept

        first = run(dt.datetime(2026, 4, 15, tzinfo=dt.UTC))
        assert (first.clips, first.transactions, first.events) == ([("u2", "t2")], [], 0)
        assert {c: _alive(hq, u, c) for u, c in (("u1", "t1"), ("u2", "t2"), ("u3", "t3"))} \
            == {"t1": True, "t2": False, "t3": True}
        assert 'id="clip-deleted"' in s.get(f"{hq.url}/transactions/u2/t2", timeout=10).text
        if bucket is not None:  # the deleted clip's object is gone from the bucket
            keys = [o["Key"] for o in request.getfixturevalue("s3").client()
                    .list_objects_v2(Bucket=bucket)["Contents"]]
            assert sorted(k.split("/")[1:3] for k in keys) == [["u1", "t1"], ["u3", "t3"]]

        second = run(dt.datetime(2026, 5, 10, tzinfo=dt.UTC))
        assert second.transactions == [("u2", "t2")]
        assert second.events == 3 and second.held >= 4  # t1: its clip, txn, 3 events
        assert _counts(hq, "u1") == (3, 1)   # held: everything kept
        assert _counts(hq, "u2") == (0, 0)   # b1, not held: gone
        assert _counts(hq, "u3") == (3, 1)   # b2 keeps events 120 days

        rows = audit.query(action=ACTION, limit=100)
        assert sorted({(r.object_type, r.object_id) for r in rows}) == [
            ("clip", "u2/t2"), ("events", "u2/2026-03-02"), ("transaction", "u2/t2")]
        # One record per unit and day in each batch of two: 2 + 1 events.
        assert sum(int(r.detail.split(";")[0].removeprefix("count="))
                   for r in rows if r.object_type == "events") == 3
        assert audit.query(action=actions.HOLD_SET, object_id="u1/t1", limit=5)

        # The held clip still plays, byte for byte.
        r = s.get(f"{hq.url}/transactions/u1/t1/clip", timeout=10)
        assert r.status_code == 200 and r.content == bodies["t1"]

        # Released, the held transaction goes on the next run.
        page = s.get(f"{hq.url}/transactions/u1/t1", timeout=10)
        r = post_form(s, hq, "/transactions/u1/t1/release", {"note": "case closed"},
                      page.text)
        assert r.status_code == 303
        third = run(dt.datetime(2026, 5, 10, tzinfo=dt.UTC))
        assert third.clips == [("u1", "t1")] and third.transactions == [("u1", "t1")]
        assert _counts(hq, "u1") == (0, 0)


def _alive(hq: HQServer, unit: str, clip: str) -> bool:
    try:
        hq.deps.clips.open_clip(clip, unit)
    except Exception:
        return False
    return True


def test_hold_refusals_name_the_problem(tmp_path: Path, backend: Backend) -> None:
    backend.configure(tmp_path / "data")
    with running_hq(tmp_path) as hq:
        seed_tree(hq.root / "data" / "events.db")
        seed_transactions(hq.deps.events)
        users = hq.deps.user_store()
        users.create_user("aud", PW, "auditor")
        users.create_user("view", PW, "viewer")
        from hq.storage.scope import Scope
        users.create_user("mgr", PW, "branch_manager", scope=Scope.parse("branch:b1"))
        s = page_session(hq, "aud", PW)
        page = s.get(f"{hq.url}/transactions/u1/t1", timeout=10).text
        assert post_form(s, hq, "/transactions/u1/t1/hold", {"reason": ""}, page
                         ).status_code == 400
        assert post_form(s, hq, "/transactions/u1/nope/hold", {"reason": "x"}, page
                         ).status_code == 404
        assert post_form(s, hq, "/transactions/u1/t1/release", {"note": "x"}, page
                         ).status_code == 404
        assert post_form(s, hq, "/transactions/u1/t1/hold", {"reason": "x"}, page
                         ).status_code == 303
        assert post_form(s, hq, "/transactions/u1/t1/hold", {"reason": "y"}, page
                         ).status_code == 409
        # Without the CSRF token: refused.
        assert s.post(f"{hq.url}/transactions/u1/t1/release", data={"note": "x"},
                      allow_redirects=False, timeout=10).status_code == 403
        m = page_session(hq, "mgr", PW)  # may view, may not hold
        mp = m.get(f"{hq.url}/transactions/u1/t1", timeout=10).text
        assert 'id="hold-release"' not in mp
        assert post_form(m, hq, "/transactions/u1/t1/release", {"note": "x"}, mp
                         ).status_code == 403


def test_cli_periods_holds_and_dry_run(tmp_path: Path, backend: Backend) -> None:
    data = backend.configure(tmp_path / "data")
    with running_hq(tmp_path):
        pass
    seed_tree(data / "events.db")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hq.cli", *args, "--data", str(data)],
                              capture_output=True, text=True, timeout=60)

    r = cli("retention", "set", "--clip-days", "30", "--event-days", "20")
    assert r.returncode == 2 and "default.clip_days" in r.stderr, r.stderr
    r = cli("retention", "set", "--branch", "zz", "--clip-days", "1", "--event-days", "2")
    assert r.returncode == 2 and "branch: no branch 'zz'" in r.stderr
    r = cli("retention", "set", "--clip-days", "0", "--event-days", "20")
    assert r.returncode == 2 and "default.clip_days" in r.stderr
    assert cli("retention", "set", "--clip-days", "30", "--event-days", "365").returncode == 0
    r = cli("retention", "set", "--branch", "b2", "--clip-days", "inherit",
            "--event-days", "730")
    assert r.returncode == 0, r.stderr
    assert "b2: clips 30 days, events 730 days (override)" in r.stdout
    r = cli("retention-run", "--dry-run")
    assert r.returncode == 0 and "would delete: 0 clips" in r.stdout, r.stdout
