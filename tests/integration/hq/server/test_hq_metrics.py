"""/metrics of a real HQ (tests/helpers/hq/server.py) after a unit syncs, parsed with
prometheus_client.parser: events by outcome, upload bytes, latency by route template,
outbox depth, units silent; and who may scrape it."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from hq.metrics import DatabaseGauges, admin_check, may_scrape
from hq.web.live.db import conn_for
from tests.helpers.hq.api import TUS, enrolled, event, tls
from tests.helpers.hq.server import running_hq

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(url: str, ca: Path) -> Samples:
    r = requests.get(f"{url}/metrics", verify=str(ca), timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _get(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def test_metrics_after_a_unit_syncs(tmp_path: Path) -> None:
    with running_hq(tmp_path) as hq:
        before = _scrape(hq.url, hq.ca_pem)
        unit = enrolled(hq, "u-metrics")
        batch = [event("u-metrics") for _ in range(3)]
        bad = {**event("u-metrics"), "utc": "not a time"}
        r = requests.post(f"{hq.url}/v1/events", json={"events": [*batch, bad]},
                          **tls(hq, unit))
        assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
        r = requests.post(f"{hq.url}/v1/events", json={"events": batch}, **tls(hq, unit))
        assert r.json()["duplicates"] == 3
        data = b"metrics clip " * 1000
        r = requests.post(f"{hq.url}/v1/uploads", headers={
            **TUS, "Upload-Length": str(len(data)),
            "Upload-Metadata": f"clip_id {_b64('clip-m')},sha256 "
                               f"{_b64(hashlib.sha256(data).hexdigest())}"},
            **tls(hq, unit))
        assert r.status_code == 201, r.text
        where = r.headers["Location"]
        for off in (0, 5000):
            part = data[off:off + 5000] if off == 0 else data[off:]
            r = requests.patch(f"{hq.url}{where}" if where.startswith("/") else where,
                               data=part, headers={
                                   **TUS, "Upload-Offset": str(off),
                                   "Content-Type": "application/offset+octet-stream"},
                               **tls(hq, unit))
            assert r.status_code == 204, r.text
        after = _scrape(hq.url, hq.ca_pem)

        def delta(name: str, **labels: str) -> float:
            return _get(after, name, **labels) - _get(before, name, **labels)

        assert delta("counterunit_hq_events_total", outcome="accepted") == 3
        assert delta("counterunit_hq_events_total", outcome="duplicate") == 3
        assert delta("counterunit_hq_events_total", outcome="rejected") == 1
        assert delta("counterunit_hq_upload_bytes_total") == len(data)
        # Latency by template: two event posts, two PATCHes under {upload_id}; no raw id.
        assert delta("counterunit_hq_request_seconds_count", method="POST",
                     route="/v1/events", status="200") == 2
        assert delta("counterunit_hq_request_seconds_count", method="PATCH",
                     route="/v1/uploads/{upload_id}", status="204") == 2
        assert not any(where.rsplit("/", 1)[-1] in str(k) for k in after)
        assert _get(after, "counterunit_hq_units") >= 1
        assert _get(after, "counterunit_hq_units_silent") == 0  # just heard from
        assert ("counterunit_hq_outbox_depth", (("stage", "delivery"),)) in after

        # A day on, the unit is silent (same gauges, clock moved).
        later = DatabaseGauges(lambda: conn_for(hq.deps),
                               clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        fams = {f.name: f for f in later.collect()}
        assert fams["counterunit_hq_units_silent"].samples[0].value == 1


@pytest.mark.parametrize(("host", "auth", "allowed"), [
    ("127.0.0.1", "", True),
    ("::1", "", True),
    ("127.5.5.5", "", True),
    ("10.1.2.3", "", False),
    ("10.1.2.3", "Bearer admin-token", True),
    ("10.1.2.3", "bearer admin-token", True),
    ("10.1.2.3", "Bearer viewer-token", False),
    ("10.1.2.3", "Bearer ", False),
    ("10.1.2.3", "Basic admin-token", False),
    (None, "", False),
    ("testclient", "", False),
])
def test_who_may_scrape(host: str | None, auth: str, allowed: bool) -> None:
    assert may_scrape(host, auth, lambda t: t == "admin-token") is allowed


def test_admin_check_uses_real_tokens(tmp_path: Path) -> None:
    with running_hq(tmp_path) as hq:
        users = hq.deps.user_store()
        users.create_user("ops-admin", "a long enough password", "admin")
        users.create_user("ops-view", "a long enough password", "viewer")
        admin = users.issue_token("ops-admin").token
        viewer = users.issue_token("ops-view").token
        check = admin_check(hq.deps)
        assert check(admin) and not check(viewer) and not check("nonsense")
