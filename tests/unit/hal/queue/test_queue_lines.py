"""The queue line format: hand-worked lines, every rejection kind, stream splitting."""

from __future__ import annotations

import pytest

from hal.queue.lines import (
    Called,
    Heartbeat,
    LineError,
    LineParser,
    Waiting,
    crc16,
    encode,
    parse_line,
)


def test_crc_is_ccitt_false() -> None:
    assert crc16(b"123456789") == 0x29B1


@pytest.mark.parametrize(("record", "line"), [
    (Waiting("A", 7), b"$Q A 7*F3EE\r\n"),
    (Waiting("VIP", 0), b"$Q VIP 0*BD17\r\n"),
    (Called("A031", "3"), b"$C A031 3*0745\r\n"),
    (Called("B-112", "counter-01"), b"$C B-112 counter-01*B8CE\r\n"),
    (Heartbeat(3600), b"$H 3600*9200\r\n"),
])
def test_encode_and_parse_round_trip(record: object, line: bytes) -> None:
    assert encode(record) == line  # type: ignore[arg-type]
    assert parse_line(line.rstrip(b"\r\n")) == record


@pytest.mark.parametrize(("line", "kind"), [
    (b"$Q A 7*F3EF", "bad_checksum"),
    (b"$Q A 8*F3EE", "bad_checksum"),
    (b"$Q A 7*f3ee", "bad_syntax"),  # hex digits are upper case
    (b"$Q A 7", "bad_syntax"),  # no CRC
    (b"$Q A 7*F3E", "bad_syntax"),
    (b"Q A 7*F3EE", "no_start"),
    (b"$Q A \xb7*F3EE", "not_ascii"),
])
def test_damaged_lines_are_rejected(line: bytes, kind: str) -> None:
    result = parse_line(line)
    assert isinstance(result, LineError) and result.kind == kind, result


def _signed(body: bytes) -> bytes:
    return b"$%s*%04X" % (body, crc16(body))


@pytest.mark.parametrize("body", [
    b"Q A -1", b"Q A 10000", b"Q A 07", b"Q A  7", b"Q A 7 ", b"Q A", b"Q A 7 8",
    b"Q -A 7", b"Q " + b"S" * 33 + b" 1", b"C A031", b"C A031 3 4", b"C A/31 3",
    b"H -1", b"H 4294967296", b"X 1", b"", b"q A 7", b"Q A \xd9\xa7",
])
def test_well_signed_lines_that_break_the_grammar(body: bytes) -> None:
    result = parse_line(_signed(body))
    assert isinstance(result, LineError), result
    assert result.kind in ("bad_syntax", "not_ascii")


def test_grammar_edges_that_are_allowed() -> None:
    assert parse_line(_signed(b"Q A 9999")) == Waiting("A", 9999)
    assert parse_line(_signed(b"H 4294967295")) == Heartbeat(2**32 - 1)
    assert parse_line(_signed(b"C " + b"T" * 32 + b" 3")) == Called("T" * 32, "3")


def test_noise_before_the_start_is_skipped() -> None:
    assert parse_line(b"\x00\xff$$ junk $Q A 7*F3EE") == Waiting("A", 7)


def test_stream_split_anywhere() -> None:
    stream = encode(Waiting("A", 7)) + b"\r\n" + encode(Called("A031", "3")) + b"$H 1"
    for cut in range(len(stream) + 1):
        p = LineParser()
        got = p.feed(stream[:cut]) + p.feed(stream[cut:])
        assert got == [Waiting("A", 7), Called("A031", "3")]
        assert p.pending == 4 and p.stats.lines == 2 and p.stats.accepted == 2


def test_a_flood_without_line_ends_is_bounded_and_the_next_line_survives() -> None:
    p = LineParser()
    for _ in range(100):
        assert p.feed(b"x" * 1000) == []
        assert p.pending <= 128
    got = p.feed(b"\n" + encode(Waiting("B", 3)))
    assert got[0] == LineError("overlong", "line over 128 bytes") and got[1:] == [Waiting("B", 3)]
    assert p.stats.garbage_bytes == 100_000 and p.stats.rejected == {"overlong": 1}


def test_lf_only_lines_and_blank_lines() -> None:
    p = LineParser()
    assert p.feed(b"\n\r\n$Q A 7*F3EE\n\n") == [Waiting("A", 7)]
    assert p.stats.lines == 1


def test_encode_refuses_what_the_grammar_refuses() -> None:
    with pytest.raises(ValueError):
        encode(Waiting("A B", 1))
    with pytest.raises(ValueError):
        encode(Waiting("A", 10_000))
