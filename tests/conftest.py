"""Shared test helpers: waiting on conditions with a deadline, composed scenes, a store."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from firmware.store import Store
from tests.servers.postgres_fixtures import backend, pg_dsn, postgres  # noqa: F401
from tests.servers.s3_fixtures import s3, s3_bucket  # noqa: F401

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout_s: float = 20.0, what: str = "condition",
             poll_s: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout_s``.

    The poll interval is not a wait for a thread to do its job: the deadline is.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(poll_s)


@pytest.fixture(scope="session")
def scene_video(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, object]]:
    """Compose a named scene once per session: returns (mp4 path, GroundTruth)."""
    from vision.compose.scenes import compose, scene

    cache: dict[str, tuple[Path, object]] = {}
    root = tmp_path_factory.mktemp("scenes")

    def get(name: str) -> tuple[Path, object]:
        if name not in cache:
            path = root / f"{name}.mp4"
            cache[name] = (path, compose(scene(name), path))
        return cache[name]

    return get


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty unit database (the daemon's Store) on a media clock from 09:00 UTC."""
    from firmware.store import EventContext
    from firmware.system.clock import UnitClock

    clock = UnitClock.media(lambda: 0.0, dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC))
    s = Store(tmp_path / "unit.db", EventContext("unit-1", "counter-1", "boot-a", clock))
    yield s
    s.close()
