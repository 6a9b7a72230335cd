"""``counterunit status`` counts events set aside because HQ refused them (issue 13.2)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from firmware.status.render import report_dict
from firmware.status.report import build_report
from sync.outbox import Outbox, Refusal
from tests.unit.firmware.status.test_status_report import (
    config,
    probes,
    screen,
    with_database,
    write_status,
)


def test_refused_events_are_counted_on_screen_and_in_json(tmp_path: Path) -> None:
    with_database(tmp_path)
    write_status(tmp_path)
    outbox = Outbox(tmp_path / "counterunit.db")
    [first, second, *_] = [e.uuid for e in outbox.next_event_batch(10, 1 << 20)]
    outbox.set_aside([Refusal(first, 200, "rejected", "data.rating", "past int64"),
                      Refusal(second, 409, "uuid_taken", "event", "taken")],
                     dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC))
    outbox.close()
    report = build_report(config(tmp_path, sync=False), probes())
    text = " ".join(screen(report).split())
    assert "2 events refused by HQ, set aside" in text
    assert "backlog 3 events, 0 clips" in text  # the refused two are not backlog
    doc = json.loads(json.dumps(report_dict(report)))
    assert doc["db"]["backlog"]["refused"] == 2
