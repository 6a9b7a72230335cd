"""Back-ends by their ``type`` key: config model -> back-end in one lookup.

Each hal kind (camera, microphone, queue feed, keypad, badge reader) lists its
back-ends in its own ``backends.py``: the type key, the light config model (pydantic
only), where the back-end class lives and, optionally, where its ``counterunit doctor``
diagnosis lives (hal/diagnostics.py). The class's module, with its vendor library (picamera2,
depthai, PortAudio), is imported only when that back-end is opened, so a unit with
a USB camera never imports depthai, and nothing touches hardware on import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from hal.diagnostics import CheckResult, DiagnosticHost

T = TypeVar("T", covariant=True)
Clock = Callable[[], float]


class FromConfig(Protocol[T]):
    """A back-end class: built from its own config model and the unit's clock."""

    @classmethod
    def from_config(cls, cfg: Any, clock: Clock) -> T: ...


def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Backend:
    """One back-end: ``type`` key, config model, ``module:Class`` of the back-end, and
    ``module:function`` of its doctor diagnosis ("" for none)."""

    type_key: str
    config: type[BaseModel]
    target: str
    diagnose: str = ""

    def load(self) -> FromConfig[Any]:
        """The back-end class (imports its module, and its vendor library, now)."""
        cls: FromConfig[Any] = _resolve(self.target)
        return cls

    def diagnostics(self, cfg: BaseModel, host: DiagnosticHost, default: bool = False,
                    **context: Any) -> list[CheckResult]:
        """The doctor rows of this back-end for ``cfg`` (imports its diagnosis only now);
        ``context`` is what the kind hands every diagnosis (the cameras: ``inventory``)."""
        if not self.diagnose:
            return []
        rows: list[CheckResult] = _resolve(self.diagnose)(cfg, host, default, **context)
        return rows


def backend_for(backends: Sequence[Backend], cfg: BaseModel) -> Backend:
    """The back-end whose config model ``cfg`` is; ValueError naming the type if none."""
    for b in backends:
        if type(cfg) is b.config:
            return b
    raise ValueError(f"type {getattr(cfg, 'type', '?')!r} has no back-end "
                     f"(known: {', '.join(b.type_key for b in backends)})")


def backend_of_type(backends: Sequence[Backend], type_key: str) -> Backend | None:
    """The back-end registered under ``type_key``, or None: for callers holding a section
    by its ``type`` only (doctor's tests hand it stand-in sections)."""
    return next((b for b in backends if b.type_key == type_key), None)


def open_backend(backends: Sequence[Backend], cfg: BaseModel, clock: Clock) -> Any:
    """Build (not start) the back-end ``cfg`` names."""
    return backend_for(backends, cfg).load().from_config(cfg, clock)
