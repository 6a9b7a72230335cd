"""``counterunit eval presence`` on real footage: opencv-doc's vtest.avi, annotated by hand.

The real unit (file camera, the real models, identity tracker, state machine,
store) replays the video with the zones of tests/data/presence/; one case
(about 25 s of replay on a busy machine) runs here, the whole suite with
``counterunit eval presence``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from firmware.cli.app import main

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
SHA256 = "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"

pytestmark = pytest.mark.skipif(not VTEST.is_file(), reason="opencv-doc not installed")


def test_the_annotated_footage_is_the_one_installed() -> None:
    """The truth was read off these exact frames (opencv-doc 4.6.0+dfsg-12)."""
    assert hashlib.sha256(VTEST.read_bytes()).hexdigest() == SHA256


def test_a_man_who_stops_among_walkers_is_one_visit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """About twenty people walk through the zone in 1-3 s; one stops for 9 s.

    Without the stillness rule the walkers at 2-7 s were a visit and the one at
    38-40 s began the man's (truth 49.0-62.5; got 2.0-6.8 and 37.8-62.6).
    """
    code = main(["eval", "presence", "--dir", str(tmp_path), "--case", "vtest_stop_walkway"])
    out = capsys.readouterr().out.splitlines()
    rows = [line for line in out if line.startswith(("ok ", "FAIL"))]
    assert len(rows) == 1 and rows[0].split()[:2] == ["ok", "vtest_stop_walkway"], "\n".join(out)
    assert "txn 1/1 exact" in rows[0] and "truth 49.0-62.5" in rows[0]
    assert out[-1] == "eval presence: 1/1 cases pass"
    assert code == 0
    assert not list(tmp_path.glob("*.mp4"))  # a real case composes nothing
