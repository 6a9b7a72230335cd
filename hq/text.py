"""Text from units and users made safe to show: on pages, in CSV, XLSX and PDF exports.

Ids and names reach HQ from units and from imports; a right-to-left override (U+202E)
or a control character in one would reorder or hide the text around it wherever it is
shown, and a cell that starts like a formula (``=HYPERLINK(...)``) runs as one when a
spreadsheet opens the export. Both the web pages (hq/web/render.py) and the exports
(hq/reports/exports/) ask here, so neither imports the other.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from markupsafe import Markup

# Characters that change how text around them is shown, or are not shown at all:
# controls, format characters (bidi overrides and isolates, zero-width), private use,
# surrogates, unassigned, line and paragraph separators.
_HIDDEN = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
_KEEP = {"\n", "\t"}

# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV
# Injection"); NUL is already shown as [U+0000] by ``visible``.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def visible(value: Any) -> Any:
    """Text with control/format/bidi characters replaced by ``[U+XXXX]``; else unchanged.

    Newline and tab stay; ordinary non-ASCII (Chinese names) stays. ``Markup`` (already
    safe HTML) and non-text values pass unchanged.
    """
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    if value.isprintable():
        return value
    return "".join(c if c in _KEEP or unicodedata.category(c) not in _HIDDEN
                   else f"[U+{ord(c):04X}]" for c in value)


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would evaluate ``text`` typed into a cell."""
    return text.startswith(FORMULA_START)


def cell_text(value: str) -> str:
    """A text cell for CSV: ``visible``, and a leading apostrophe if it would otherwise
    start a formula (spreadsheets show the rest as text). Numbers never come here."""
    text: str = visible(value)
    return "'" + text if looks_like_formula(text) else text
