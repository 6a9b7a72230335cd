"""Names of report columns and facts in Simplified Chinese (default) and English.

Each key names a message of HQ's gettext catalogues (:mod:`hq.locale`): the English
message id, with a context where the English word means two things in HQ
(``("count", "Transactions")`` is a number, the plain ``"Transactions"`` the page). A
column the report page also shows asks for the page's own message, so the Excel, PDF
and CSV say exactly what the page says; the other entries are in
``hq/locale/zh_CN/exports.po``. :func:`label` is the one place exports ask.
"""

from __future__ import annotations

from hq.locale import pgettext

LANGS = ("zh-CN", "en")

# key -> (gettext context or None, English message id)
LABELS: dict[str, tuple[str | None, str]] = {
    # report kinds
    "report_staff": (None, "Staff report"),
    "report_window": (None, "Window report"),
    "report_branch": (None, "Branch report"),
    "report_attendance": (None, "Attendance report"),
    "report_events": (None, "Event counts"),
    # columns
    "staff_no": (None, "Staff no."),
    "name": ("person", "Name"),
    "branch_id": (None, "Branch id"),
    "branch": (None, "Branch"),
    "window_id": (None, "Window id"),
    "hall": (None, "Hall"),
    "transactions": ("count", "Transactions"),
    "handling_mean_s": (None, "Mean handling (s)"),
    "handling_median_s": (None, "Median handling (s)"),
    "handling_p90_s": (None, "P90 handling (s)"),
    "ratings": (None, "Ratings"),
    "satisfaction_pct": (None, "Satisfaction %"),
    "unrated_pct": (None, "Unrated %"),
    "suspect": (None, "Suspect presses"),
    "off_seat_count": (None, "Off-seat count"),
    "off_seat_min": (None, "Off-seat min"),
    "unexcused_off_seat_min": (None, "Unexcused off-seat min"),
    "attendance_pct": (None, "Attendance %"),
    "score": (None, "Score"),
    "grade": (None, "Grade"),
    "missing_inputs": (None, "Missing inputs"),
    "rules_version": (None, "Rules version"),
    "data_incomplete": (None, "Data may be incomplete"),
    "shifts": (None, "Shifts"),
    "present": (None, "Present"),
    "late": (None, "Late"),
    "left_early": (None, "Left early"),
    "absent": (None, "Absent"),
    "on_leave": (None, "On leave"),
    "business": (None, "Away on business"),
    "scheduled_h": (None, "Scheduled h"),
    "session_h": (None, "Logged-in h"),
    "staffed_h": (None, "Staffed h"),
    "closed_h": (None, "Closed h"),
    "business_h": (None, "Business h"),
    "state_open_h": (None, "Window open h"),
    "state_closed_h": (None, "Window closed h"),
    "state_away_h": (None, "Window away h"),
    "queue_alerts": (None, "Queue alerts"),
    "queue_over_min": (None, "Min over queue threshold"),
    "queue_peak_waiting": (None, "Peak waiting"),
    "customers_per_staffed_hour": (None, "Customers per staffed h"),
    "windows": ("count", "Windows"),
    "transactions_prev": (None, "Transactions (previous)"),
    "transactions_ly": (None, "Transactions (last year)"),
    "satisfaction_pct_prev": (None, "Satisfaction % (previous)"),
    "satisfaction_pct_ly": (None, "Satisfaction % (last year)"),
    "category": (None, "Category"),
    "item": (None, "Item"),
    "count": (None, "Count"),
    # event categories
    "off_seat_level": (None, "Off seat by level"),
    "alert": (None, "Alerts"),
    "rating_key": (None, "Ratings by key"),
    "unrated": (None, "Unrated"),
    # facts
    "filters": (None, "Filters"),
    "report": (None, "Report"),
    "scope": (None, "Scope"),
    "from": ("period", "From"),
    "to": ("period", "To"),
    "time_zone": (None, "Time zone"),
    "computed_utc": (None, "Computed at (UTC)"),
    "incomplete": (None, "Data may be incomplete"),
    "period_open": (None, "Period not over"),
    "gap": (None, "Why incomplete"),
    "yes": (None, "yes"),
    "no": (None, "no"),
    "chart_transactions": ("count", "Transactions"),
    "chart_satisfaction": (None, "Satisfaction %"),
    "chart_attendance": (None, "Attendance %"),
    "chart_events": (None, "Event counts"),
    "not_synced": (None, "not_synced"),
    "no_unit": (None, "no_unit"),
    "clock_unsynced": (None, "clock_unsynced"),
}


def label(key: str, lang: str = "zh-CN") -> str:
    """``key`` in ``lang`` (zh-CN or en); the key itself when it has no label."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} must be one of {', '.join(LANGS)}")
    entry = LABELS.get(key)
    if entry is None:
        return key
    context, message = entry
    return pgettext(lang, context, message)


def cell(column: str, value: object, lang: str = "zh-CN") -> object:
    """A cell as people read it: categories and default grades named in ``lang``."""
    if column == "category" and isinstance(value, str):
        return label(value, lang)
    if column == "grade" and isinstance(value, str):
        # The page's grade names (reports.po: excellent -> 优秀); a custom grade stays.
        return pgettext(lang, None, value)
    return value
