"""hal.camera.file.prefetch: an iterator run ahead on a worker thread, bounded, closed cleanly."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from hal.camera.file.prefetch import prefetched


def test_items_arrive_in_order_and_the_worker_ends() -> None:
    before = threading.active_count()
    assert list(prefetched(iter(range(100)), 3)) == list(range(100))
    assert threading.active_count() == before


def test_an_error_is_raised_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("corrupt frame 3")

    got = []
    with pytest.raises(ValueError, match="corrupt frame 3"):
        for item in prefetched(items(), 2):
            got.append(item)
    assert got == [1, 2]


def test_the_worker_runs_at_most_depth_ahead_and_stops_when_closed() -> None:
    produced: list[int] = []
    at_rest = threading.Event()

    def items() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            if len(produced) == 4:
                at_rest.set()
            yield i

    ahead = prefetched(items(), 2)
    assert next(ahead) == 0
    assert at_rest.wait(5.0)
    # 0 taken, 2 queued, 1 produced and waiting for a slot: never more.
    assert len(produced) == 4
    ahead.close()  # type: ignore[attr-defined]
    assert len(produced) == 4  # joined: the worker produced nothing after close
    assert not [t for t in threading.enumerate() if t.name == "prefetch"]


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth must be >= 1"):
        next(prefetched(iter([1]), 0))
