"""Pure parts of HQ's pages: visible control characters, local times, languages, sessions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hq.accounts.users import UserStore
from hq.web.i18n import gettext_for, local_time, ngettext_for, pick_language
from hq.web.render import ENV, visible

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("text", "shown"), [
    ("unit-1", "unit-1"),
    ("窗口 3", "窗口 3"),
    ("evil\u202etxt.exe", "evil[U+202E]txt.exe"),  # right-to-left override
    ("a\u2066b\u2069", "a[U+2066]b[U+2069]"),  # isolates
    ("nul\x00bell\x07", "nul[U+0000]bell[U+0007]"),
    ("zero\u200bwidth", "zero[U+200B]width"),
    ("line\nbreak\ttab", "line\nbreak\ttab"),
    ("esc\x1b[31m", "esc[U+001B][31m"),
])
def test_visible(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_templates_escape_and_show_hidden_characters() -> None:
    html = ENV.from_string("<td>{{ v }}</td><td>{{ n }}</td>").render(
        v="<script>x</script>\u202e", n=5)
    assert html == "<td>&lt;script&gt;x&lt;/script&gt;[U+202E]</td><td>5</td>"


@pytest.mark.parametrize(("value", "zone", "shown"), [
    (T0, "Asia/Shanghai", "2026-03-02 17:00:00 Asia/Shanghai"),
    (T0, "Asia/Urumqi", "2026-03-02 15:00:00 Asia/Urumqi"),
    (T0, "Europe/London", "2026-03-02 09:00:00 Europe/London"),
    (dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC), "Europe/London",
     "2026-07-01 10:00:00 Europe/London"),  # summer time
    (T0.replace(tzinfo=None), "Asia/Shanghai", "2026-03-02 17:00:00 Asia/Shanghai"),
    (T0, None, "2026-03-02 09:00:00 UTC"),
    (T0, "Mars/Olympus", "2026-03-02 09:00:00 UTC"),
    (T0, "../../etc/passwd", "2026-03-02 09:00:00 UTC"),
    (None, "Asia/Shanghai", "—"),
])
def test_local_time(value: dt.datetime | None, zone: str | None, shown: str) -> None:
    assert local_time(value, zone) == shown


@pytest.mark.parametrize(("candidates", "lang"), [
    ((None,), "zh-CN"), (("en",), "en"), (("en-GB",), "en"), (("zh_CN",), "zh-CN"),
    (("fr", "en"), "en"), (("",), "zh-CN"), (("xx",), "zh-CN"),
])
def test_pick_language(candidates: tuple[str | None, ...], lang: str) -> None:
    assert pick_language(*candidates) == lang


def test_catalogues_translate_and_format() -> None:
    assert gettext_for("zh-CN")("Log in") == "登录"
    assert gettext_for("en")("Log in") == "Log in"
    assert gettext_for("zh-CN")("User %(user)s added.", user="ann") == "已添加用户 ann。"
    assert gettext_for("en")("hall_supervisor") == "Hall supervisor"
    assert gettext_for("zh-CN")("not in any catalogue") == "not in any catalogue"
    assert ngettext_for("en")("%(num)d window", "%(num)d windows", 2) == "2 windows"


@pytest.mark.parametrize(("age_idle", "age_total", "live"), [
    (dt.timedelta(minutes=29), dt.timedelta(minutes=29), True),
    (dt.timedelta(minutes=30), dt.timedelta(minutes=30), False),  # idle limit, exclusive
    (dt.timedelta(minutes=10), dt.timedelta(hours=11, minutes=59), True),
    (dt.timedelta(minutes=10), dt.timedelta(hours=12), False),  # absolute limit
])
def test_session_expiry(tmp_path: Path, age_idle: dt.timedelta, age_total: dt.timedelta,
                        live: bool) -> None:
    users = UserStore(tmp_path / "users.db")
    try:
        users.create_user("ann", "a long enough password", "admin")
        sid, csrf = users.sessions.create("ann", "10.0.0.1", T0)
        # Keep it busy every 10 minutes until ``age_total - age_idle``, then stay idle.
        t = T0
        while t + dt.timedelta(minutes=10) <= T0 + age_total - age_idle:
            t += dt.timedelta(minutes=10)
            assert users.sessions.lookup(sid, t) is not None
        found = users.user_for_session(sid, T0 + age_total)
        assert (found is not None) is live
        if found:
            assert found[1] == csrf and found[0].username == "ann"
        assert users.sessions.lookup("not-a-session", T0) is None
        assert users.sessions.purge(T0 + dt.timedelta(days=1)) == 1
        assert users.sessions.live(T0) == []
    finally:
        users.close()


def test_session_id_is_stored_hashed_and_ends_on_revocation(tmp_path: Path) -> None:
    import sqlite3

    users = UserStore(tmp_path / "users.db")
    try:
        users.create_user("ann", "a long enough password", "admin")
        sid, _ = users.sessions.create("ann", "10.0.0.1", T0)
        conn = sqlite3.connect(tmp_path / "users.db")
        (stored,) = conn.execute("SELECT session_sha256 FROM sessions").fetchone()
        conn.close()
        assert sid not in stored and len(stored) == 64
        assert users.revoke_access("ann") == 1
        assert users.user_for_session(sid, T0) is None
    finally:
        users.close()


@pytest.mark.parametrize(("target", "safe"), [
    ("/users?x=1", "/users?x=1"), ("/", "/"), (None, "/"), ("", "/"),
    ("//evil.example/", "/"), ("/\\evil.example", "/"), ("/\t/evil.example", "/"),
    ("/\n/evil.example", "/"), ("https://evil.example/", "/"), ("users", "/"),
    ("/a\\b", "/"),
])
def test_safe_next(target: str | None, safe: str) -> None:
    from hq.web.login import safe_next

    assert safe_next(target) == safe
