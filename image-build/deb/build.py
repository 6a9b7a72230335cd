"""Build dist/counterunit_<version>_<arch>.deb from this checkout.

The package ships a *wheelhouse*, not a venv: every runtime wheel for the
target architecture (CPython 3.11), the counterunit wheel, the models, the
systemd units and a default config. Its postinst creates
/opt/counterunit/venv with the target's own /usr/bin/python3.11 and installs
the wheels with ``pip --no-index``, so the target needs no network and the venv
is made by exactly the interpreter that will run it (a venv copied from the
build host would point at the host's Python, which here is a pyenv build).

Run with the project venv: ``.venv/bin/python image-build/deb/build.py --arch arm64``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PREFIX = Path("opt/counterunit")

# Debian arch -> wheel platform tags. pip does not expand manylinux_2_X to the
# older tags (it only expands manylinux2014/2010), so list every glibc from 2.17
# (manylinux2014, which the brief names) to 2.36 (Debian 12): av, numpy and
# ai-edge-litert publish manylinux_2_27/2_28 wheels only.
GLIBC_MINORS = range(17, 37)
PLATFORMS = {
    deb: [f"manylinux_2_{m}_{mach}" for m in GLIBC_MINORS] + [f"manylinux2014_{mach}"]
    for deb, mach in (("amd64", "x86_64"), ("arm64", "aarch64"))
}
# The unit's whole dependency tree with sha256 hashes (`make lock`): pyproject's
# dependencies and the extras a unit may use (journald, oak, audio). No HQ server and no
# scikit-image: `counterunit demo`, which runs an embedded HQ, is for a development machine.
DEVICE_LOCK = ROOT / "requirements" / "device.txt"
# Compiled against the host Python, not on PyPI as wheels: the Debian package
# python3-systemd provides it instead (see postinst).
NOT_FROM_PYPI = {"systemd-python"}
# No wheel for this arch on PyPI: the Debian package provides the module and
# postinst links it into the venv (evdev-binary publishes x86_64 wheels only).
FROM_DEBIAN = {"arm64": {"evdev-binary": "python3-evdev"}, "amd64": {}}

# (source under systemd/, destination in the package)
SYSTEMD_FILES = [
    ("counterunit.service", "usr/lib/systemd/system/counterunit.service"),
    ("counterunit-sync.service", "usr/lib/systemd/system/counterunit-sync.service"),
    ("counterunit.sysusers", "usr/lib/sysusers.d/counterunit.conf"),
    ("counterunit.tmpfiles", "usr/lib/tmpfiles.d/counterunit.conf"),
    ("99-counterunit.rules", "usr/lib/udev/rules.d/99-counterunit.rules"),
]
FIRSTBOOT_FILES = [
    ("counterunit-firstboot.service", "usr/lib/systemd/system/counterunit-firstboot.service",
     0o644),
    ("counterunit-firstboot", "usr/lib/counterunit/counterunit-firstboot", 0o755),
]

CONTROL = """\
Package: counterunit
Version: {version}
Architecture: {arch}
Maintainer: counterunit team <counterunit@localhost>
Section: misc
Priority: optional
Depends: python3.11, python3.11-venv, libportaudio2, systemd, init-system-helpers, tzdata{extra}
Recommends: python3-systemd
Installed-Size: {size_kib}
Description: counter-mounted service-quality unit firmware
 The unit daemon (camera, presence, keypad, badge, clip recording) and its HQ
 sync process, with the detector models, systemd units, udev rules and a
 default /etc/counterunit/unit.toml. Runtime Python wheels for CPython 3.11
 are bundled; the venv under /opt/counterunit/venv is created at install time
 without network access.
"""


class BuildError(RuntimeError):
    """The package cannot be built; the message says what to fix."""


def run(cmd: list[str], **kw: object) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def canon(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def lock_entries(lock: Path) -> dict[str, str]:
    """Each package of a hashed lock -> its whole entry (pin, marker, ``--hash`` lines)."""
    entries: dict[str, str] = {}
    name = None
    for line in lock.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if not line[0].isspace():
            name = canon(line.split(";", 1)[0].split("==", 1)[0].strip())
            entries[name] = line
        elif name is not None and line.strip().startswith("--hash"):
            entries[name] += "\n" + line
    return entries


def requirements(lock: Path, arch: str) -> str:
    """The device lock less what Debian provides on ``arch``: what postinst installs.

    Every entry keeps its hashes, so pip (``--require-hashes``) refuses a wheel that is
    not the one locked, both here when downloading and on the target when installing.
    """
    entries = lock_entries(lock)
    if not entries:
        raise BuildError(f"{lock}: no pinned packages (run `make lock`)")
    unhashed = [n for n, e in entries.items() if "--hash=sha256:" not in e]
    if unhashed:
        raise BuildError(f"{lock}: no hash for {', '.join(unhashed)} (run `make lock`)")
    skip = NOT_FROM_PYPI | set(FROM_DEBIAN[arch])
    return "\n".join(e for n, e in entries.items() if n not in skip) + "\n"


def download_wheels(arch: str, reqs: str, dest: Path) -> None:
    # A fresh folder each time so a dropped dependency cannot linger in the
    # package; pip's own HTTP cache keeps re-runs fast.
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    (dest.parent / f"req-{arch}.txt").write_text(reqs)
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
           "-d", str(dest), "--only-binary=:all:", "--implementation", "cp",
           "--python-version", "3.11", "--abi", "cp311", "--require-hashes",
           "-r", str(dest.parent / f"req-{arch}.txt")]
    for plat in PLATFORMS[arch]:
        cmd += ["--platform", plat]
    run(cmd)


def build_project_wheel(dest: Path) -> Path:
    """The counterunit wheel, built from a clean copy of the package folders.

    Building in the checkout would reuse setuptools' build/lib, where a module
    deleted from the tree lives on and would be shipped.
    """
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for old in dest.glob("counterunit-*.whl"):
        old.unlink()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.tflite", "*.partial")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        shutil.copy2(ROOT / "pyproject.toml", src)
        for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
            pkg = pattern.rstrip("*")
            shutil.copytree(ROOT / pkg, src / pkg, ignore=ignore)
        run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
             "--no-deps", "-w", str(dest), str(src)])
    wheels = list(dest.glob("counterunit-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one counterunit wheel in {dest}, found {wheels}")
    return wheels[0]


def default_config() -> str:
    """docs/unit.example.toml with the appliance's model folder; validated here."""
    sys.path.insert(0, str(ROOT))
    from firmware.config.unit import parse_config

    text = (ROOT / "docs" / "unit.example.toml").read_text()
    if "vision" in tomllib.loads(text):
        raise BuildError("docs/unit.example.toml has a [vision] table; merge models_dir by hand")
    text += (
        "\n[vision]\n"
        "# Models installed by the counterunit package (sha256 in manifest.json).\n"
        'models_dir = "/opt/counterunit/models"\n'
    )
    parse_config(tomllib.loads(text), "default unit.toml")
    return text


