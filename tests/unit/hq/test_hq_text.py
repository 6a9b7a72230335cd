"""hq/text.py: what pages and exports show of text from units and imports."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from hq.text import cell_text, looks_like_formula, visible

ALL_C0 = "".join(chr(i) for i in range(0x20))
ALL_C0_SHOWN = "".join("\t" if i == 9 else "\n" if i == 10 else f"[U+{i:04X}]"
                       for i in range(0x20))


@pytest.mark.parametrize(("value", "shown"), [
    ("unit-1", "unit-1"),
    ("张伟", "张伟"),  # ordinary non-ASCII stays
    ("Zoë Ødegård", "Zoë Ødegård"),
    ("evil\u202etxt.exe", "evil[U+202E]txt.exe"),  # right-to-left override
    ("\u200f\u200e", "[U+200F][U+200E]"),  # right-to-left and left-to-right marks
    ("a\u2066b\u2069", "a[U+2066]b[U+2069]"),  # isolates
    ("zero\u200bwidth\ufeff", "zero[U+200B]width[U+FEFF]"),
    ("line\u2028para\u2029", "line[U+2028]para[U+2029]"),
    ("\ue000private", "[U+E000]private"),
    ("del\x7f c1\x85", "del[U+007F] c1[U+0085]"),
    (ALL_C0, ALL_C0_SHOWN),  # U+0000-U+001F: all but tab and newline shown as codes
    ("", ""),
    (5, 5), (None, None), (-2.5, -2.5),  # not text: unchanged
    (Markup("<b>\u202e</b>"), Markup("<b>\u202e</b>")),  # already-safe HTML: unchanged
])
def test_visible(value: object, shown: object) -> None:
    assert visible(value) == shown
    assert type(visible(value)) is type(shown)


@pytest.mark.parametrize(("text", "formula"), [
    ("=HYPERLINK(\"http://x\",\"y\")", True),
    ("+1", True), ("-2+3", True), ("@SUM(A1)", True), ("\t=1", True), ("\r=1", True),
    ("a=1", False), (" =1", False), ("'=1", False), ("", False), ("张伟", False),
    ("＝1", False),  # a full-width equals sign is text to a spreadsheet
])
def test_looks_like_formula(text: str, formula: bool) -> None:
    assert looks_like_formula(text) is formula


@pytest.mark.parametrize(("text", "cell"), [
    ("张伟", "张伟"),
    ("=HYPERLINK(\"http://evil\",\"点我\")", "'=HYPERLINK(\"http://evil\",\"点我\")"),
    ("+86 10 1234", "'+86 10 1234"),
    ("-", "'-"),
    ("@me", "'@me"),
    ("\tindent", "'\tindent"),
    ("\r=1", "[U+000D]=1"),  # shown as a code first, which no spreadsheet evaluates
    ("\x00=1", "[U+0000]=1"),
    ("\u202e=1", "[U+202E]=1"),
    ("a\u202eb", "a[U+202E]b"),
    ("W1-2", "W1-2"),
    ("", ""),
])
def test_cell_text(text: str, cell: str) -> None:
    assert cell_text(text) == cell
