"""The part of the organisation tree a user may see, as SQL the query layer applies.

A role is granted on one node: the whole organisation, one branch or one hall. Every
query that returns rows filed under a window takes a :class:`Scope` and adds
:meth:`Scope.window_filter` to its WHERE clause, so the rule lives in one place and a
guessed id outside the scope finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["all", "branch", "hall"]


@dataclass(frozen=True)
class Scope:
    """``all`` (node_id None), ``branch`` (node_id = branch_id) or ``hall`` (hall_id)."""

    level: Level
    node_id: str | None = None

    def __post_init__(self) -> None:
        if self.level == "all":
            if self.node_id is not None:
                raise ValueError("scope 'all' takes no node id")
        elif self.level in ("branch", "hall"):
            if not self.node_id:
                raise ValueError(f"scope {self.level!r} needs a node id")
        else:
            raise ValueError(f"scope level {self.level!r} must be all, branch or hall")

    @classmethod
    def everything(cls) -> Scope:
        """The whole organisation."""
        return cls("all")

    def window_filter(self, window_column: str) -> tuple[str, list[Any]]:
        """SQL that is true for rows whose ``window_column`` lies in this scope.

        Rows with no window (a unit not bound yet) are visible only to ``all``.
        ``window_column`` is a fixed column name from the caller, never user text.
        """
        if self.level == "all":
            return "1 = 1", []
        if self.level == "branch":
            return (f"{window_column} IN (SELECT w.window_id FROM org_windows w "
                    "JOIN org_halls h ON h.hall_id = w.hall_id WHERE h.branch_id = ?)",
                    [self.node_id])
        return (f"{window_column} IN (SELECT window_id FROM org_windows WHERE hall_id = ?)",
                [self.node_id])

    def text(self) -> str:
        """``all``, ``branch:ID`` or ``hall:ID`` (how scopes are written in files and forms)."""
        return "all" if self.level == "all" else f"{self.level}:{self.node_id}"

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Inverse of :meth:`text`; ValueError naming the rule for anything else."""
        if text == "all":
            return cls("all")
        level, sep, node = text.partition(":")
        if not sep or level not in ("branch", "hall") or not node:
            raise ValueError(f"scope {text!r} must be 'all', 'branch:ID' or 'hall:ID'")
        return cls(level, node)  # type: ignore[arg-type]
