"""Keypad wire protocol: encoding, decoding, rejection and resynchronisation tables."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from hal.keypad.protocol import (
    KEYPAD_TO_UNIT,
    MAX_PAYLOAD,
    MESSAGE_CLASSES,
    UNIT_TO_KEYPAD,
    Ack,
    AckStatus,
    Clear,
    Fault,
    FrameParser,
    Heartbeat,
    Key,
    ManualRecord,
    Message,
    MsgType,
    ParseError,
    Ping,
    PleaseRate,
    Pong,
    PromptRating,
    ProtocolError,
    RatingKey,
    SetBrightness,
    SetVolume,
    ShowMessage,
    ShowStaff,
    ShowWindowState,
    ThankYou,
    WindowStateKey,
    crc16,
    crc32,
    encode,
    fit_utf8,
    with_seq,
)

ALL_MESSAGES: list[Message] = [
    ShowStaff("张三", "A00123", "photo-42", seq=1),
    ShowStaff("", "", "", seq=2),
    ShowStaff("x" * 96, "9" * 32, "p" * 64, seq=255),
    PromptRating(100, seq=3),
    PromptRating(0xFFFF, seq=4),
    ThankYou(seq=5),
    Clear(seq=6),
    ShowMessage("请稍候 please wait", seq=7),
    ShowMessage("", seq=8),
    SetBrightness(0, seq=9),
    SetBrightness(100, seq=10),
    SetVolume(55, seq=11),
    Ping(seq=12),
    Key(1, seq=0),
    Key(0xA5, seq=0xA5),  # start byte inside a frame must not confuse the parser
    PleaseRate(seq=13),
    ManualRecord(seq=14),
    Heartbeat(0xFFFFFFFF, seq=15),
    Fault(0x0102, "display not responding", seq=16),
    Pong(12, seq=17),
    RatingKey(5, 0xA5, seq=20),
    ShowWindowState(2, "暂停服务 back at 14:30", seq=21),
    ShowWindowState(1, seq=22),
    WindowStateKey(3, seq=23),
    Ack(7, seq=18),
    Ack(7, AckStatus.BAD_PARAMETER, seq=19),
]


def frame(
    msg_type: int,
    payload: bytes = b"",
    *,
    seq: int = 0,
    version: int = 1,
    length: int | None = None,
    crc: int | None = None,
) -> bytes:
    """A frame with any field forced, for building broken input."""
    n = len(payload) if length is None else length
    body = struct.pack("<BBBH", version, msg_type, seq, n) + payload
    if version != 1:  # version 2 and later end in a CRC-32
        return b"\xa5" + body + struct.pack("<I", crc32(body) if crc is None else crc)
    return b"\xa5" + body + struct.pack("<H", crc16(body) if crc is None else crc)


def parse_all(data: bytes, *, idle: bool = True) -> tuple[list[Message], FrameParser]:
    p = FrameParser()
    items = p.feed(data) + (p.idle() if idle else [])
    return [m for m in items if not isinstance(m, ParseError)], p


def test_crc_is_ccitt_false_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1


def test_golden_key_frame() -> None:
    assert encode(Key(3, seq=7)).hex(" ") == "a5 01 81 07 01 00 03 4f 95"


@pytest.mark.parametrize("msg", ALL_MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip(msg: Message) -> None:
    data = encode(msg)
    assert data[0] == 0xA5 and data[1] == 1 and data[2] == msg.TYPE and data[3] == msg.seq
    assert struct.unpack("<H", data[4:6])[0] == len(data) - 8
    got, p = parse_all(data)
    assert got == [msg]
    assert p.stats.frames_ok == 1 and p.stats.discarded_bytes == 0


def test_every_type_has_a_round_trip_case() -> None:
    assert {m.TYPE for m in ALL_MESSAGES} == set(MESSAGE_CLASSES)


def test_directions_partition_the_types() -> None:
    both, either = UNIT_TO_KEYPAD & KEYPAD_TO_UNIT, UNIT_TO_KEYPAD | KEYPAD_TO_UNIT
    assert both == {MsgType.ACK}
    assert either == set(MESSAGE_CLASSES)


@pytest.mark.parametrize(
    ("build", "needle"),
    [
        (lambda: Key(0), "key=0"),
        (lambda: Key(256), "key=256"),
        (lambda: Key(3, seq=256), "seq=256"),
        (lambda: Key(True), "key=True"),
        (lambda: PromptRating(0), "timeout_ds=0"),
        (lambda: PromptRating(70000), "timeout_ds"),
        (lambda: SetBrightness(101), "level=101"),
        (lambda: SetVolume(-1), "level=-1"),
        (lambda: ShowStaff("名" * 33, "1", "p"), "name is 99 bytes"),
        (lambda: ShowStaff("a", "1" * 33, "p"), "staff_number"),
        (lambda: ShowMessage("x" * 201), "text is 201 bytes"),
        (lambda: Fault(70000, ""), "code"),
        (lambda: Heartbeat(-1), "uptime_s"),
    ],
)
def test_out_of_range_fields_are_refused_with_a_clear_error(
    build: Callable[[], object], needle: str
) -> None:
    with pytest.raises(ProtocolError, match=needle):
        build()


def test_with_seq_wraps() -> None:
    assert with_seq(Key(2), 257) == Key(2, seq=1)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("abc", 3, "abc"), ("abcd", 3, "abc"), ("张三丰", 7, "张三"), ("张三丰", 5, "张")],
)
def test_fit_utf8_never_splits_a_character(text: str, limit: int, expected: str) -> None:
    assert fit_utf8(text, limit) == expected


K1, K2 = encode(Key(1, seq=1)), encode(Key(2, seq=2))
ONE, TWO, BOTH = [Key(1, seq=1)], [Key(2, seq=2)], [Key(1, seq=1), Key(2, seq=2)]

# (id, stream, messages expected, the stats counter that must have counted the rejection)
RESYNC_CASES = [
    ("garbage", b"\x00\xff\x13garbage" + K1, ONE, "garbage_bytes"),
    ("fake-sof-prefix", b"\xa5\xa5\x00" + K1, ONE, "oversize"),
    ("fake-header", b"\xa5\x01\x81\x00\x02\x00" + K1, ONE, "bad_crc"),
    ("lost-length-byte", K1[:4] + K1[5:] + K2, TWO, "truncated"),
    ("lost-payload-byte", K1[:6] + K1[7:] + K2, TWO, "bad_crc"),
    ("bad-crc", K1[:-1] + b"\x00" + K2, TWO, "bad_crc"),
    ("oversize", frame(0x81, b"\x01", length=300) + K2, TWO, "oversize"),
    ("unknown-type", frame(0x99, b"\x01") + K2, TWO, "unknown_type"),
    ("unknown-version", frame(0x81, b"\x01", version=3) + K2, TWO, "bad_version"),
    ("key-zero", frame(0x81, b"\x00") + K2, TWO, "bad_payload"),
    ("trailing-bytes", frame(0x81, b"\x01\x02") + K2, TWO, "bad_payload"),
    ("bad-utf8", frame(0x05, b"\x02\xff\xfe") + K2, TWO, "bad_payload"),
    ("short-string", frame(0x01, b"\x05ab") + K2, TWO, "bad_payload"),
    ("level-101", frame(0x06, b"\x65") + K2, TWO, "bad_payload"),
    # A corrupted length claims 200 bytes: the frames behind it come back at line idle.
    ("long-length-then-idle", frame(0x81, b"\x01", length=200)[:-2] + K1 + K2, BOTH, "truncated"),
]


@pytest.mark.parametrize(
    ("stream", "expected", "counter"),
    [c[1:] for c in RESYNC_CASES],
    ids=[c[0] for c in RESYNC_CASES],
)
def test_rejects_and_resynchronises(stream: bytes, expected: list[Message], counter: str) -> None:
    got, p = parse_all(stream)
    assert got == expected
    assert getattr(p.stats, counter) >= 1
    assert p.stats.bytes_in == p.stats.bytes_ok + p.stats.discarded_bytes + p.pending


def test_a_rejection_is_reported_in_order_with_its_reason() -> None:
    items = FrameParser().feed(frame(0x99, b"") + K1)
    assert isinstance(items[0], ParseError) and items[0].kind == "unknown_type"
    assert items[0].discarded == 8
    assert items[1] == Key(1, seq=1)


def test_partial_frame_waits_for_the_rest_without_idle() -> None:
    p = FrameParser()
    assert p.feed(K1[:5]) == []
    assert p.pending == 5
    assert p.feed(K1[5:]) == [Key(1, seq=1)]


def test_one_byte_at_a_time_gives_the_same_messages() -> None:
    noise = b"\x00\xa5\x01\xa5\xa5\x13"
    stream = b"".join(noise + encode(m) for m in ALL_MESSAGES) + noise
    whole, _ = parse_all(stream)
    p = FrameParser()
    byte_by_byte = [m for i in range(len(stream)) for m in p.feed(stream[i : i + 1])]
    byte_by_byte += p.idle()
    assert [m for m in byte_by_byte if not isinstance(m, ParseError)] == whole == ALL_MESSAGES


def test_buffer_stays_bounded_under_garbage() -> None:
    p = FrameParser()
    for _ in range(100):
        p.feed(b"\xa5\x01\x81\x00" + b"\x00" * 1000)  # fake header claiming a short frame
        assert p.pending <= MAX_PAYLOAD + 8
    assert p.stats.frames_ok == 0


def test_never_raises_on_every_single_byte_value_after_a_header() -> None:
    for type_byte in range(256):
        for length in (0, 1, 2, 5, 256, 257):
            p = FrameParser()
            p.feed(frame(type_byte, bytes(range(min(length, 256))), length=length))
            p.idle()
            assert p.pending == 0


def test_reset_discards_buffered_bytes() -> None:
    p = FrameParser()
    p.feed(K1[:4])
    p.reset()
    assert p.pending == 0 and p.stats.discarded_bytes == 4
    assert p.feed(K2) == [Key(2, seq=2)]
