"""The daemon and sync under real power cuts (writes not fsynced are lost), a few of them.

The thousand-cut run is ``python -m bench.bench_powercut``; see docs/powercut.md.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.hq_server import HQServer, running_hq
from tests.powercut.build import build_shim
from tests.powercut.checks import decode_seconds, read_store, sha256
from tests.powercut.harness import hq_event_uuids, make_video, run_cuts
from tests.powercut.rig import UNIT_ID, Rig, SyncTarget

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shim(tmp_path_factory.mktemp("shim"))


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("video") / "visits.mp4")


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    with running_hq(tmp_path_factory.mktemp("hq")) as server:
        yield server


def test_a_closed_clip_survives_a_cut_on_a_fresh_unit(shim: Path, video: Path,
                                                      tmp_path: Path) -> None:
    """Before the fix the clips folder was created without fsyncing the data folder:
    the cut took the folder and every closed clip in it."""
    rig = Rig(tmp_path, video, shim)
    try:
        b = rig.boot()
        wait_for(lambda: (rig.watch(b, 0), read_closed(rig))[1], 30, "a closed clip")
        rig.cut(b, random.Random(0))
    finally:
        rig.close()
    view = read_store(rig.db)
    assert view is not None and view.integrity == "ok"
    closed = [r for r in view.clips.values() if r["state"] == "closed"]
    assert closed
    for row in closed:
        path = Path(str(row["path"]))
        assert path.exists(), f"closed clip {row['clip_id']} lost with its folder"
        assert sha256(path) == row["sha256"] and decode_seconds(path) > 0.5


def read_closed(rig: Rig) -> bool:
    view = read_store(rig.db)
    return view is not None and any(r["state"] == "closed" for r in view.clips.values())


def test_full_loses_nothing_over_random_cuts_with_sync(shim: Path, video: Path, hq: HQServer,
                                                       tmp_path: Path) -> None:
    ident = hq.enrolled_unit(UNIT_ID)
    shutil.copytree(ident.directory, tmp_path / "data" / "identity")
    hq_db = hq.root / "data" / "events.db"
    tally, figures = run_cuts(
        tmp_path, video, shim, 4, seed=7, min_run_s=1.0, max_run_s=6.0,
        sync=SyncTarget(hq.url, tmp_path / "data" / "identity"),
        hq_events=lambda: hq_event_uuids(hq_db))
    assert tally.ok, tally.failures
    assert tally.cuts == 4 and figures.events_committed >= 5, figures
    assert tally.clips_playable >= 1, tally
    assert hq_event_uuids(hq_db), "sync ran: HQ has events"


def test_normal_loses_committed_events(shim: Path, video: Path, tmp_path: Path) -> None:
    """The same harness with synchronous=NORMAL: commits that readers saw are gone."""
    tally, figures = run_cuts(tmp_path, video, shim, 1, seed=3, min_run_s=4.0, max_run_s=5.0,
                              prefix_share=0.0, synchronous="NORMAL", settle=False)
    assert figures.events_committed > 0
    assert tally.lost_events > 0 and not tally.ok, tally
