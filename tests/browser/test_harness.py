"""The browser harness itself: system Chromium reaches the seeded HQ over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from .site import Site, seeded_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with seeded_site(tmp_path_factory.mktemp("site")) as s:
        yield s


def test_chromium_opens_hq_over_https(site: Site, page: Page) -> None:
    resp = page.goto(site.url + "/v1/no-such-thing")
    assert resp is not None and resp.status == 404
    assert resp.url.startswith("https://localhost:")
    with site.db() as conn:
        rows = conn.execute("SELECT window_id, state FROM live_windows ORDER BY window_id"
                            ).fetchall()
    assert [r["window_id"] for r in rows] == ["A-W1", "A-W2", "B-W1"]
