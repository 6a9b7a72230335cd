"""HQ's gettext catalogues (hq/locale/<lang>/*.po, one file per part of HQ) are whole and
unambiguous.

Pages exist in Simplified Chinese and English; English is the message id itself, so the
Chinese catalogue must hold every id a template asks for with a literal ``_("...")`` or
``pgettext("context", "...")``. All files of a language merge into one catalogue, so
one (context, msgid) pair translated two ways in two files would show the last file's
word on every page: the clash test names the pair and both files. Failures name the
template and the missing ids.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from hq.locale import LOCALE_DIR, pgettext
from hq.reports.exports.labels import LABELS, label
from hq.web.render import NAV, TEMPLATE_DIR

_LITERAL = re.compile(r"""\b_\(\s*(["'])((?:(?!\1).)+)\1""")
_PGETTEXT = re.compile(
    r"""\bpgettext\(\s*(["'])((?:(?!\1).)+)\1\s*,\s*(["'])((?:(?!\3).)+)\3""")
_LANGS = sorted(p.name for p in LOCALE_DIR.iterdir() if p.is_dir() and p.name != "__pycache__")

Key = tuple[str | None, str]


def _entries(folder: Path) -> dict[Key, dict[str, str]]:
    """(context, msgid) -> {file name: msgstr}, translated entries only."""
    out: dict[Key, dict[str, str]] = defaultdict(dict)
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as f:
            for m in read_po(f):
                if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string:
                    out[(m.context, m.id)][po.name] = m.string
    return out


def clashes(entries: dict[Key, dict[str, str]]) -> dict[Key, dict[str, str]]:
    """The pairs two files translate differently."""
    return {k: v for k, v in entries.items() if len(set(v.values())) > 1}


def _chinese() -> set[Key]:
    return set(_entries(LOCALE_DIR / "zh_CN"))


def test_clash_check_sees_a_clash() -> None:
    table = {(None, "closed"): {"alerts.po": "已结束", "reports.po": "暂停服务"},
             ("alert", "closed"): {"alerts.po": "已结束"},
             (None, "Name"): {"org.po": "名称", "more.po": "名称"}}
    assert clashes(table) == {(None, "closed"): table[(None, "closed")]}


@pytest.mark.parametrize("lang", _LANGS)
def test_no_message_is_translated_two_ways_in_one_language(lang: str) -> None:
    found = clashes(_entries(LOCALE_DIR / lang))
    assert not found, (
        f"{lang}: these (msgctxt, msgid) have different msgstrs in different .po files; "
        f"give each meaning its own msgctxt (pgettext at its call sites): {found}")


def test_every_template_message_has_a_chinese_translation() -> None:
    have = _chinese()
    missing = {}
    for template in sorted(TEMPLATE_DIR.glob("*.html")):
        text = template.read_text()
        wanted: set[Key] = {(None, m.group(2)) for m in _LITERAL.finditer(text)}
        wanted |= {(m.group(2), m.group(4)) for m in _PGETTEXT.finditer(text)}
        if wanted - have:
            missing[template.name] = sorted(wanted - have, key=str)
    assert not missing, f"add these (msgctxt, msgid) to hq/locale/zh_CN/<part>.po: {missing}"


def test_every_menu_entry_has_a_chinese_translation() -> None:
    assert {(None, n.label) for n in NAV} <= _chinese()


def test_every_export_label_has_a_chinese_translation() -> None:
    missing = {k: v for k, v in LABELS.items() if v not in _chinese()}
    assert not missing, f"add these (msgctxt, msgid) to hq/locale/zh_CN/exports.po: {missing}"


# The words of the meanings that used to clash, hand-checked: each part's own word.
@pytest.mark.parametrize(("context", "msgid", "zh"), [
    (None, "Transactions", "业务记录"),          # the menu entry and page
    ("count", "Transactions", "业务笔数"),        # a report column
    ("alert", "closed", "已结束"),               # an alert thread's status
    (None, "closed", "暂停服务"),                # a window state
    ("alert", "open", "未结束"),                 # falls back to the plain entry
    (None, "Name", "名称"),                      # a branch/hall/window's name
    ("person", "Name", "姓名"),
    (None, "Days", "星期"),                      # a schedule's weekdays
    ("date range", "Days", "日期"),
    ("alert", "Level", "级别"),
    (None, "Level", "层级"),
])
def test_each_meaning_has_its_own_word(context: str | None, msgid: str, zh: str) -> None:
    assert pgettext("zh-CN", context, msgid) == zh


def test_export_and_page_say_the_same_for_the_same_column() -> None:
    assert label("transactions") == pgettext("zh-CN", "count", "Transactions") == "业务笔数"
    assert label("score") == pgettext("zh-CN", None, "Score") == "综合得分"
    assert label("unrated_pct") == pgettext("zh-CN", None, "Unrated %") == "未评价占比%"
    assert label("name", "en") == "Name"
    assert label("not_synced", "en") == "unit not synced"
