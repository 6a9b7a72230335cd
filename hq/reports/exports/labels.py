"""Names of report columns and facts in Simplified Chinese (default) and English.

A small table until the web foundation's gettext catalogues (helper "auth") carry
these strings; :func:`label` is the one place exports ask, so swapping it is one edit.
"""

from __future__ import annotations

LANGS = ("zh-CN", "en")

LABELS: dict[str, tuple[str, str]] = {
    # report kinds
    "report_staff": ("员工报表", "Staff report"),
    "report_window": ("窗口报表", "Window report"),
    "report_branch": ("网点报表", "Branch report"),
    "report_attendance": ("考勤报表", "Attendance report"),
    "report_events": ("事件统计", "Event counts"),
    # columns
    "staff_no": ("工号", "Staff no."),
    "name": ("姓名", "Name"),
    "branch_id": ("网点编号", "Branch id"),
    "branch": ("网点", "Branch"),
    "window_id": ("窗口编号", "Window id"),
    "hall": ("大厅", "Hall"),
    "transactions": ("业务笔数", "Transactions"),
    "handling_mean_s": ("平均办理时长(秒)", "Mean handling (s)"),
    "handling_median_s": ("办理时长中位数(秒)", "Median handling (s)"),
    "handling_p90_s": ("办理时长P90(秒)", "P90 handling (s)"),
    "ratings": ("评价数", "Ratings"),
    "satisfaction_pct": ("满意率%", "Satisfaction %"),
    "unrated_pct": ("未评价占比%", "Unrated %"),
    "suspect": ("可疑按键", "Suspect presses"),
    "off_seat_count": ("离岗次数", "Off-seat count"),
    "off_seat_min": ("离岗分钟", "Off-seat min"),
    "unexcused_off_seat_min": ("无故离岗分钟", "Unexcused off-seat min"),
    "attendance_pct": ("出勤率%", "Attendance %"),
    "score": ("综合得分", "Score"),
    "grade": ("等级", "Grade"),
    "missing_inputs": ("缺少的输入", "Missing inputs"),
    "rules_version": ("评分规则版本", "Rules version"),
    "data_incomplete": ("数据可能不完整", "Data may be incomplete"),
    "shifts": ("排班数", "Shifts"),
    "present": ("出勤", "Present"),
    "late": ("迟到", "Late"),
    "left_early": ("早退", "Left early"),
    "absent": ("缺勤", "Absent"),
    "on_leave": ("请假", "On leave"),
    "business": ("公出", "Away on business"),
    "scheduled_h": ("排班小时", "Scheduled h"),
    "session_h": ("登录小时", "Logged-in h"),
    "staffed_h": ("在岗小时", "Staffed h"),
    "closed_h": ("暂停服务小时", "Closed h"),
    "business_h": ("公出小时", "Business h"),
    "state_open_h": ("窗口开放小时", "Window open h"),
    "state_closed_h": ("窗口暂停服务小时", "Window closed h"),
    "state_away_h": ("窗口外出办公小时", "Window away h"),
    "queue_alerts": ("排队过长告警", "Queue alerts"),
    "queue_over_min": ("排队超限分钟", "Min over queue threshold"),
    "queue_peak_waiting": ("排队峰值人数", "Peak waiting"),
    "customers_per_staffed_hour": ("每在岗小时客户数", "Customers per staffed h"),
    "windows": ("窗口数", "Windows"),
    "transactions_prev": ("业务笔数(上期)", "Transactions (previous)"),
    "transactions_ly": ("业务笔数(去年同期)", "Transactions (last year)"),
    "satisfaction_pct_prev": ("满意率%(上期)", "Satisfaction % (previous)"),
    "satisfaction_pct_ly": ("满意率%(去年同期)", "Satisfaction % (last year)"),
    "category": ("类别", "Category"),
    "item": ("项目", "Item"),
    "count": ("次数", "Count"),
    # event categories
    "off_seat_level": ("离岗(按级别)", "Off seat by level"),
    "alert": ("告警", "Alerts"),
    "rating_key": ("评价(按键)", "Ratings by key"),
    "unrated": ("未评价", "Unrated"),
    # facts
    "filters": ("筛选条件", "Filters"),
    "report": ("报表", "Report"),
    "scope": ("范围", "Scope"),
    "from": ("开始日期", "From"),
    "to": ("结束日期", "To"),
    "time_zone": ("时区", "Time zone"),
    "computed_utc": ("生成时间(UTC)", "Computed at (UTC)"),
    "incomplete": ("数据可能不完整", "Data may be incomplete"),
    "period_open": ("期间未结束", "Period not over"),
    "gap": ("不完整原因", "Why incomplete"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "chart_transactions": ("业务笔数", "Transactions"),
    "chart_satisfaction": ("满意率%", "Satisfaction %"),
    "chart_attendance": ("出勤率%", "Attendance %"),
    "chart_events": ("事件次数", "Event counts"),
    "not_synced": ("设备未同步", "unit not synced"),
    "no_unit": ("未绑定设备", "no unit bound"),
    "clock_unsynced": ("设备时钟未同步", "unit clock not synchronised"),
}


def label(key: str, lang: str = "zh-CN") -> str:
    """``key`` in ``lang`` (zh-CN or en); the key itself when it has no label."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} must be one of {', '.join(LANGS)}")
    pair = LABELS.get(key)
    return key if pair is None else pair[LANGS.index(lang)]

GRADES = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}


def cell(column: str, value: object, lang: str = "zh-CN") -> object:
    """A cell as people read it: categories and default grades named in ``lang``."""
    if column == "category" and isinstance(value, str):
        return label(value, lang)
    if column == "grade" and isinstance(value, str) and lang == "zh-CN":
        return GRADES.get(value, value)
    return value
