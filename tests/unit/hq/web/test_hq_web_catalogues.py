"""Every message a template asks for with a literal ``_("...")`` has a Chinese entry.

Pages exist in Simplified Chinese and English; English is the message id itself, so the
Chinese catalogue (hq/web/locale/zh_CN/*.po, one file per part of HQ) must hold each.
The failure names the template and the missing ids.
"""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from hq.web.i18n import LOCALE_DIR
from hq.web.render import NAV, TEMPLATE_DIR

_LITERAL = re.compile(r"""\b_\(\s*(["'])((?:(?!\1).)+)\1""")


def _chinese_ids() -> set[str]:
    ids: set[str] = set()
    for po in (LOCALE_DIR / "zh_CN").glob("*.po"):
        with po.open("rb") as f:
            ids |= {m.id for m in read_po(f) if isinstance(m.id, str) and m.id and m.string}
    return ids


def test_every_template_message_has_a_chinese_translation() -> None:
    have = _chinese_ids()
    missing = {}
    for template in sorted(TEMPLATE_DIR.glob("*.html")):
        wanted = {m.group(2) for m in _LITERAL.finditer(template.read_text())}
        if wanted - have:
            missing[template.name] = sorted(wanted - have)
    assert not missing, f"add these to hq/web/locale/zh_CN/<part>.po: {missing}"


def test_every_menu_entry_has_a_chinese_translation() -> None:
    assert {n.label for n in NAV} <= _chinese_ids()
