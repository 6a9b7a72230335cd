"""HQ config documents: validation names every bad key; the hand-over folder's life cycle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware.config import ConfigError, parse_config
from firmware.hq_config import ConfigInbox, Delivery, merge, parse_hq_config

GOOD = {
    "version": "2026-11-22a",
    "roster": {"staff": [{"staff_id": "s-9", "name": "Wang Fang", "staff_number": "B7",
                          "badge_uid_sha256": ["ab" * 32]}]},
    "schedule": {"shifts": [{"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}]},
    "rules": {"rating_window_s": 20, "off_seat_alert_s": [60, 120, 240]},
}


@pytest.mark.parametrize("body,words", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (json.dumps({**GOOD, "colour": "red"}).encode(), "colour: unknown key"),
    (json.dumps({**GOOD, "rules": {"off_seat_alert_s": [300, 120, 600]}}).encode(),
     "off_seat_alert_s must be strictly ascending"),
    (json.dumps({**GOOD, "rules": {"rating_window_s": 0.5}}).encode(),
     "rules.rating_window_s: Input should be greater than or equal to 2"),
    (json.dumps({"roster": {"staff": [{"staff_id": "s-1", "name": "A"}]}}).encode(),
     "roster.staff.0.staff_number: required key is missing"),
    (json.dumps({"schedule": {"shifts": [{"days": ["mon"], "start": "18:00",
                                          "end": "09:00"}]}}).encode(),
     "must be after start"),
    ("{\"version\": \"\u00e9\"}".encode("latin-1"), "not valid JSON"),
])
def test_bad_documents_are_refused_with_the_key_and_the_rule(body: bytes, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_hq_config(body)
    assert any(words in p for p in err.value.problems), err.value.problems


def test_good_document_replaces_only_the_sections_it_has(tmp_path: Path) -> None:
    local = parse_config({"camera": {"type": "file", "path": tmp_path / "v.mp4"},
                          "rules": {"rating_window_s": 12}})
    doc = parse_hq_config(json.dumps({"schedule": GOOD["schedule"]}).encode())
    merged, sections = merge(local, doc)
    assert sections == ["schedule"]
    assert merged.rules.rating_window_s == 12, "a section HQ left out stays local"
    assert len(merged.schedule.shifts) == 1
    merged, sections = merge(local, parse_hq_config(json.dumps(GOOD).encode()))
    assert sections == ["roster", "rules", "schedule"]
    assert merged.rules.off_seat_alert_s == (60, 120, 240)


def test_inbox_life_cycle(tmp_path: Path) -> None:
    inbox = ConfigInbox(tmp_path / "hq-config")
    assert inbox.take() is None and inbox.last_etag() is None and inbox.current() is None
    inbox.deliver('"e1"', b'{"version": "1"}')
    got = inbox.take()
    assert got == Delivery('"e1"', b'{"version": "1"}')
    assert inbox.take() == got, "a delivery stays until its outcome is recorded"
    inbox.mark(got, applied=True)
    assert inbox.take() is None and inbox.current() == got and inbox.last_etag() == '"e1"'

    bad = Delivery('"e2"', b"{broken")
    inbox.deliver(bad.etag, bad.body)
    inbox.mark(bad, applied=False, problems=["not valid JSON"])
    assert inbox.current() == got, "the last good config stays in force"
    # Asking HQ with the refused ETag: the same broken document is not fetched again.
    assert inbox.last_etag() == '"e2"'
    refused = json.loads((tmp_path / "hq-config" / "refused.json").read_text())
    assert refused["problems"] == ["not valid JSON"]

    inbox.deliver('"e3"', b"{}")
    inbox.mark(Delivery('"e3"', b"{}"), applied=True)
    assert inbox.last_etag() == '"e3"' and not (tmp_path / "hq-config" / "refused.json").exists()


def test_a_torn_or_foreign_file_counts_as_absent(tmp_path: Path) -> None:
    inbox = ConfigInbox(tmp_path)
    (tmp_path / "incoming.json").write_text('{"etag": "x", "bo')
    (tmp_path / "current.json").write_text('{"etag": "x", "body": 3}')
    assert inbox.take() is None and inbox.current() is None and inbox.last_etag() is None
