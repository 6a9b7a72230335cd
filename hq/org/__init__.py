"""The organisation at HQ, authored by people: branches, halls, windows, staff, shifts,
leave, rules and zones, and the config each unit pulls. Its tables are in
:mod:`hq.storage.org_schema`; the scope a role is limited to is :mod:`hq.storage.scope`.

By job, each package importing only those listed before it: ``records`` (the models,
refusals, who may author what, scoped reads), ``schedules`` (shift times, planned
periods), ``config`` (the document a window's units pull and its versions), ``authoring``
(writes), ``importing`` (CSV/XLSX files), ``units`` (what HQ knows of each unit), and
``cli`` on top."""
