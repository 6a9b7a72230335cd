"""One bad event is refused alone (field and rule named); the good ones of its batch are
stored; no value of an event makes HQ answer 5xx (issue 13 item 2)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
import requests

from tests.helpers.hq.api import HQ, enrolled, event, hq_fixture, tls

hq = hq_fixture(backends=True)

# Each poison: (what to change in a good event, the field HQ must name). Raw JSON text is
# used where Python's json would not write the value (NaN) or the value's type matters.
POISONS: dict[str, tuple[dict[str, Any], str]] = {
    "mono_nan": ({"mono": float("nan")}, "mono"),
    "mono_inf": ({"mono": float("inf")}, "mono"),
    "utc_year_1_with_offset": ({"utc": "0001-01-01T00:00:00+05:00"}, "utc"),
    "utc_year_9999_minus_offset": ({"utc": "9999-12-31T23:59:59-05:00"}, "utc"),
    "rating_past_int64": ({"type": "rating", "data": {"txn_id": "t1", "rating": 2**63}},
                          "data.rating"),
    "size_past_int64": ({"type": "clip_closed", "data": {"clip_id": "c1", "size": 2**64}},
                        "data.size"),
    "nested_nan": ({"data": {"txn_id": "t2", "deep": [1, {"x": float("nan")}]}},
                   "data.deep.1.x"),
    "bidi_in_staff_id": ({"data": {"txn_id": "t3", "staff_id": "s\u202e1"}},
                         "data.staff_id"),
    "control_in_counter_id": ({"counter_id": "c\x001"}, "counter_id"),
    "long_text": ({"data": {"note": "x" * 9000}}, "data.note"),
}


def post(hq: HQ, ident: Any, events: list[dict[str, Any]]) -> requests.Response:
    body = json.dumps({"events": events}, allow_nan=True)  # NaN as the literal, on purpose
    return requests.post(f"{hq.url}/v1/events", data=body,
                         headers={"Content-Type": "application/json"}, **tls(hq, ident))


@pytest.mark.parametrize("name", sorted(POISONS))
def test_a_poisoned_event_is_refused_alone_and_named(hq: HQ, name: str) -> None:
    unit = f"unit-poison-{name.replace('_', '-')}"[:60]
    ident = enrolled(hq, unit)
    change, field = POISONS[name]
    before, after = event(unit), event(unit)
    bad = {**event(unit), **change}
    resp = post(hq, ident, [before, bad, after])
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert (answer["accepted"], answer["duplicates"]) == (2, 0)
    [rejected] = answer["rejected"]
    assert (rejected["uuid"], rejected["field"]) == (bad["uuid"], field), rejected
    assert rejected["reason"]
    assert hq.deps.events.event(before["uuid"]) is not None
    assert hq.deps.events.event(after["uuid"]) is not None
    assert hq.deps.events.event(bad["uuid"]) is None
    again = post(hq, ident, [bad])  # the same answer every time: never stored half
    assert again.json()["rejected"][0]["field"] == field


def test_a_year_1970_clock_is_still_stored(hq: HQ) -> None:
    # A unit without a real-time clock reports 1970 until NTP; that is not refused.
    ident = enrolled(hq, "unit-epoch")
    resp = post(hq, ident, [{**event("unit-epoch"), "utc": "1970-01-01T00:00:05Z",
                             "clock_synced": False}])
    assert resp.json() == {"accepted": 1, "duplicates": 0, "rejected": []}


@pytest.mark.parametrize(("body", "status", "named"), [
    ('{"events": {"not": "a list"}}', 422, "events"),
    ('{"events": [1, 2]}', 422, "events.0"),
    ('{"events": [], "extra": 1}', 422, "extra"),
    ('{"events": [' + "9" * 5000 + "]}", 400, ""),
])
def test_a_wholly_malformed_body_is_4xx_naming_the_field(hq: HQ, body: str, status: int,
                                                          named: str) -> None:
    ident = enrolled(hq, f"unit-malformed-{uuid.uuid4().hex[:8]}")
    resp = requests.post(f"{hq.url}/v1/events", data=body,
                         headers={"Content-Type": "application/json"}, **tls(hq, ident))
    assert resp.status_code == status, resp.text
    assert named in resp.json()["detail"]


def test_control_and_bidi_characters_in_unit_and_clip_ids_are_400(hq: HQ) -> None:
    resp = requests.post(f"{hq.url}/v1/enroll", json={
        "unit_id": "unit\u202e-1", "code": "x" * 16, "csr_pem": "-"}, **tls(hq, None))
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_unit_id")
    assert "\\u202e" in resp.json()["detail"]  # named, and escaped rather than echoed
    ident = enrolled(hq, "unit-clip-ids")
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    {"clip_id": "clip\u20661", "sha256": "0" * 64}.items())
    resp = requests.post(f"{hq.url}/v1/uploads", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": meta},
        **tls(hq, ident))
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_input")
    assert "clip id" in resp.json()["detail"]
