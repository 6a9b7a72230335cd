"""What every export says about itself, beside its rows: the report's facts.

Kept apart from the writers' package so the CSV, XLSX and PDF writers share it without
importing each other.
"""

from __future__ import annotations

from .labels import label
from .tables import Table


def facts(table: Table, lang: str = "zh-CN") -> list[tuple[str, object]]:
    """(label, value) pairs naming what the report is and what may be missing."""
    m = table.meta
    yes, no = label("yes", lang), label("no", lang)
    out: list[tuple[str, object]] = [
        (label("report", lang), label(f"report_{table.kind}", lang)),
        (label("scope", lang), m.scope),
        (label("from", lang), m.first), (label("to", lang), m.last),
        (label("time_zone", lang), ", ".join(m.zones)),
        (label("computed_utc", lang), m.computed_utc.replace(tzinfo=None, microsecond=0))]
    for k, v in {**m.filters, **table.facts}.items():
        out.append((label(k, lang), v))
    out.append((label("incomplete", lang), yes if m.incomplete else no))
    out.append((label("period_open", lang), yes if m.period_open else no))
    for g in m.gaps:
        out.append((label("gap", lang), f"{g.window_id}: {label(g.reason, lang)} ({g.detail})"))
    return out
