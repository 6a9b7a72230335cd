"""The base of every config model: unknown keys refused, values frozen once read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A config section: ``extra="forbid"`` names a mistyped key instead of ignoring it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
