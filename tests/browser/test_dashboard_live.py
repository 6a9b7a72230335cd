"""The live dashboard in a real browser: tiles follow a unit's events within 2 s, and a
new alert is highlighted, sounded and acknowledged from the page."""

from __future__ import annotations

import datetime as dt
import statistics
import time

from playwright.sync_api import Page

from .conftest import log_in
from .site import Site

SAMPLES = 20


def _tile_shows(page: Page, window: str, selector: str, text: str,
                timeout_ms: int = 5000) -> None:
    page.wait_for_function(
        "([w, sel, text]) => { const t = document.getElementById('window-' + w);"
        " const el = t && t.querySelector(sel); return el && el.textContent.trim() === text; }",
        arg=[window, selector, text], timeout=timeout_ms)


def test_tile_follows_events_within_two_seconds(site: Site, page: Page) -> None:
    log_in(page, site, "admin")
    page.wait_for_function("() => document.getElementById('live-state').dataset.live"
                           " === 'open'")
    unit = site.units["unit-a2"]
    base = dt.datetime.now(dt.UTC)
    latencies = []
    for i in range(SAMPLES):
        rating = i % 5 + 1
        sent = time.monotonic()
        unit.send("rating", base + dt.timedelta(seconds=i), txn_id=f"live-{i}",
                  staff_id="S200", outcome="rated", rating=rating, key=str(rating),
                  suspect=False)
        _tile_shows(page, "A-W2", ".rating", str(rating))
        latencies.append(time.monotonic() - sent)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    print(f"\nevent -> tile latency over {SAMPLES} events: p50 {p50 * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms")
    assert p99 <= 2.0, latencies
    # A transaction start shows the customer, in the window's zone.
    unit.send("transaction_started", base + dt.timedelta(seconds=60), txn_id="live-txn",
              staff_id="S200", session_id="sess", clip_id="live-txn")
    page.wait_for_function("() => document.querySelector('#window-A-W2 .tile-customer')"
                           ".textContent.includes('客户在柜台')")
    assert "Asia/Shanghai" in page.locator("#window-A-W2 .tile-customer").inner_text()


def test_new_alert_is_highlighted_sounded_and_acknowledged(site: Site, page: Page) -> None:
    log_in(page, site, "admin")
    page.wait_for_function("() => document.getElementById('live-state').dataset.live"
                           " === 'open'")
    unit = site.units["unit-a2"]
    t = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)  # after the other test's events
    sounds = page.evaluate("() => window.cuDashboard.sounds")
    unit.send("login", t, staff_id="S200", staff_number="S200", name="李强",
              session_id="sa2")
    unit.send("absence_started", t + dt.timedelta(seconds=1), staff_id="S200",
              session_id="sa2", absence_id="ab1", clip_id=None, counter_open=True)
    unit.send("alert_raised", t + dt.timedelta(seconds=181), staff_id="S200",
              session_id="sa2", alert="off_seat", level=1, absence_id="ab1", away_s=180.0)
    tile = page.locator("#window-A-W2")
    page.wait_for_function("() => { const t = document.getElementById('window-A-W2');"
                           " return t.dataset.alertNew === '1' && t.dataset.status ==="
                           " 'off_seat'; }")
    assert "alert-new" in (tile.get_attribute("class") or "")
    assert tile.get_attribute("data-level") == "1"
    page.wait_for_function(f"() => window.cuDashboard.sounds > {sounds}")
    thread_id = int(tile.get_attribute("data-alert") or "0")
    tile.locator("button.ack").click()
    page.wait_for_function("() => document.getElementById('window-A-W2').dataset.alertNew"
                           " === '0'")
    assert "已由 root 确认" in page.locator("#window-A-W2 .tile-alert").inner_text()
    with site.db() as conn:
        row = conn.execute("SELECT acked_by FROM alert_threads WHERE thread_id = ?",
                           [thread_id]).fetchone()
    assert row["acked_by"] == "root"
