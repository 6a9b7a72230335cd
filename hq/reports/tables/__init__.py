"""The reports' tables in events.db: their schema, the rollup with each entity's
contribution to it, and the window-state segments.
"""
