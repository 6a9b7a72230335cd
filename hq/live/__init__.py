"""The dashboard's live state: per-window state folded from events at ingest, and its feed.

``store.apply`` is the ingest hook (called from hq.storage.projection); ``board`` gives
the tiles of a scope; ``state`` holds the pure transitions.
"""
