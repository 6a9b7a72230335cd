"""Retention at HQ: how long clips and events are kept, legal holds, and the deletion run.

- :mod:`.policy`: pure rules (effective periods per branch, what is due at ``now``).
- :mod:`.schema`: the tables (in events.db, beside the rows they govern).
- :mod:`.periods`: authoring the organisation default and per-branch overrides.
- :mod:`.holds`: legal holds on transactions (a dispute) that stop deletion.
- :mod:`.run`: one retention run (dry or real); every deletion is audited first.
- :mod:`.schedule`: the run on a period inside ``counterunit hq serve``.
- :mod:`.cli`: ``counterunit hq retention ...`` and ``counterunit hq retention-run``.

Without any period set HQ keeps everything for ever, as it always did.
"""
