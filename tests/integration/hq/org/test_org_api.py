"""The organisation through HQ's real API (embedded HQ, mutual TLS on loopback): a unit bound
by its enrollment code, its events filed under its window and found by branch, config
versions pulled after each change, what the unit applied or refused, its heartbeat, and
imports with one bad row."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import random
import zoneinfo
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests

from firmware.config.from_hq import ConfigInbox
from firmware.config.unit import SyncConfig
from firmware.store import EventContext, Store
from firmware.syncd.runner import SyncRunner
from firmware.system.clock import UnitClock
from hq.cli import main as hq_main
from hq.server.embedded import EmbeddedHQ
from hq.storage.scope import Scope
from sync.enroll import enroll
from sync.hq_client import HQClient
from sync.identity import UnitIdentity
from sync.outbox import Outbox
from sync.schema import EventEnvelope
from sync.unit_status import FIRST_AFTER_S, INTERVAL_S, report_status
from tests.helpers.hq.api import enrolled, hq_fixture, tls
from tests.helpers.hq.users import PW, ev, txn

hq = hq_fixture(backends=True)


@pytest.fixture(scope="module")
def tokens(hq: EmbeddedHQ) -> dict[str, str]:
    users = hq.deps.user_store()
    accounts = [("root", "admin", Scope.everything()),
                ("bm2", "branch_manager", Scope("branch", "B2")),
                ("hs1", "hall_supervisor", Scope("hall", "H1")),
                ("val", "viewer", Scope.everything())]
    for name, role, scope in accounts:
        users.create_user(name, PW, role, scope=scope)
    return {name: users.issue_token(name).token for name, _, _ in accounts}


def call(hq: EmbeddedHQ, method: str, path: str, token: str | None, **kw: Any
         ) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, hq.url + path, headers=headers, **tls(hq, None), **kw)


@pytest.fixture(scope="module")
def tree(hq: EmbeddedHQ, tokens: dict[str, str]) -> None:
    root = tokens["root"]
    for kind, body in [
        ("branches", {"branch_id": "B1", "name": "Main"}),
        ("branches", {"branch_id": "B2", "name": "East"}),
        ("halls", {"hall_id": "H1", "branch_id": "B1", "name": "Hall 1"}),
        ("halls", {"hall_id": "H2", "branch_id": "B2", "name": "Hall 2"}),
        ("windows", {"window_id": "W1", "hall_id": "H1", "name": "Window 1"}),
        ("windows", {"window_id": "W2", "hall_id": "H2", "name": "Window 2"}),
        ("staff", {"staff_no": "1001", "name": "王芳", "badge_uid": "04A1B2C3",
                   "home_branch_id": "B1"}),
        ("rules", {"level": "org", "off_seat_l1_s": 90}),
    ]:
        r = call(hq, "POST", f"/v1/org/{kind}", root, json=body)
        assert r.status_code == 200, r.text


def enrolled_by_code(hq: EmbeddedHQ, tmp: Path, unit_id: str, code: str) -> UnitIdentity:
    ident = UnitIdentity(tmp / unit_id)
    enroll(hq.url, code, unit_id, ident, hq.ca_pem)
    return ident


@pytest.fixture(scope="module")
def units(hq: EmbeddedHQ, tokens: dict[str, str], tree: None,
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, UnitIdentity]:
    """unit-w1 bound by the API, unit-w2 by the CLI; both enrolled the way a unit does."""
    tmp = tmp_path_factory.mktemp("units")
    r = call(hq, "POST", "/v1/org/enroll-codes", tokens["root"],
             json={"unit_id": "unit-w1", "window_id": "W1"})
    assert r.status_code == 201, r.text
    first = enrolled_by_code(hq, tmp, "unit-w1", r.json()["code"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert hq_main(["enroll-code", "--data", str(hq.root / "data"), "--unit", "unit-w2",
                        "--window", "W2"]) == 0
    second = enrolled_by_code(hq, tmp, "unit-w2", out.getvalue().strip())
    return {"unit-w1": first, "unit-w2": second}


def client(hq: EmbeddedHQ, ident: UnitIdentity) -> HQClient:
    return HQClient.from_identity(hq.url, ident)


def test_a_code_for_an_unknown_window_binds_nothing(hq: EmbeddedHQ, tokens: dict[str, str],
                                                    tree: None) -> None:
    r = call(hq, "POST", "/v1/org/enroll-codes", tokens["root"],
             json={"unit_id": "unit-x", "window_id": "W9"})
    assert r.status_code == 422 and "no window 'W9'" in r.json()["detail"]
    assert hq_main(["enroll-code", "--data", str(hq.root / "data"), "--unit", "unit-x",
                    "--window", "W9"]) == 1
    tree_ids = [w["units"] for b in call(hq, "GET", "/v1/org/tree", tokens["root"]).json()
                for h in b["halls"] for w in h["windows"]]
    assert all("unit-x" not in u for u in tree_ids)


def test_events_are_filed_under_the_window_and_found_by_branch(
        hq: EmbeddedHQ, tokens: dict[str, str], units: dict[str, UnitIdentity]) -> None:
    for unit, txn_id in (("unit-w1", "tx-1"), ("unit-w2", "tx-2")):
        c = client(hq, units[unit])
        assert c.post_events(txn(txn_id, unit, 0, "1001", "c1", 5)) == (3, 0)
        c.close()
    found = {b: [(t["txn_id"], t["branch_id"]) for t in call(
        hq, "GET", f"/v1/transactions?branch={b}", tokens["root"]).json()] for b in ("B1", "B2")}
    assert found == {"B1": [("tx-1", "B1")], "B2": [("tx-2", "B2")]}
    # The branch manager of B2 sees its branch's tree and units only.
    tree = call(hq, "GET", "/v1/org/tree", tokens["bm2"]).json()
    assert [b["branch_id"] for b in tree] == ["B2"]
    assert tree[0]["halls"][0]["windows"][0]["units"] == ["unit-w2"]
    seen = [u["unit_id"] for u in call(hq, "GET", "/v1/org/units", tokens["bm2"]).json()]
    assert seen == ["unit-w2"]
    hall = call(hq, "GET", "/v1/org/units", tokens["hs1"]).json()
    assert [(u["unit_id"], u["window_id"], u["branch_id"]) for u in hall] == [
        ("unit-w1", "W1", "B1")]


def overview(hq: EmbeddedHQ, token: str, unit: str) -> dict[str, Any]:
    rows = call(hq, "GET", "/v1/org/units", token).json()
    return next(r for r in rows if r["unit_id"] == unit)


def config_event(unit: str, minute: float, type_: str, **data: Any) -> EventEnvelope:
    return ev(type_, unit, minute, "c1", **data)


def test_config_pull_brings_each_new_version_and_hq_knows_what_the_unit_did(
        hq: EmbeddedHQ, tokens: dict[str, str], units: dict[str, UnitIdentity]) -> None:
    root, c = tokens["root"], client(hq, units["unit-w1"])
    try:
        got = c.fetch_config(None)
        assert got is not None
        etag1, body1 = got
        doc1 = json.loads(body1)
        assert [s["staff_id"] for s in doc1["roster"]["staff"]] == ["1001"]
        assert doc1["rules"]["off_seat_alert_s"] == [90.0, 300.0, 600.0]
        assert c.fetch_config(etag1) is None  # 304: nothing new

        r = call(hq, "POST", "/v1/org/rules", root,
                 json={"level": "window", "node_id": "W1", "rating_window_s": 25})
        assert [v["window_id"] for v in r.json()["new_versions"]] == ["W1"]
        got = c.fetch_config(etag1)
        assert got is not None
        etag2, body2 = got
        doc2 = json.loads(body2)
        assert etag2 != etag1 and int(doc2["version"]) == int(doc1["version"]) + 1
        assert doc2["rules"]["rating_window_s"] == 25.0

        c.post_events([config_event("unit-w1", 30, "config_applied", etag=etag2,
                                    version=doc2["version"], sections=["roster", "rules"])])
        row = overview(hq, root, "unit-w1")
        assert (row["config_version"], row["config_latest"], row["config_current"]) == (
            int(doc2["version"]), int(doc2["version"]), True)
        assert row["config_refused_version"] is None

        call(hq, "POST", "/v1/org/rules", root,
             json={"level": "window", "node_id": "W1", "rating_window_s": 30})
        got = c.fetch_config(etag2)
        assert got is not None
        etag3, body3 = got
        c.post_events([config_event("unit-w1", 40, "config_refused", etag=etag3,
                                    problems=["rules.rating_window_s: too long for us"])])
        row = overview(hq, root, "unit-w1")
        assert row["config_version"] == int(doc2["version"])  # still the last good one
        assert row["config_refused_version"] == int(json.loads(body3)["version"])
        assert row["config_refused_problems"] == ["rules.rating_window_s: too long for us"]
        assert row["config_current"] is False
        # An older outcome arriving late changes nothing.
        c.post_events([config_event("unit-w1", 20, "config_applied", etag=etag1,
                                    version=doc1["version"])])
        assert overview(hq, root, "unit-w1")["config_version"] == int(doc2["version"])
    finally:
        c.close()


def test_the_sync_heartbeat_reaches_the_units_page(
        hq: EmbeddedHQ, tokens: dict[str, str], units: dict[str, UnitIdentity],
        tmp_path: Path) -> None:
    clock = UnitClock.media(lambda: 0.0, dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC))
    Store(tmp_path / "counterunit.db", EventContext("unit-w2", "c-1", "boot", clock)).close()
    (tmp_path / "status").mkdir()
    (tmp_path / "status" / "unit.json").write_text(json.dumps({"clock_synced": True}))
    cfg = SyncConfig.model_validate({"hq_url": "https://localhost", "config_poll_s": 300})
    c, outbox = client(hq, units["unit-w2"]), Outbox(tmp_path / "counterunit.db")
    runner = SyncRunner(outbox, c, cfg, zoneinfo.ZoneInfo("UTC"),
                        inbox=ConfigInbox(tmp_path / "hq-config"), rng=random.Random(1))
    try:
        runner.step(0)
        assert overview(hq, tokens["root"], "unit-w2")["status_utc"] is None  # not yet due
        runner.step(61)
        row = overview(hq, tokens["root"], "unit-w2")
        assert row["status_utc"] is not None and row["backlog_events"] == 0
        assert row["clock_synced"] is True and row["disk_free_bytes"] > 0
        assert row["silent"] is False
    finally:
        c.close()
        outbox.close()
    r = requests.post(hq.url + "/v1/units/status", json={"utc": "2026-01-01T00:00:00Z",
                                                         "backlog": {"events": 0}},
                      **tls(hq, None))
    assert r.status_code == 401


def test_writes_need_the_scope_and_bad_values_name_field_and_rule(
        hq: EmbeddedHQ, tokens: dict[str, str], tree: None) -> None:
    for who in ("bm2", "val"):
        r = call(hq, "POST", "/v1/org/branches", tokens[who],
                 json={"branch_id": "B3", "name": "x"})
        assert r.status_code == 403
    assert call(hq, "POST", "/v1/org/branches", None, json={}).status_code == 401
    r = call(hq, "POST", "/v1/org/branches", tokens["root"],
             json={"branch_id": "B3", "name": "x", "tz": "Beijing"})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("tz: must be an IANA time zone")
    r = call(hq, "DELETE", "/v1/org/branches/B1", tokens["root"])
    assert r.status_code == 409 and "still in use" in r.json()["detail"]
    assert call(hq, "DELETE", "/v1/org/leave/nope", tokens["root"]).status_code == 404
    names = [b["branch_id"] for b in call(hq, "GET", "/v1/org/tree", tokens["root"]).json()]
    assert "B3" not in names


def test_import_through_the_api_with_one_bad_row(hq: EmbeddedHQ, tokens: dict[str, str],
                                                 tree: None) -> None:
    r = call(hq, "GET", "/v1/org/import/staff/template?format=xlsx", tokens["root"])
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb["data"]
    ws.append(["2001", "Good", "AABBCC01", "B1", "", "true"])
    ws.append(["2002", "Bad", "AABBCC02", "B7", "", "true"])
    out = io.BytesIO()
    wb.save(out)
    before = call(hq, "GET", "/v1/org/staff", tokens["root"]).json()
    r = call(hq, "POST", "/v1/org/import/staff?filename=staff.xlsx", tokens["root"],
             data=out.getvalue())
    assert r.status_code == 422
    assert r.json()["rows"] == [{"row": 3, "reason": "home_branch_id: no branch 'B7' "
                                                     "(author it first)"}]
    assert call(hq, "GET", "/v1/org/staff", tokens["root"]).json() == before
    good = b"staff_no,name,home_branch_id\n2001,Good,B1\n"
    r = call(hq, "POST", "/v1/org/import/staff", tokens["root"], data=good)
    assert r.status_code == 200 and r.json()["rows"] == 1
    assert call(hq, "POST", "/v1/org/import/staff", tokens["val"], data=good).status_code == 403


def test_a_branch_manager_authors_its_own_branch_only(hq: EmbeddedHQ, tokens: dict[str, str],
                                                      tree: None) -> None:
    bm2 = tokens["bm2"]
    ok = call(hq, "POST", "/v1/org/staff", bm2,
              json={"staff_no": "3001", "name": "East staff", "home_branch_id": "B2"})
    assert ok.status_code == 200, ok.text
    shift = {"window_id": "W2", "staff_no": "3001", "date": "2026-12-08", "start": "09:00",
             "end": "12:00"}
    assert call(hq, "POST", "/v1/org/shifts", bm2, json=shift).status_code == 200
    refused = [
        ("staff", {"staff_no": "3002", "name": "x", "home_branch_id": "B1"},
         "home_branch_id: must be a branch in your scope (branch:B2)"),
        ("staff", {"staff_no": "1001", "name": "Taken", "home_branch_id": "B2"},
         "staff 1001 belongs to another branch than branch:B2"),
        ("shifts", {**shift, "window_id": "W1"}, "window_id: window W1 is not in your scope"),
        ("windows", {"window_id": "W9", "hall_id": "H2", "name": "x"},
         "only the whole organisation's scope may change window"),
    ]
    for kind, body, detail in refused:
        r = call(hq, "POST", f"/v1/org/{kind}", bm2, json=body)
        assert (r.status_code, r.json()["detail"][:len(detail)]) == (403, detail)
    r = call(hq, "POST", "/v1/org/import/staff", bm2,
             data=b"staff_no,name,home_branch_id\n3003,ok,B2\n3004,no,B1\n")
    assert r.status_code == 422 and [e["row"] for e in r.json()["rows"]] == [3]
    assert "3003" not in [s["staff_no"] for s in call(hq, "GET", "/v1/org/staff", bm2).json()]
    assert call(hq, "POST", "/v1/org/enroll-codes", bm2,
                json={"unit_id": "u-9", "window_id": "W2"}).status_code == 403


@dataclasses.dataclass(eq=False)
class Loop:
    """What the heartbeat reads of a sync runner, and nothing else."""

    client: HQClient
    outbox: Outbox
    inbox: Any
    wall: Any


def test_a_refused_heartbeat_is_logged_once_and_never_raises(
        hq: EmbeddedHQ, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = UnitClock.media(lambda: 0.0, dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC))
    Store(tmp_path / "counterunit.db", EventContext("unit-rv", "c-1", "boot", clock)).close()
    c, outbox = client(hq, enrolled(hq, "unit-rv")), Outbox(tmp_path / "counterunit.db")
    loop = Loop(c, outbox, None, lambda: dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC))
    try:
        assert report_status(loop, 0) is False  # not due before FIRST_AFTER_S
        assert report_status(loop, FIRST_AFTER_S) is True
        hq.deps.ca.revoke_unit("unit-rv", "test")
        with caplog.at_level("WARNING", logger="sync.unit_status"):
            assert report_status(loop, FIRST_AFTER_S + INTERVAL_S) is False
            assert report_status(loop, FIRST_AFTER_S + 2 * INTERVAL_S) is False
        said = [r for r in caplog.records if r.name == "sync.unit_status"]
        assert len(said) == 1 and "403" in said[0].getMessage()
    finally:
        c.close()
        outbox.close()
