"""Appliance tests: the .deb in a Debian 12 chroot and booted under systemd-nspawn.

They need root, debootstrap/mmdebstrap, systemd-nspawn and minutes, so the
normal suite skips them: `make deb-test` / `make boot-test` set
COUNTERUNIT_APPLIANCE_TESTS=1 and COUNTERUNIT_DEB to the package to test.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENABLED = os.environ.get("COUNTERUNIT_APPLIANCE_TESTS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ENABLED:
        return
    skip = pytest.mark.skip(reason="appliance test: run `make deb-test` / `make boot-test`")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def deb_path() -> Path:
    """The package under test (COUNTERUNIT_DEB, else the newest amd64 one in dist/)."""
    if os.geteuid() != 0:
        pytest.fail("appliance tests need root (chroots, systemd-nspawn)")
    for tool in ("debootstrap", "mmdebstrap", "systemd-nspawn", "dpkg-deb"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run `make deps`")
    env = os.environ.get("COUNTERUNIT_DEB")
    debs = [Path(env)] if env else sorted((ROOT / "dist").glob("counterunit_*_amd64.deb"),
                                          key=lambda p: p.stat().st_mtime)
    if not debs or not debs[-1].is_file():
        pytest.fail("no package to test: run `make deb` first")
    return debs[-1]
