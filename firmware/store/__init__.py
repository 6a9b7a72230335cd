"""Local store: SQLite (WAL, synchronous=FULL), events + outbox + query tables."""

from .store import EventContext, Store

__all__ = ["EventContext", "Store"]