def copy_models(stage: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from vision.models.fetch import MODELS_DIR, load_manifest, verify

    bad = verify(MODELS_DIR)
    if bad:
        raise BuildError(f"models {bad} missing or wrong sha256: run `make models` first")
    dest = stage / PREFIX / "models"
    dest.mkdir(parents=True)
    shutil.copy2(MODELS_DIR / "manifest.json", dest)
    for entry in load_manifest()["models"].values():
        shutil.copy2(MODELS_DIR / entry["file"], dest)


def install(src: Path, dest: Path, mode: int = 0o644) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    dest.chmod(mode)


def stage_tree(stage: Path, arch: str, version: str, wheels: Path, systemd_dir: Path,
               reqs: str) -> None:
    missing = [s for s, _ in SYSTEMD_FILES if not (systemd_dir / s).is_file()]
    if missing:
        raise BuildError(f"{systemd_dir}: missing {', '.join(missing)}")
    shutil.rmtree(stage, ignore_errors=True)
    house = stage / PREFIX / "wheels"
    house.mkdir(parents=True)
    shipped = sorted(wheels.glob("*.whl"))
    for whl in shipped:
        shutil.copy2(whl, house)
    # postinst resolves these pins against the shipped wheels only (--no-index),
    # so a missing or mismatched wheel fails the install instead of the daemon.
    own = next(w for w in shipped if w.name.startswith("counterunit-"))
    (stage / PREFIX / "requirements.txt").write_text(reqs)
    # Installed --no-deps after the pins: on arm64 one of its dependencies
    # (evdev) comes from Debian, which pip cannot see.
    (stage / PREFIX / "counterunit-wheel.txt").write_text(f"./wheels/{own.name}\n")
    copy_models(stage)
    for src, dst in SYSTEMD_FILES:
        install(systemd_dir / src, stage / dst)
    for src, dst, mode in FIRSTBOOT_FILES:
        install(ROOT / "image-build" / "firstboot" / src, stage / dst, mode)
    conf = stage / "etc/counterunit/unit.toml"
    conf.parent.mkdir(parents=True)
    conf.write_text(default_config())
    (stage / "usr/bin").mkdir(parents=True)
    os.symlink("/opt/counterunit/venv/bin/counterunit", stage / "usr/bin/counterunit")

    debian = stage / "DEBIAN"
    debian.mkdir()
    for script in ("postinst", "prerm", "postrm"):
        install(HERE / "maint" / script, debian / script, 0o755)
    (debian / "conffiles").write_text("/etc/counterunit/unit.toml\n")
    sums = []
    size = 0
    for path in sorted(p for p in stage.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(stage)
        if rel.parts[0] == "DEBIAN":
            continue
        size += path.stat().st_size
        sums.append(f"{hashlib.md5(path.read_bytes()).hexdigest()}  {rel}\n")
    (debian / "md5sums").write_text("".join(sums))
    (debian / "control").write_text(
        CONTROL.format(version=version, arch=arch, size_kib=(size + 1023) // 1024,
                       extra="".join(f", {d}" for d in FROM_DEBIAN[arch].values())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="amd64")
    parser.add_argument("--version", help="package version (default: pyproject's)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "deb",
                        help="wheel cache and staging tree (gitignored)")
    parser.add_argument("--systemd-dir", type=Path, default=ROOT / "systemd")
    parser.add_argument("--compress", default="xz", choices=["xz", "gzip", "zstd", "none"],
                        help="xz at level 1: the payload is mostly zip-compressed wheels")
    args = parser.parse_args(argv)

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    version = args.version or pyproject["project"]["version"]
    try:
        reqs = requirements(DEVICE_LOCK, args.arch)
        wheels = args.work / f"wheels-{args.arch}"
        download_wheels(args.arch, reqs, wheels)
        build_project_wheel(wheels)
        stage = args.work / f"stage-{args.arch}"
        stage_tree(stage, args.arch, version, wheels, args.systemd_dir, reqs)
    except (BuildError, subprocess.CalledProcessError) as exc:
        print(f"deb build failed: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    deb = args.out / f"counterunit_{version}_{args.arch}.deb"
    run(["dpkg-deb", "--root-owner-group", f"-Z{args.compress}", "-z1", "--build",
         str(stage), str(deb)])
    print(f"built {deb} ({deb.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
