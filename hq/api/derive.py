"""Response models derived from the storage dataclasses, so a field is declared once.

``hq/storage/models.py`` holds what HQ stores (frozen dataclasses); an API response
that shows such a record takes its field names, types and order from there, leaving
out what the API does not show, instead of a pydantic copy that drifts from it.
"""

from __future__ import annotations

import dataclasses
import typing
from types import GenericAlias
from typing import Any

from pydantic import BaseModel, create_model


def response_model(name: str, source: type, *, exclude: tuple[str, ...] = (),
                   extra: dict[str, Any] | None = None, doc: str = "",
                   base: type[BaseModel] = BaseModel) -> type[BaseModel]:
    """A pydantic model named ``name`` with the fields of dataclass ``source`` (less
    ``exclude``), then ``extra`` fields given as ``(type, default or ...)``."""
    hints = typing.get_type_hints(source)
    known = {f.name for f in dataclasses.fields(source)}
    unknown = set(exclude) - known
    if unknown:  # a renamed storage field must not silently reappear in the API
        raise ValueError(f"{source.__name__} has no field(s) {sorted(unknown)}")
    fields: dict[str, Any] = {
        f.name: (hints[f.name], ... if f.default is dataclasses.MISSING else f.default)
        for f in dataclasses.fields(source) if f.name not in exclude and f.name not in
        getattr(base, "model_fields", {})}
    fields.update(extra or {})
    model: type[BaseModel] = create_model(name, __base__=base, __doc__=doc or source.__doc__,
                                          **fields)
    return model


def list_of(model: type[BaseModel]) -> Any:
    """``list[model]`` for ``response_model=`` (a derived model is a value, not a type)."""
    return GenericAlias(list, (model,))
