"""Badge reader interface: one read per badge tap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BadgeRead:
    """A badge UID as read (kept only in memory; the store keeps its hash)."""

    uid: str
    t: float


class BadgeReader(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def reads(self) -> list[BadgeRead]:
        """Reads since the last call (non-blocking)."""
        ...
