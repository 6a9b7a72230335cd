"""The .deb in a debootstrapped Debian 12 (bookworm) amd64 root.

apt resolves the dependencies from deb.debian.org; the package itself brings
every Python wheel, so pip never touches the network (the venv is made with
``--no-index``). Tests run in file order on one root: install, inspect,
upgrade with a locally modified conffile, purge.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.appliance.roots import debootstrap_minbase, nspawn

UNITS = ("counterunit.service", "counterunit-sync.service")
CONF = "/etc/counterunit/unit.toml"


@pytest.fixture(scope="module")
def root(deb_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("chroot")
    root = base / "root"
    debootstrap_minbase(root)
    shutil.copy2(deb_path, root / "srv" / deb_path.name)
    nspawn(root, "apt-get", "update", "-qq")
    nspawn(root, "apt-get", "install", "-y", "-qq", "--no-install-recommends",
           f"/srv/{deb_path.name}", timeout=900)
    yield root
    shutil.rmtree(base, ignore_errors=True)


def test_files_are_where_the_appliance_expects_them(root: Path) -> None:
    for path in ["opt/counterunit/venv/bin/counterunit", "usr/lib/sysusers.d/counterunit.conf",
                 "usr/lib/tmpfiles.d/counterunit.conf",
                 "usr/lib/udev/rules.d/99-counterunit.rules",
                 "usr/lib/counterunit/counterunit-firstboot", CONF.lstrip("/"),
                 *(f"usr/lib/systemd/system/{u}" for u in UNITS)]:
        assert (root / path).is_file(), path
    assert (root / "usr/bin/counterunit").readlink() == \
        Path("/opt/counterunit/venv/bin/counterunit")


def test_venv_belongs_to_debians_python(root: Path) -> None:
    cfg = (root / "opt/counterunit/venv/pyvenv.cfg").read_text()
    assert "home = /usr/bin" in cfg
    out = nspawn(root, "/opt/counterunit/venv/bin/python", "-c",
                 "import sys, av, ai_edge_litert, numpy; print(sys.version_info[:2])").stdout
    assert out.strip() == "(3, 11)"


def test_models_match_the_manifest_at_both_paths(root: Path) -> None:
    models = root / "opt/counterunit/models"
    manifest = json.loads((models / "manifest.json").read_text())
    for entry in manifest["models"].values():
        data = (models / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]
    # The packaged default models_dir (inside the venv) resolves to the same files.
    nspawn(root, "/opt/counterunit/venv/bin/python", "-m", "vision.models.fetch", "--check")


def test_system_user_and_group_exist(root: Path) -> None:
    assert nspawn(root, "getent", "passwd", "counterunit").stdout.startswith("counterunit:")
    assert nspawn(root, "getent", "group", "counterunit").stdout.startswith("counterunit:")


def test_config_is_a_registered_conffile(root: Path) -> None:
    out = nspawn(root, "dpkg-query", "-W", "-f=${Conffiles}", "counterunit").stdout
    assert CONF in out


def test_services_are_enabled(root: Path) -> None:
    wants = root / "etc/systemd/system/multi-user.target.wants"
    for unit in UNITS:
        link = wants / unit
        assert link.is_symlink(), f"{unit} not enabled"
        # deb-systemd-helper writes /lib/... on bookworm (merged /usr: the same file).
        assert link.readlink() in (Path("/lib/systemd/system") / unit,
                                   Path("/usr/lib/systemd/system") / unit)


def test_check_config_passes_as_the_daemon_user(root: Path) -> None:
    out = nspawn(root, "runuser", "-u", "counterunit", "--", "counterunit", "check-config",
                 CONF).stdout
    assert f"{CONF}: OK" in out


def _repack(deb: Path, version: str, out: Path) -> Path:
    """The same package under a higher version (what an upgrade looks like to dpkg)."""
    tree = out / "tree"
    subprocess.run(["dpkg-deb", "-R", str(deb), str(tree)], check=True)
    control = tree / "DEBIAN" / "control"
    lines = [f"Version: {version}" if ln.startswith("Version:") else ln
             for ln in control.read_text().splitlines()]
    control.write_text("\n".join(lines) + "\n")
    new = out / f"counterunit_{version}_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "-b", str(tree), str(new)],
                   check=True, capture_output=True)
    shutil.rmtree(tree)
    return new


def test_upgrade_keeps_a_locally_modified_config(root: Path, deb_path: Path,
                                                 tmp_path: Path) -> None:
    conf = root / CONF.lstrip("/")
    edited = conf.read_text().replace('counter_id = "counter-01"', 'counter_id = "window-07"')
    assert edited != conf.read_text()
    conf.write_text(edited)
    old = nspawn(root, "dpkg-query", "-W", "-f=${Version}", "counterunit").stdout
    new = _repack(deb_path, old + "+upgrade1", tmp_path)
    shutil.copy2(new, root / "srv" / new.name)
    nspawn(root, "apt-get", "install", "-y", "-qq", f"/srv/{new.name}", timeout=900)
    assert nspawn(root, "dpkg-query", "-W", "-f=${Version}", "counterunit").stdout == \
        old + "+upgrade1"
    assert conf.read_text() == edited
    assert f"{CONF}: OK" in nspawn(root, "counterunit", "check-config", CONF).stdout
    assert (root / "etc/systemd/system/multi-user.target.wants/counterunit.service").is_symlink()


def test_purge_removes_package_config_and_data(root: Path) -> None:
    nspawn(root, "apt-get", "purge", "-y", "-qq", "counterunit")
    status = nspawn(root, "dpkg-query", "-W", "-f=${db:Status-Status}", "counterunit",
                    check=False)
    assert status.returncode != 0 or status.stdout in ("not-installed", "")
    for gone in ["opt/counterunit", "etc/counterunit", "var/lib/counterunit", "usr/bin/counterunit",
                 *(f"usr/lib/systemd/system/{u}" for u in UNITS),
                 *(f"etc/systemd/system/multi-user.target.wants/{u}" for u in UNITS)]:
        assert not (root / gone).exists() and not (root / gone).is_symlink(), gone
