"""Shared pieces of the config models: strict base model and bounded types."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from hal.config_base import Strict as Strict  # one base for unit and back-end sections

DEFAULT_CONFIG_PATH = Path("/etc/counterunit/unit.toml")
Identifier = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
