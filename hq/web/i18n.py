"""Languages of HQ's pages: gettext catalogues read through Babel, and local times.

Catalogues are the ``.po`` files under ``hq/web/locale/<lang>/`` (one file per part of
HQ, e.g. ``auth.po``, ``pages.po``, so parts never edit the same file); they are
compiled in memory when HQ starts (no ``.mo`` files and no build step). English
strings are the message ids, so the English catalogue may leave entries empty.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
import logging
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from hq.accounts.users import DEFAULT_LANGUAGE, LANGUAGES

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}


def _dir(lang: str) -> str:
    return lang.replace("-", "_")


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The merged catalogue of ``lang`` (every ``.po`` of its folder), loaded once."""
    merged = Translations()
    folder = LOCALE_DIR / _dir(lang)
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=_dir(lang))
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        merged.merge(Translations(buf))
    return merged


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
