"""Each HQ page shows the Chinese word its own part meant, where an English id is shared.

One embedded HQ (real uvicorn and TLS) for the module and an admin reading zh-CN (the
default). The English ids here used to clash across hq/locale/zh_CN/*.po (the last file
won on every page): ``Transactions`` is the menu's 业务记录 but the report column's
业务笔数, ``Name`` a branch's 名称 but a person's 姓名, ``Days`` a schedule's 星期 but a
report's 日期, ``closed`` an alert thread's 已结束.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from hq.server.embedded import running_hq
from tests.helpers.hq.alerts import cleared, off_seat, seed_org
from tests.helpers.hq.web import page_session

PW = "a long enough password"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with running_hq(tmp_path_factory.mktemp("words")) as hq:
        seed_org(hq.deps.events._conn)
        hq.deps.events.ingest("unit-a", [off_seat(1), off_seat(2, minute=1),
                                         cleared(level=2, minute=3)])
        hq.deps.user_store().create_user("root", PW, "admin")
        s = page_session(hq, "root", PW)
        # The cleared off-seat thread is the one closed thread: HQ's own check may open a
        # "silent unit" thread for unit-a meanwhile (its events are dated in the past).
        closed = s.get(hq.url + "/alerts?status=closed", timeout=20).text
        [tid] = re.findall(r'href="/alerts/(\d+)"', closed)
        out = {}
        for path in ("/", "/alerts", "/org", "/staff", "/schedules", "/reports",
                     f"/alerts/{tid}"):
            r = s.get(hq.url + path, timeout=20)
            assert r.status_code == 200, path
            out["/alerts/thread" if path.startswith("/alerts/") else path] = r.text
        yield out


def _cells(html: str, tag: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m).strip()
            for m in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", html, re.S)]


def test_menu_says_transaction_records(pages: dict[str, str]) -> None:
    assert re.search(r'href="/transactions"[^>]*>业务记录<', pages["/"])


def test_alert_filter_says_ended(pages: dict[str, str]) -> None:
    assert re.search(r'<option value="closed"[^>]*>已结束</option>', pages["/alerts"])
    assert "级别" in _cells(pages["/alerts"], "th")


def test_alert_thread_is_ended_at_its_level(pages: dict[str, str]) -> None:
    html = pages["/alerts/thread"]
    h1 = _cells(html, "h1")[0]
    assert h1.endswith("· 已结束") and "级别 2" in h1 and "暂停服务" not in h1
    assert {"级别", "来源"} <= set(_cells(html, "th"))


def test_org_names_places_and_staff_names_people(pages: dict[str, str]) -> None:
    assert "名称" in pages["/org"] and "姓名" not in pages["/org"]
    assert "全行" in pages["/org"] and "机构" not in pages["/org"]
    assert "姓名" in _cells(pages["/staff"], "th")


def test_schedules_days_are_weekdays(pages: dict[str, str]) -> None:
    assert "星期" in _cells(pages["/schedules"], "th")


def test_report_uses_its_own_words(pages: dict[str, str]) -> None:
    html = pages["/reports"]
    assert "业务笔数" in _cells(html, "th") and "离岗次数" in _cells(html, "th")
    assert {"日期", "生成时间"} <= set(_cells(html, "dt"))
    assert "开始日期" in html and "业务记录" in html  # the period form; the menu
