"""HQ's gettext catalogues, shared by the pages (hq/web) and the exports (hq/reports).

The ``.po`` files live in ``hq/locale/<lang>/`` (``zh_CN``, ``en``), one file per part of
HQ (``auth.po``, ``reports.po``, ``exports.po``...) so parts never edit the same file.
They are read through Babel and compiled in memory on first use (no ``.mo`` files, no
build step). English strings are the message ids, so the English catalogue may leave
entries empty.

All files of a language merge into one catalogue, so one ``(msgctxt, msgid)`` pair must
mean one thing across them (tests/unit/hq/web/test_hq_web_catalogues.py checks it): when the
same English word means two things (``Name`` of a branch vs of a person), the second
meaning gets a ``msgctxt`` and its callers use ``pgettext``. This package sits below
hq/web and hq/reports so both read the same wording for the same column.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent


def folder_name(lang: str) -> str:
    """The catalogue folder of ``lang``: ``zh-CN`` -> ``zh_CN``."""
    return lang.replace("-", "_")


@functools.cache
def translations(lang: str) -> Translations:
    """The merged catalogue of ``lang`` (every ``.po`` of its folder), loaded once.

    An unknown language gives an empty catalogue (every message shows its English id).
    """
    merged = Translations()
    for po in sorted((LOCALE_DIR / folder_name(lang)).glob("*.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=folder_name(lang))
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        merged.merge(Translations(buf))
    return merged


def pgettext(lang: str, context: str | None, message: str) -> str:
    """``message`` in ``lang`` as meant in ``context``; no context means plain gettext.

    A context with no entry of its own falls back to the plain entry, so a call site that
    passes a context for a whole family of values (``pgettext("alert", t.status)``) only
    needs contextual entries for the values that clash.
    """
    t = translations(lang)
    if context is None:
        return str(t.gettext(message))
    missing = object()
    key = f"{context}\x04{message}"
    # Babel has no "has an entry" call; pgettext alone cannot tell a miss from a match.
    found = t._catalog.get(key, missing)
    return str(t.gettext(message)) if found is missing else str(found)
