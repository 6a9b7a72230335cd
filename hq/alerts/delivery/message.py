"""The words of an alert message: what, where, who, since when, the plan and the links.

Messages are written in the recipient's language (an HQ user's own; for group channels
and addresses the policy's ``language``): English or Simplified Chinese.
"""

from __future__ import annotations

from hq.alerts.queries import ThreadView

ZH = {
    "Staff off seat": "员工离岗", "Unit disk low": "终端磁盘空间不足",
    "Camera failure": "摄像头故障", "Unit refused its configuration": "终端拒绝配置",
    "Unit silent": "终端失联", "HQ disk low": "总部磁盘空间不足", "HQ disk full": "总部磁盘已满",
    "HQ storage failing": "总部存储故障", "Item left or taken": "物品遗留或被拿走",
    "Crowd density": "人员密集", "Queue length": "排队过长",
    "level": "级别", "Where": "位置", "unit": "终端", "Staff": "员工", "Since": "开始",
    "since": "自", "Detail": "详情", "Emergency plan": "应急预案", "Dashboard": "看板",
    "Clip": "录像", "Snapshot": "截图", "Acknowledge": "确认",
}


def _t(lang: str, text: str) -> str:
    return ZH.get(text, text) if lang == "zh-CN" else text


def place(t: ThreadView, lang: str = "en") -> str:
    """``branch / hall / window`` (ids where the names are unknown), or the unit."""
    parts = [t.branch_name or t.branch_id, t.hall_name or t.hall_id,
             t.window_name or t.window_id]
    named = [p for p in parts if p]
    return " / ".join(named) if named else f"{_t(lang, 'unit')} {t.unit_id}"


def compose(t: ThreadView, level: int, plan_text: str, hq_url: str,
            ack_url: str | None, lang: str = "en") -> tuple[str, str]:
    """(title, body) of the message for level ``level`` of thread ``t``."""
    def _(text: str) -> str:
        return _t(lang, text)

    what = _(t.title)
    sep = "：" if lang == "zh-CN" else ": "
    title = f"[L{level}] {what} - {place(t, lang)}"
    lines = [f"{what}, {_('level')} {level}",
             f"{_('Where')}{sep}{place(t, lang)} ({_('unit')} {t.unit_id})"]
    if t.staff_no or t.staff_name:
        lines.append(f"{_('Staff')}{sep}{t.staff_name or '?'} ({t.staff_no or '?'})")
    lines.append(f"{_('Since')}{sep}{t.opened_utc} ({_('level')} {t.level} {_('since')} "
                 f"{t.level_utc})")
    if t.detail:
        lines.append(f"{_('Detail')}{sep}{t.detail}")
    if plan_text:
        lines += ["", f"{_('Emergency plan')}{sep}", plan_text]
    lines.append("")
    for label, link in (("Dashboard", t.dashboard_link), ("Clip", t.clip_link),
                        ("Snapshot", t.snapshot_link)):
        if link:
            lines.append(f"{_(label)}{sep}{hq_url}{link}")
    if ack_url:
        lines.append(f"{_('Acknowledge')}{sep}{ack_url}")
    return title, "\n".join(lines)
