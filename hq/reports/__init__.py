"""Reports of the management centre: figures, rollups, scoring and exports.

Kept light on purpose (no imports here): ``hq.storage.projection`` imports
:mod:`hq.reports.ingest.events` at ingest, and the figures modules import storage.

For pages (helper "pages"):

- :func:`hq.reports.query.usage.window_usage` ``(conn, scope, start_utc, end_utc)`` ->
  :class:`~hq.reports.query.usage.WindowUsageReport`: per window in ``scope`` the seconds
  scheduled, staffed (logged in and on seat), temporarily closed, away on business,
  unexcused off seat; customers served and customers per staffed hour (seed functions
  20 and 19), with totals counting windows in each category.
- :func:`hq.reports.query.usage.event_counts` ``(conn, scope, start_utc, end_utc)`` ->
  :class:`~hq.reports.query.usage.EventCounts`: off-seat episodes by level, alerts by kind and
  level, ratings by key (1..5), unrated prompts, suspect presses (seed function 22).

``conn`` is a connection to HQ's ``events.db`` (e.g. ``hq.storage.sqlite.connect``);
``scope`` an :class:`hq.storage.scope.Scope`. Both read the daily rollups, so their
periods are whole branch-local days: ``start_utc``/``end_utc`` select the local days
they fall on in each window's branch time zone (end exclusive). Each result carries a
:class:`~hq.reports.query.honesty.ReportMeta` naming the filters, zones, computation time and
any window whose data may be incomplete.

Staff/window/hall/branch/organisation figures: :mod:`hq.reports.figures.metrics`; scoring:
:mod:`hq.reports.figures.scoring`; exports: :mod:`hq.reports.exports`; demo data: :mod:`hq.reports.demo`.
"""
