"""Logging in to HQ's pages over real HTTPS, as a browser would, for page tests.

``page_session(hq, username, password)`` returns a ``requests.Session`` holding the
session cookie; ``csrf(html)`` finds the form token a page carries, and
``post_form(s, hq, path, data, html)`` posts a form with it. Any test with an
embedded HQ (hq/server/embedded.py) can use these.
"""

from __future__ import annotations

import re
from typing import Any

import requests

from hq.server.embedded import EmbeddedHQ

HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    """The CSRF token in a page's forms (the base layout always has one when logged in)."""
    m = _CSRF.search(html)
    assert m, "no csrf_token field on the page"
    return m.group(1)


def browser(hq: EmbeddedHQ) -> requests.Session:
    """A session that trusts HQ's CA and asks for pages, not JSON."""
    s = requests.Session()
    s.verify = str(hq.ca_pem)
    s.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins over verify
    s.headers.update(HTML)
    return s


def login_response(s: requests.Session, hq: EmbeddedHQ, username: str, password: str,
                   next_url: str = "/") -> requests.Response:
    """GET /login, then POST its form; the answer itself (not followed)."""
    form = s.get(f"{hq.url}/login", params={"next": next_url}, timeout=10)
    assert form.status_code == 200, form.text
    return s.post(f"{hq.url}/login", data={"username": username, "password": password,
                                           "csrf_token": csrf(form.text), "next": next_url},
                  allow_redirects=False, timeout=30)


def page_session(hq: EmbeddedHQ, username: str, password: str) -> requests.Session:
    """A logged-in browser-like session of ``username``."""
    s = browser(hq)
    r = login_response(s, hq, username, password)
    assert r.status_code == 303, (r.status_code, r.text[:500])
    return s


def post_form(s: requests.Session, hq: EmbeddedHQ, path: str, data: dict[str, Any],
              page: str | None = None) -> requests.Response:
    """POST ``data`` to ``path`` with the CSRF token of ``page`` (default: GET /)."""
    html = page if page is not None else s.get(f"{hq.url}/", timeout=10).text
    return s.post(f"{hq.url}{path}", data={**data, "csrf_token": csrf(html)},
                  allow_redirects=False, timeout=30)
