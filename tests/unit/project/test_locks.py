"""The hashed locks (requirements/*.txt): complete, hashed, and the device's free of HQ and tests.

Plain reading of the lock files and pyproject.toml; the one install of the device lock
into a fresh venv is done by hand (requirements/README.md), not here (it downloads).
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
REQ = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCKS = ("device", "hq", "dev")
# The extras an .in file names on its `.[...]` line.
EXTRA_LINE = re.compile(r"^\.\[([a-z0-9,-]+)\]$", re.M)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
LINUX = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
         "implementation_name": "cpython", "python_version": "3.11"}


def parse_lock(text: str) -> dict[str, tuple[str, str | None, list[str]]]:
    """name -> (version, marker, sha256 hashes) for every entry of a hashed lock."""
    entries: dict[str, tuple[str, str | None, list[str]]] = {}
    name = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            m = PIN.match(line)
            assert m, f"line {lineno}: not a `name==version` pin: {line!r}"
            name = canonicalize_name(m.group(1))
            entries[name] = (m.group(2), m.group(3), [])
        else:
            h = re.match(r"\s+--hash=sha256:([0-9a-f]{64})\s*\\?$", line)
            assert h and name, f"line {lineno}: expected a --hash=sha256 line: {line!r}"
            entries[name][2].append(h.group(1))
    return entries


def lock(name: str) -> dict[str, tuple[str, str | None, list[str]]]:
    return parse_lock((REQ / f"{name}.txt").read_text())


def extras_of(name: str) -> list[str]:
    found = EXTRA_LINE.findall((REQ / f"{name}.in").read_text())
    assert len(found) == 1, f"{name}.in: expected one `.[extras]` line"
    return found[0].split(",")


def direct(extras: list[str]) -> list[Requirement]:
    """pyproject's dependencies and those of ``extras``, as the lock must satisfy them."""
    opt = PYPROJECT["project"]["optional-dependencies"]
    specs = list(PYPROJECT["project"]["dependencies"])
    for extra in extras:
        specs += opt[extra]
    return [Requirement(s) for s in specs]


def dev_tools() -> set[str]:
    lines = (REQ / "dev.in").read_text().splitlines()
    return {canonicalize_name(Requirement(x).name) for x in lines
            if x.strip() and not x.startswith(("#", "."))}


def test_parse_lock_reads_pins_markers_and_hashes() -> None:
    text = ("# header\nnumpy==2.4.6 \\\n    --hash=sha256:" + "a" * 64 + " \\\n"
            "    --hash=sha256:" + "b" * 64 + "\n    # via scipy\n"
            "colorama==0.4.6 ; sys_platform == 'win32' \\\n    --hash=sha256:" + "c" * 64 + "\n")
    assert parse_lock(text) == {"numpy": ("2.4.6", None, ["a" * 64, "b" * 64]),
                                "colorama": ("0.4.6", "sys_platform == 'win32'", ["c" * 64])}
    with pytest.raises(AssertionError, match="line 2"):
        parse_lock("numpy==2.4.6 \\\n    --hash=md5:abc\n")


@pytest.mark.parametrize("name", LOCKS)
def test_every_package_is_pinned_with_a_hash(name: str) -> None:
    entries = lock(name)
    assert len(entries) > 20
    assert [p for p, (_, _, hashes) in entries.items() if not hashes] == []


@pytest.mark.parametrize("name", LOCKS)
def test_pyproject_dependencies_are_satisfied_by_each_lock(name: str) -> None:
    entries = lock(name)
    problems = []
    for req in direct(extras_of(name)):
        if req.marker is not None and not req.marker.evaluate(LINUX):
            continue
        pinned = entries.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{req}: not in {name}.txt")
        elif not req.specifier.contains(pinned[0], prereleases=True):
            problems.append(f"{req}: {name}.txt pins {pinned[0]}")
    assert problems == [], f"run `make lock`: {problems}"


def test_dev_lock_has_every_extra_and_the_test_tools() -> None:
    assert set(extras_of("dev")) == set(PYPROJECT["project"]["optional-dependencies"])
    missing = dev_tools() - set(lock("dev"))
    assert missing == set()


def test_device_lock_has_no_hq_server_test_tool_or_scikit_image() -> None:
    opt = PYPROJECT["project"]["optional-dependencies"]
    not_on_a_unit: set[str] = {canonicalize_name(Requirement(s).name)
                     for extra in ("hq", "hq-ops", "reports", "browser-tests", "demo")
                     for s in opt[extra]}
    not_on_a_unit |= dev_tools() | {"fastapi", "uvicorn", "starlette", "scikit-image"}
    assert set(extras_of("device")) == {"journald", "oak", "audio"}
    assert sorted(not_on_a_unit & set(lock("device"))) == []
    # The unit's own needs are there: the sync client, the camera, the models.
    assert {"requests", "av", "ai-edge-litert", "scipy"} <= set(lock("device"))


def test_hq_lock_has_no_test_tool_or_scikit_image() -> None:
    assert sorted((dev_tools() | {"scikit-image"}) & set(lock("hq"))) == []
    assert {"fastapi", "uvicorn", "alembic"} <= set(lock("hq"))


def test_all_locks_agree_on_versions() -> None:
    dev = lock("dev")
    for name in ("device", "hq"):
        differ = {p: (v, dev[p][0]) for p, (v, _, _) in lock(name).items()
                  if p in dev and dev[p][0] != v}
        assert differ == {}, name


def test_installs_require_hashes() -> None:
    make = (ROOT / "Makefile").read_text()
    assert "pip install -q --disable-pip-version-check --require-hashes -r requirements/dev.txt" \
        in make
    assert "--require-hashes" in (ROOT / "image-build/deb/maint/postinst").read_text()


def test_deb_ships_the_device_lock_less_what_debian_provides() -> None:
    spec = importlib.util.spec_from_file_location("deb_build", ROOT / "image-build/deb/build.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    device = lock("device")
    arm = parse_lock(build.requirements(build.DEVICE_LOCK, "arm64"))
    amd = parse_lock(build.requirements(build.DEVICE_LOCK, "amd64"))
    assert set(device) - set(arm) == {"systemd-python", "evdev-binary"}
    assert set(device) - set(amd) == {"systemd-python"}
    assert arm["numpy"] == device["numpy"]  # hashes kept, so pip checks them on the unit
