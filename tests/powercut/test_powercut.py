"""The daemon and sync under real power cuts (writes not fsynced are lost), a few of them.

The thousand-cut run is ``python -m bench.bench_powercut``; see docs/powercut.md.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.helpers.hq.server import HQServer, running_hq
from tests.powercut.build import build_shim
from tests.powercut.checks import ClipWatch, Tally, check_after_cut, origins, read_store
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


def test_a_cut_on_a_fresh_unit_keeps_closed_clips_and_salvages_the_open_one(
        shim: Path, video: Path, tmp_path: Path) -> None:
    """Cut while the second clip is being written, on a unit's first boot.

    Before the fix the clips folder was created without fsyncing the data folder, so
    the cut took the folder and the closed clip in it; with keyframe-only fragments
    (1 s) the salvaged clip was up to 1.3 s short of the cut.
    """
    rig = Rig(tmp_path, video, shim)
    watch, tally = ClipWatch(), Tally()
    try:
        b = rig.boot()
        wait_for(lambda: closed_clips(rig) and partial_bytes(rig) > 40_000, 40,
                 "a closed clip and another being written")
        rig.cut(b, random.Random(0))
        assert b.cut_at is not None
        watch.origin.update(origins(b.log_path.read_bytes()))
        view = read_store(rig.db)
        check_after_cut(view, rig.committed, rig.data, watch, tally, b.cut_at, "the cut")
        assert view is not None and len(watch.open_at_cut) == 1, view
        code, log = rig.shutdown()  # the next boot salvages
        check_after_cut(read_store(rig.db), rig.committed, rig.data, watch, tally,
                        time.monotonic(), "after the next boot")
    finally:
        rig.close()
    assert code == 0, log[-2000:]
    assert tally.ok, tally.failures
    assert tally.clips_playable >= 2 and tally.salvaged_within == 1, tally


def closed_clips(rig: Rig) -> bool:
    view = read_store(rig.db)
    return view is not None and any(r["state"] == "closed" for r in view.clips.values())


def partial_bytes(rig: Rig) -> int:
    return sum(p.stat().st_size for p in rig.data.glob("clips/*/*/*/*.partial"))


def test_full_loses_nothing_over_random_cuts_with_sync(shim: Path, video: Path, hq: HQServer,
                                                       tmp_path: Path) -> None:
    ident = hq.enrolled_unit(UNIT_ID)
    shutil.copytree(ident.directory, tmp_path / "data" / "identity")
    hq_db = hq.root / "data" / "events.db"
    tally, figures = run_cuts(
        tmp_path, video, shim, 3, seed=7, min_run_s=3.0, max_run_s=6.5,
        sync=SyncTarget(hq.url, tmp_path / "data" / "identity"),
        hq_events=lambda: hq_event_uuids(hq_db))
    assert tally.ok, tally.failures
    assert tally.cuts == 3 and figures.events_committed >= 5, figures
    assert tally.clips_playable >= 1, tally
    assert hq_event_uuids(hq_db), "sync ran: HQ has events"


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_normal_loses_committed_events(shim: Path, video: Path, tmp_path: Path,
                                       warm: bool) -> None:
    """The same harness with synchronous=NORMAL: commits that readers saw are gone,
    whether the programs are forked from the warm interpreter or started cold."""
    # Cold, the programs spend their first seconds importing (more under load): cut later.
    lo = 4.0 if warm else 8.0
    tally, figures = run_cuts(tmp_path, video, shim, 1, seed=3, min_run_s=lo, max_run_s=lo + 1,
                              prefix_share=0.0, synchronous="NORMAL", settle=False,
                              warm=warm)
    assert figures.events_committed > 0
    assert tally.lost_events > 0 and not tally.ok, tally
