"""scikit-image is the demo extra: a clear error names it where it is not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]

# Runs in a child interpreter where ``import skimage`` fails, as on a unit.
WITHOUT_SKIMAGE = """
import sys
sys.modules["skimage"] = None
from vision.compose.actors import actor
from vision.compose.samples import SampleImagesMissing
try:
    actor("astronaut").image()
except SampleImagesMissing as exc:
    print(exc)
else:
    print("no error")
"""


def test_sample_photograph_without_scikit_image_names_the_extra() -> None:
    out = subprocess.run([sys.executable, "-c", WITHOUT_SKIMAGE], cwd=ROOT, text=True,
                         capture_output=True, timeout=60, check=True).stdout
    assert "'astronaut' needs scikit-image" in out
    assert "'demo' extra" in out


def test_sample_photograph_with_scikit_image() -> None:
    from vision.compose.samples import sample

    assert sample("astronaut").shape == (512, 512, 3)
