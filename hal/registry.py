"""Back-ends by their ``type`` key: config model -> back-end in one lookup.

Each hal kind (camera, microphone, queue feed) lists its back-ends in its own
``backends.py``: the type key, the light config model (pydantic only) and where the
back-end class lives. The class's module, with its vendor library (picamera2,
depthai, PortAudio), is imported only when that back-end is opened, so a unit with
a USB camera never imports depthai, and nothing touches hardware on import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

T = TypeVar("T", covariant=True)
Clock = Callable[[], float]


class FromConfig(Protocol[T]):
    """A back-end class: built from its own config model and the unit's clock."""

    @classmethod
    def from_config(cls, cfg: Any, clock: Clock) -> T: ...


@dataclass(frozen=True)
class Backend:
    """One back-end: ``type`` key, config model, and ``module:Class`` of the back-end."""

    type_key: str
    config: type[BaseModel]
    target: str

    def load(self) -> FromConfig[Any]:
        """The back-end class (imports its module, and its vendor library, now)."""
        module, _, name = self.target.partition(":")
        cls: FromConfig[Any] = getattr(importlib.import_module(module), name)
        return cls


def backend_for(backends: Sequence[Backend], cfg: BaseModel) -> Backend:
    """The back-end whose config model ``cfg`` is; ValueError naming the type if none."""
    for b in backends:
        if type(cfg) is b.config:
            return b
    raise ValueError(f"type {getattr(cfg, 'type', '?')!r} has no back-end "
                     f"(known: {', '.join(b.type_key for b in backends)})")


def open_backend(backends: Sequence[Backend], cfg: BaseModel, clock: Clock) -> Any:
    """Build (not start) the back-end ``cfg`` names."""
    return backend_for(backends, cfg).load().from_config(cfg, clock)
