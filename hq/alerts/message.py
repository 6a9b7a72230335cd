"""The words of an alert message: what, where, who, since when, the plan and the links."""

from __future__ import annotations

from hq.alerts.queries import ThreadView


def place(t: ThreadView) -> str:
    """``branch / hall / window`` (ids where the names are unknown), or the unit."""
    parts = [t.branch_name or t.branch_id, t.hall_name or t.hall_id,
             t.window_name or t.window_id]
    named = [p for p in parts if p]
    return " / ".join(named) if named else f"unit {t.unit_id}"


def compose(t: ThreadView, level: int, plan_text: str, hq_url: str,
            ack_url: str | None) -> tuple[str, str]:
    """(title, body) of the message for level ``level`` of thread ``t``."""
    title = f"[L{level}] {t.title} - {place(t)}"
    lines = [f"{t.title}, level {level}", f"Where: {place(t)} (unit {t.unit_id})"]
    if t.staff_no or t.staff_name:
        lines.append(f"Staff: {t.staff_name or '?'} ({t.staff_no or '?'})")
    lines.append(f"Since: {t.opened_utc} (level {t.level} since {t.level_utc})")
    if t.detail:
        lines.append(f"Detail: {t.detail}")
    if plan_text:
        lines += ["", "Emergency plan:", plan_text]
    lines.append("")
    if t.dashboard_link:
        lines.append(f"Dashboard: {hq_url}{t.dashboard_link}")
    if t.clip_link:
        lines.append(f"Clip: {hq_url}{t.clip_link}")
    if t.snapshot_link:
        lines.append(f"Snapshot: {hq_url}{t.snapshot_link}")
    if ack_url:
        lines.append(f"Acknowledge: {ack_url}")
    return title, "\n".join(lines)
