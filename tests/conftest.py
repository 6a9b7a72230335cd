"""Shared test helpers: waiting on conditions with a deadline, composed scenes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

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
    from vision.scenes import compose, scene

    cache: dict[str, tuple[Path, object]] = {}
    root = tmp_path_factory.mktemp("scenes")

    def get(name: str) -> tuple[Path, object]:
        if name not in cache:
            path = root / f"{name}.mp4"
            cache[name] = (path, compose(scene(name), path))
        return cache[name]

    return get
