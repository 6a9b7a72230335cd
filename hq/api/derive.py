"""Response models derived from the storage dataclasses, so a field is declared once.

``hq/storage/models.py`` and ``hq/accounts/`` hold what HQ stores (frozen dataclasses);
an API response that shows such a record takes its field names, types and order from
there, leaving out what the API does not show, instead of a pydantic copy that drifts
from it. A field added to the source appears in the API unless it is excluded by name,
and a field that looks like a secret (a password, a hash, a key) must be excluded by
name or the model is refused at import.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from types import GenericAlias
from typing import Any

from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo

# Field names that must never reach a response unless someone decides so by name.
SECRET_MARKS = ("password", "secret", "_hash", "private_key", "key_pem")


class DerivationError(ValueError):
    """A response model asked for something its source does not have, or would leak."""


def _source_fields(source: type, flatten: tuple[str, ...]) -> list[tuple[str, Any, Any]]:
    """(name, type, default) of ``source``'s fields, those in ``flatten`` replaced in
    place by the fields of their own dataclass."""
    if not dataclasses.is_dataclass(source):
        raise DerivationError(f"{source.__name__} is not a dataclass")
    hints = typing.get_type_hints(source)
    out: list[tuple[str, Any, Any]] = []
    for f in dataclasses.fields(source):
        if f.name in flatten:
            inner = hints[f.name]
            if not (isinstance(inner, type) and dataclasses.is_dataclass(inner)):
                raise DerivationError(f"{source.__name__}.{f.name} is not a dataclass field")
            out.extend(_source_fields(inner, ()))
            continue
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = ...
        out.append((f.name, hints[f.name], default))
    return out


def response_model(name: str, source: type, *, exclude: tuple[str, ...] = (),
                   extra: dict[str, Any] | None = None, doc: str | None = None,
                   base: type[BaseModel] = BaseModel, flatten: tuple[str, ...] = (),
                   types: Mapping[str, Any] | None = None,
                   describe: Mapping[str, str] | None = None,
                   required: bool = False) -> type[BaseModel]:
    """A pydantic model named ``name`` with the fields of dataclass ``source``.

    ``exclude`` leaves fields out; ``flatten`` puts a dataclass-valued field's own fields
    in its place; ``types`` gives a field the API shows differently its API type (e.g. a
    Scope shown as text), ``(type, default)`` to change its default too; ``describe``
    documents fields; ``required`` drops the dataclass defaults (every answer carries
    every field); ``extra`` adds fields given as ``(type, default or ...)`` at the end.
    ``doc`` (the schema's description) defaults to the source's docstring; ``""`` none.
    Fields ``base`` already declares are inherited, not redeclared.
    """
    flatten, types, describe = tuple(flatten), dict(types or {}), dict(describe or {})
    found = _source_fields(source, flatten)
    names = {f.name for f in dataclasses.fields(source)} | {n for n, _, _ in found}
    unknown = (set(exclude) | set(flatten) | set(types) | set(describe)) - names
    if unknown:  # a renamed storage field must not silently reappear in the API
        raise DerivationError(f"{source.__name__} has no field(s) {sorted(unknown)}")
    inherited = getattr(base, "model_fields", {})
    fields: dict[str, Any] = {}
    for field, kind, default in found:
        if field in exclude or field in inherited:
            continue
        if any(mark in field.lower() for mark in SECRET_MARKS):
            raise DerivationError(f"{source.__name__}.{field} looks like a secret: "
                                  f"exclude it by name or rename it")
        if required:
            default = ...
        if field in types:
            given = types[field]
            kind, default = given if isinstance(given, tuple) else (given, default)
        if field in describe:
            default = (FieldInfo.merge_field_infos(default, description=describe[field])
                       if isinstance(default, FieldInfo)
                       else Field(default, description=describe[field]))
        fields[field] = (kind, default)
    fields.update(extra or {})
    model: type[BaseModel] = create_model(
        name, __base__=base, __doc__=source.__doc__ if doc is None else doc, **fields)
    return model


def values_of(record: Any, model: type[BaseModel], *, flatten: tuple[str, ...] = (),
              convert: Mapping[str, Callable[[Any], Any]] | None = None) -> dict[str, Any]:
    """The values of ``model``'s fields read from ``record`` (and from its ``flatten``
    parts), each passed through ``convert[name]`` when given: the model's keyword
    arguments, for a model made by :func:`response_model` with the same ``flatten``."""
    convert = convert or {}
    parts = [getattr(record, name) for name in flatten]
    out: dict[str, Any] = {}
    for name in model.model_fields:
        holder = next((p for p in (record, *parts) if hasattr(p, name)), None)
        if holder is None:
            continue  # a field the caller adds (``extra``)
        value = getattr(holder, name)
        out[name] = convert[name](value) if name in convert else value
    return out


def list_of(model: type[BaseModel]) -> Any:
    """``list[model]`` for ``response_model=`` (a derived model is a value, not a type)."""
    return GenericAlias(list, (model,))
