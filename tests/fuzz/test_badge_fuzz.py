"""Property tests: the badge line parser survives any byte stream."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hal.badge.lines import BadgeLineError, BadgeLineParser
from hal.badge.uid import normalise_badge_uid

UID = re.compile(r"[0-9A-F]{4,32}")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=200),
            st.sampled_from([b"\r", b"\n", b"\r\n", b"\x02", b"\x03", b"04A1B2C3", b"0x1234"]),
        ),
        max_size=40,
    )
)
def test_any_stream_yields_only_valid_uids_and_bounded_memory(chunks: list[bytes]) -> None:
    parser = BadgeLineParser(max_line=64)
    for chunk in chunks:
        for item in parser.feed(chunk):
            if isinstance(item, BadgeLineError):
                assert item.kind in ("garbage", "too_long")
            else:
                assert UID.fullmatch(item)
                assert normalise_badge_uid(item) == item
        assert len(parser._buf) <= 64
    s = parser.stats
    assert s.lines == s.uids + s.garbage + s.too_long


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(UID, fullmatch=True), min_size=1, max_size=10), st.data())
def test_uids_split_anywhere_come_back_in_order(uids: list[str], data: st.DataObject) -> None:
    stream = b"".join(u.encode() + b"\r\n" for u in uids)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    parser = BadgeLineParser()
    got = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        got += parser.feed(stream[start:end])
    assert got == uids
