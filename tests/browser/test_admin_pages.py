"""Admin pages of other parts, in the browser as the brief's checks ask: the audit page
lists the recording views, and a roster import with one bad row imports nothing."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from .conftest import log_in
from .site import Site


def test_audit_page_lists_the_views(site: Site, page: Page) -> None:
    log_in(page, site, "auditor", "/transactions/unit-b1/b1-t1")
    page.evaluate("() => { const v = document.getElementById('clip');"
                  " v.muted = true; v.play(); }")
    page.wait_for_function("() => document.getElementById('clip').currentTime > 0.5")
    page.goto(site.url + "/audit?action=recordings")
    rows = page.locator("table tbody tr").all_inner_texts()
    mine = [r for r in rows if "unit-b1/b1-t1" in r and "aud" in r]
    assert len(mine) >= 2, rows  # the page view and at least one play request
    records = site.hq.deps.audit.query(actor="aud", object_id="unit-b1/b1-t1", limit=100)
    assert {r.action for r in records} >= {"transaction_view", "clip_play"}


def test_roster_import_with_one_bad_row_imports_nothing(site: Site, page: Page,
                                                        tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("staff_no,name,badge_uid,home_branch_id,photo_id,active\n"
                      "S901,赵敏,,A,,true\n"
                      "S902,,,A,,true\n"
                      "S903,钱伟,,A,,true\n", encoding="utf-8")
    log_in(page, site, "admin", "/staff")
    form = page.locator('form[action="/org/import/staff"]')
    form.locator('input[type="file"]').set_input_files(str(roster))
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    errors = page.locator("#row-errors tbody tr").all_inner_texts()
    assert len(errors) == 1, errors
    assert errors[0].split()[0] == "3"  # the header is row 1
    assert "name" in errors[0]
    with site.db() as conn:
        made = conn.execute("SELECT staff_no FROM org_staff WHERE staff_no IN "
                            "('S901', 'S902', 'S903')").fetchall()
    assert made == []
