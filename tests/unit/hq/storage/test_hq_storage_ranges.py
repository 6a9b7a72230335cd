"""parse_range: single byte ranges, suffix and open-ended ranges, 416 and ignored headers."""

from __future__ import annotations

import pytest

from hq.storage import ByteRange, RangeNotSatisfiable, parse_range


@pytest.mark.parametrize(("header", "size", "expected"), [
    ("bytes=0-499", 1000, (0, 499)),
    ("bytes=500-999", 1000, (500, 999)),
    ("bytes=500-5000", 1000, (500, 999)),  # last past the end is clipped
    ("bytes=500-", 1000, (500, 999)),
    ("bytes=0-", 1000, (0, 999)),
    ("bytes=-200", 1000, (800, 999)),
    ("bytes=-5000", 1000, (0, 999)),  # suffix longer than the body: all of it
    ("bytes=0-0", 1, (0, 0)),
    ("bytes=999-999", 1000, (999, 999)),
    ("Bytes = 10 - 19 ", 1000, (10, 19)),
    (None, 1000, None),
    ("", 1000, None),
    ("bytes=5-2", 1000, None),  # invalid: ignored, whole body
    ("bytes=0-1,5-6", 1000, None),  # multiple ranges are not served: whole body
    ("items=0-5", 1000, None),
    ("bytes=-", 1000, None),
    ("bytes=a-b", 1000, None),
    ("bytes=-1-2", 1000, None),
])
def test_parse_range(header: str | None, size: int,
                     expected: tuple[int, int] | None) -> None:
    got = parse_range(header, size)
    if expected is None:
        assert got is None
    else:
        assert got == ByteRange(expected[0], expected[1], size)


@pytest.mark.parametrize(("header", "size"), [
    ("bytes=1000-", 1000),
    ("bytes=1000-2000", 1000),
    ("bytes=-0", 1000),
    ("bytes=0-", 0),
    ("bytes=-10", 0),
])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as err:
        parse_range(header, size)
    assert err.value.content_range == f"bytes */{size}"


def test_content_range_and_length() -> None:
    r = parse_range("bytes=100-", 1000)
    assert r is not None
    assert (r.length, r.content_range) == (900, "bytes 100-999/1000")


HUGE = "9" * 5000  # issue 13 item 6: int() of this raised ValueError, a 500


@pytest.mark.parametrize(("header", "expected"), [
    (f"bytes=0-{HUGE}", (0, 999)),  # last past the end, however far: clipped
    (f"bytes=-{HUGE}", (0, 999)),  # a suffix longer than the body: all of it
    ("bytes=" + "0" * 5000 + "7-9", (7, 9)),  # leading zeros are still a small number
    ("bytes=\u0663-\u0665", None),  # non-ASCII digits are no range: whole body
])
def test_enormous_numbers_are_positions_past_the_end(header: str,
                                                     expected: tuple[int, int] | None) -> None:
    got = parse_range(header, 1000)
    assert got == (None if expected is None else ByteRange(*expected, 1000))


def test_an_enormous_start_is_not_satisfiable() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(f"bytes={HUGE}-", 1000)
    with pytest.raises(RangeNotSatisfiable):
        parse_range(f"bytes={HUGE}-{HUGE}", 1000)
