"""Languages of HQ's pages: the template helpers over HQ's catalogues, and local times.

The catalogues and their loader are :mod:`hq.locale` (shared with the exports, which
must not import hq/web); this module turns them into the ``_``/``pgettext``/``ngettext``
callables pages use and picks a page's language.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable
from typing import Any

from hq.accounts.users import DEFAULT_LANGUAGE, LANGUAGES
from hq.locale import pgettext, translations

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}


def pick_language(*candidates: str | None) -> str:
    """The first candidate HQ speaks (``zh-CN``/``zh_CN``/``en``...), else the default."""
    for c in candidates:
        if not c:
            continue
        norm = c.strip().replace("_", "-")
        for lang in LANGUAGES:
            if norm.lower() == lang.lower() or norm.lower().split("-")[0] == lang.lower():
                return lang
    return DEFAULT_LANGUAGE


def gettext_for(lang: str) -> Callable[..., str]:
    """``_(msgid, **values)``: the translation of ``msgid``, %-formatted with ``values``."""
    t = translations(lang)

    def _(msgid: str, **values: Any) -> str:
        text = t.gettext(msgid)
        return text % values if values else text

    return _


def ngettext_for(lang: str) -> Callable[..., str]:
    """``ngettext(singular, plural, n, **values)``; ``%(num)d`` is ``n``."""
    t = translations(lang)

    def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
        return t.ngettext(singular, plural, n) % {"num": n, **values}

    return ngettext


def pgettext_for(lang: str) -> Callable[..., str]:
    """``pgettext(context, msgid, **values)``: ``msgid`` as meant in ``context``.

    For the English words that mean two things across HQ's parts (``Name`` of a branch
    vs ``Name`` of a person); see :func:`hq.locale.pgettext` for the fallback.
    """

    def _pgettext(context: str, msgid: str, **values: Any) -> str:
        text = pgettext(lang, context, msgid)
        return text % values if values else text

    return _pgettext


def local_time(value: dt.datetime | None, zone: str | None,
               fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """``value`` (UTC; naive means UTC) in IANA ``zone``, with the zone named.

    ``2026-03-02 17:00:00 Asia/Shanghai``; an unknown or missing zone shows UTC,
    named as such, rather than a wrong local time. None shows as a dash.
    """
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        tz: dt.tzinfo = zoneinfo.ZoneInfo(zone) if zone else dt.UTC
        name = zone or "UTC"
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r; showing UTC", zone)
        tz, name = dt.UTC, "UTC"
    return f"{value.astimezone(tz).strftime(fmt)} {name}"
