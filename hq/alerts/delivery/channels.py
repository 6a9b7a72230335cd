"""Sending one message through apprise, and the signed-webhook channel apprise lacks.

Every channel is an apprise URL. Where the channel lets HQ name the delivery (json://,
form://, mailto:// headers, hmac://) the delivery's idempotency key travels with it as
``X-Counterunit-Delivery``, so a receiver can drop the copy a crash-and-retry may send.

``hmac://host[:port]/path?secret=S`` (``hmacs://`` for HTTPS) posts a JSON body with
``X-Counterunit-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes, key S>``.
apprise's json:// takes fixed custom headers only, and the signature must be computed
over the body it serialises, which it does not expose; so this one channel is a plugin
registered with apprise (``apprise.decorators.notify``), sent by ``requests``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise
import requests
from apprise.decorators import notify

log = logging.getLogger(__name__)
# The signed-webhook plugin logs where apprise captures it, so its reason reaches the outbox.
_alog = logging.getLogger("apprise")

DELIVERY_HEADER = "X-Counterunit-Delivery"
SIGNATURE_HEADER = "X-Counterunit-Signature"
# Schemes that turn ``+Name=value`` URL arguments into request (or mail) headers.
HEADER_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"}
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SendResult:
    """One attempt's outcome, as the outbox records it."""

    ok: bool
    detail: str
    ms: float


def signature(secret: str, body: bytes) -> str:
    """The header value a receiver recomputes: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _hmac_post(body: str, title: str, notify_type: str, meta: dict[str, Any],
               secure: bool) -> bool:
    qsd = dict(meta.get("qsd") or {})
    secret = qsd.pop("secret", "")
    delivery = qsd.pop("delivery", "")
    if not secret:
        _alog.warning("hmac channel %s has no ?secret=; not sent", meta.get("host"))
        return False
    port = f":{meta['port']}" if meta.get("port") else ""
    url = f"{'https' if secure else 'http'}://{meta.get('host', '')}{port}" \
          f"{meta.get('fullpath') or '/'}"
    raw = json.dumps({"version": "1.0", "title": title, "message": body,
                      "type": str(notify_type), "delivery": delivery},
                     ensure_ascii=False, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, raw),
               "User-Agent": "counterunit-hq"}
    if delivery:
        headers[DELIVERY_HEADER] = delivery
    try:
        r = requests.post(url, data=raw, headers=headers, timeout=TIMEOUT_S,
                          verify=str(qsd.get("verify", "yes")).lower() not in ("no", "0"))
    except requests.RequestException as exc:
        _alog.warning("hmac channel %s: %s", url, exc)
        return False
    if not 200 <= r.status_code < 300:
        _alog.warning("hmac channel %s answered %d", url, r.status_code)
        return False
    return True


@notify(on="hmac", name="Signed JSON webhook (HTTP)")
def _hmac_http(body: str, title: str, notify_type: str, meta: dict[str, Any],
               *args: Any, **kwargs: Any) -> bool:
    return _hmac_post(body, title, notify_type, meta, secure=False)


@notify(on="hmacs", name="Signed JSON webhook (HTTPS)")
def _hmac_https(body: str, title: str, notify_type: str, meta: dict[str, Any],
                *args: Any, **kwargs: Any) -> bool:
    return _hmac_post(body, title, notify_type, meta, secure=True)


def with_delivery_key(url: str, key: str) -> str:
    """``url`` carrying the delivery's idempotency key where the scheme allows it."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("hmac", "hmacs"):
        extra = [("delivery", key)]
    elif scheme in HEADER_SCHEMES:
        extra = [("+" + DELIVERY_HEADER, key)]
    else:
        return url
    query = parse_qsl(parts.query, keep_blank_values=True) + extra
    return urlunsplit(parts._replace(query=urlencode(query, safe="@+{}")))


def redact(url: str) -> str:
    """A URL fit for logs and pages: no password, token or secret."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if "@" in parts.netloc:
        netloc = "***@" + netloc
    query = [(k, "***" if k.lower() in ("secret", "token", "key", "password", "pass")
              else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    path = parts.path
    if parts.scheme.lower() in ("dingtalk", "wecombot", "feishu", "slack", "lark"):
        path = "/***" if path else ""
        netloc = "***"
    return urlunsplit(parts._replace(netloc=netloc, path=path, query=urlencode(query)))


def send(url: str, title: str, body: str, *, key: str = "") -> SendResult:
    """Send one message through apprise; never raises for a channel's failure."""
    start = time.perf_counter()
    target = with_delivery_key(url, key) if key else url
    ap = apprise.Apprise()
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        if not ap.add(target):
            return SendResult(False, f"not an apprise URL apprise can use: {redact(url)}",
                              (time.perf_counter() - start) * 1000)
        try:
            ok = bool(ap.notify(body=body, title=title))
        except Exception as exc:  # a plugin's bug must not stop the outbox
            ok, text = False, f"{type(exc).__name__}: {exc}"
        else:
            text = captured.getvalue().strip() if hasattr(captured, "getvalue") else ""
    ms = (time.perf_counter() - start) * 1000
    detail = "sent" if ok else (" | ".join(text.splitlines())[:500] or "apprise failed")
    return SendResult(ok, detail, ms)
