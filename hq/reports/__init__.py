"""Reports of the management centre: figures, rollups, scoring and exports.

Subpackages by job, each importing only those listed before it:

- :mod:`hq.reports.figures`: the pure logic, no database: branch-local days and rollup
  periods, handling-time histograms, :class:`~hq.reports.figures.metrics.Figures` from
  summed metrics, scores and grades (:mod:`hq.reports.figures.scoring`).
- :mod:`hq.reports.tables`: the reports' tables in ``events.db`` (schema, the rollup
  and each entity's contribution to it, window-state segments).
- :mod:`hq.reports.ingest`: the projection that feeds those tables inside ingest's
  transaction (``hq.storage.projection.project`` calls
  :func:`hq.reports.ingest.events.apply` and :func:`hq.reports.ingest.states_queue.apply`),
  and the re-settling of shifts and leave HQ authors (:mod:`hq.reports.ingest.shifts`).
- :mod:`hq.reports.query`: reading the tables for pages and exports: figures by level
  (:mod:`hq.reports.query.levels`), window usage and event counts, the rows behind a
  figure (:mod:`hq.reports.query.drill`), queue peaks, incompleteness flags.
- :mod:`hq.reports.entries`: what managers enter for scoring (monthly inputs, versions
  of the scoring rules).
- :mod:`hq.reports.exports` (CSV/XLSX/PDF), :mod:`hq.reports.demo` (``seed-demo``) and
  :mod:`hq.reports.cli` (``counterunit hq report``/``seed-demo``) on top.

Kept light on purpose (no imports here): ``hq.storage.projection`` imports the ingest
side at ingest, and the query side imports storage.

For pages:

- :func:`hq.reports.query.usage.window_usage` ``(conn, scope, start_utc, end_utc)`` ->
  :class:`~hq.reports.query.usage.WindowUsageReport`: per window in ``scope`` the
  seconds scheduled, staffed (logged in and on seat), temporarily closed, away on
  business, unexcused off seat; customers served and customers per staffed hour (seed
  functions 20 and 19), with totals counting windows in each category.
- :func:`hq.reports.query.usage.event_counts` ``(conn, scope, start_utc, end_utc)`` ->
  :class:`~hq.reports.query.usage.EventCounts`: off-seat episodes by level, alerts by
  kind and level, ratings by key (1..5), unrated prompts, suspect presses (seed
  function 22).

``conn`` is a connection to HQ's ``events.db`` (e.g. ``hq.storage.sqlite.connect``);
``scope`` an :class:`hq.storage.scope.Scope`. Both read the daily rollups, so their
periods are whole branch-local days: ``start_utc``/``end_utc`` select the local days
they fall on in each window's branch time zone (end exclusive). Each result carries a
:class:`~hq.reports.query.honesty.ReportMeta` naming the filters, zones, computation
time and any window whose data may be incomplete.
"""
