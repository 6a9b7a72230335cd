"""The organisation at HQ, authored by people: branches, halls, windows, staff, shifts,
leave, rules and zones, and the config each unit pulls. Its tables are in
:mod:`hq.storage.org_schema`; the scope a role is limited to is :mod:`hq.storage.scope`."""
