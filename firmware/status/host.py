"""Host facts for ``counterunit status``: disk, versions, models and the HQ certificate."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple


class Usage(NamedTuple):
    total: int
    used: int
    free: int


@dataclass(frozen=True)
class Disk:
    """Space on the data partition; ``problem`` when it cannot be measured."""

    path: Path
    total: int | None = None
    free: int | None = None
    used_pct: float | None = None
    problem: str | None = None


@dataclass(frozen=True)
class ModelCheck:
    name: str
    file: str
    sha256: str
    verified: bool
    problem: str | None = None


@dataclass(frozen=True)
class Certificate:
    """The unit's HQ certificate, if enrolled; ``problem`` says why not."""

    directory: Path
    not_after_utc: dt.datetime | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Versions:
    package: str | None
    python: str
    models_dir: Path
    models: tuple[ModelCheck, ...]
    models_problem: str | None = None


def disk_facts(data_dir: Path, usage: Any = shutil.disk_usage) -> Disk:
    """Free and total bytes where the data lives (pure given ``usage``)."""
    try:
        u = usage(data_dir)
    except FileNotFoundError:
        return Disk(data_dir, problem=f"data folder {data_dir} not found")
    except OSError as exc:
        return Disk(data_dir, problem=f"cannot measure: {exc.strerror or exc}")
    pct = round(100.0 * (u.total - u.free) / u.total, 1) if u.total else None
    return Disk(data_dir, total=u.total, free=u.free, used_pct=pct)


def package_version() -> str | None:
    try:
        return importlib.metadata.version("counterunit")
    except importlib.metadata.PackageNotFoundError:
        return None


def check_models(models_dir: Path) -> tuple[tuple[ModelCheck, ...], str | None]:
    """Each model of manifest.json: present in ``models_dir`` with its recorded sha256?"""
    from vision.models.manifest import load_manifest, sha256_file

    try:
        entries = load_manifest()["models"]
    except (OSError, ValueError, KeyError) as exc:
        return (), f"manifest.json unreadable: {exc}"
    out = []
    for name, entry in entries.items():
        want = str(entry.get("sha256", ""))
        path = models_dir / str(entry.get("file", ""))
        try:
            got = sha256_file(path)
        except OSError as exc:
            out.append(ModelCheck(name, path.name, want[:12], False,
                                  "missing" if isinstance(exc, FileNotFoundError)
                                  else f"unreadable: {exc.strerror or exc}"))
            continue
        ok = got == want
        out.append(ModelCheck(name, path.name, got[:12], ok,
                              None if ok else f"sha256 differs from manifest ({want[:12]})"))
    return tuple(out), None


def versions(models_dir: Path) -> Versions:
    models, problem = check_models(models_dir)
    return Versions(package_version(), platform.python_version(), models_dir, models, problem)


def certificate(identity_dir: Path) -> Certificate:
    """Expiry of the installed unit certificate (never raises)."""
    from sync.identity import IdentityError, NotEnrolled, UnitIdentity

    try:
        cert = UnitIdentity(identity_dir).certificate()
    except NotEnrolled:
        return Certificate(identity_dir, problem="not enrolled")
    except (IdentityError, OSError, ValueError) as exc:
        return Certificate(identity_dir, problem=f"certificate unreadable: {exc}")
    return Certificate(identity_dir, not_after_utc=cert.not_valid_after_utc)
