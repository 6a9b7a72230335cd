"""Badge UID normalisation, the roster hash, and splitting a reader's stream into lines."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hal.badge.lines import BadgeLineError, BadgeLineParser
from hal.badge.uid import BadgeUidError, hash_badge_uid, normalise_badge_uid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("04A1B2C3", "04A1B2C3"),
        ("04a1b2c3", "04A1B2C3"),
        ("  04A1B2C3 \t", "04A1B2C3"),
        ("04:a1:b2:c3", "04A1B2C3"),
        ("04-A1-B2-C3", "04A1B2C3"),
        ("0x04A1B2C3", "04A1B2C3"),
        ("0012345678", "0012345678"),  # decimal EM4100 style, zero padding kept
        ("04A1B2C3D4E5F6", "04A1B2C3D4E5F6"),  # 7-byte MIFARE UID
        ("1234", "1234"),
        ("F" * 32, "F" * 32),
    ],
)
def test_normalise_accepts_what_readers_print(raw: str, expected: str) -> None:
    assert normalise_badge_uid(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "123", "F" * 33, "04A1B2CG", "hello", "04 A1;B2", "0x", "张三", "12\x0034"]
)
def test_normalise_rejects_garbage_with_a_clear_error(raw: str) -> None:
    with pytest.raises(BadgeUidError, match="not a badge UID"):
        normalise_badge_uid(raw)


def test_hash_is_hmac_sha256_of_the_normalised_uid() -> None:
    expected = hmac.new(b"branch-salt", b"04A1B2C3", hashlib.sha256).hexdigest()
    assert hash_badge_uid("04:a1:b2:c3", "branch-salt") == expected
    assert hash_badge_uid("04A1B2C3", b"branch-salt") == expected
    assert len(expected) == 64


def test_hash_depends_on_salt_and_uid() -> None:
    base = hash_badge_uid("04A1B2C3", "s1")
    assert hash_badge_uid("04A1B2C3", "s2") != base
    assert hash_badge_uid("04A1B2C4", "s1") != base
    assert "04A1B2C3" not in base


@pytest.mark.parametrize(
    ("uid", "salt", "error"), [("04A1", "", ValueError), ("xx", "s", BadgeUidError)]
)
def test_hash_refuses_bad_input(uid: str, salt: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        hash_badge_uid(uid, salt)


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([b"04A1B2C3\r\n"], ["04A1B2C3"]),
        ([b"04A1B2C3\n"], ["04A1B2C3"]),
        ([b"04A1B2C3\r"], ["04A1B2C3"]),
        ([b"04A1", b"B2C3\r", b"\n"], ["04A1B2C3"]),
        ([b"\x0204A1B2C3\x03\r\n"], ["04A1B2C3"]),  # STX/ETX framed
        ([b"\r\n\r\n 0012345678 \r\n\n"], ["0012345678"]),
        ([b"AAAA\nBBBB\r\nCCCC\r"], ["AAAA", "BBBB", "CCCC"]),
        ([b"04A1B2C3"], []),  # no line end yet
        (
            [b"hello world\r\n04A1B2C3\r\n"],
            [BadgeLineError("garbage", "not a UID: b'hello world'"), "04A1B2C3"],
        ),
        ([b"\xff\xfe\r\n"], [BadgeLineError("garbage", "not a UID: b'\\xff\\xfe'")]),
    ],
)
def test_line_parser(chunks: list[bytes], expected: list[object]) -> None:
    p = BadgeLineParser()
    assert [item for chunk in chunks for item in p.feed(chunk)] == expected


def test_an_over_long_line_is_dropped_to_its_end_and_the_next_line_read() -> None:
    p = BadgeLineParser(max_line=16)
    out = p.feed(b"1" * 10) + p.feed(b"2" * 10) + p.feed(b"3" * 1000) + p.feed(b"\r\n04A1B2C3\r\n")
    assert out == [BadgeLineError("too_long", "line longer than 16 bytes"), "04A1B2C3"]
    assert p.stats.too_long == 1 and p.stats.uids == 1 and p.stats.lines == 2


def test_a_garbage_flood_without_line_ends_keeps_memory_bounded() -> None:
    p = BadgeLineParser(max_line=64)
    for _ in range(1000):
        p.feed(b"\x00" * 1000)
    assert len(p._buf) <= 64
