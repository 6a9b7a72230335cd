"""docs/keypad-protocol.md must agree byte for byte with hal.keypad.protocol."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from evaluator.sim import KeypadSim
from hal.keypad import protocol
from hal.keypad.protocol import (
    MESSAGE_CLASSES,
    VERSION_2,
    FrameParser,
    Message,
    ParseError,
    crc16,
    crc32,
    encode,
)
from hal.keypad.serial_keypad import SerialKeypad

DOC = (Path(__file__).resolve().parents[4] / "docs" / "keypad-protocol.md").read_text("utf-8")
EXAMPLES = re.findall(r"^message: (.+)\n^frame: +([0-9A-F ]+)$", DOC, flags=re.M)
EXAMPLES_V2 = re.findall(r"^message v2: (.+)\n^frame v2: +([0-9A-F ]+)$", DOC, flags=re.M)
STREAMS = re.findall(r"^stream: +([0-9A-F ]+)\n^decodes: (.+)$", DOC, flags=re.M)


def build(text: str) -> Message:
    """Build a message from the doc's ``Name(field=literal, ...)`` notation, no eval."""
    call = ast.parse(text.strip(), mode="eval").body
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and not call.args
    cls = getattr(protocol, call.func.id)
    assert cls in MESSAGE_CLASSES.values(), call.func.id
    msg: Message = cls(**{str(kw.arg): ast.literal_eval(kw.value) for kw in call.keywords})
    return msg


def test_doc_has_an_example_for_every_message_type() -> None:
    assert len(EXAMPLES) >= len(MESSAGE_CLASSES)
    assert {build(m).TYPE for m, _ in EXAMPLES} == set(MESSAGE_CLASSES)


@pytest.mark.parametrize(("message", "hex_frame"), EXAMPLES, ids=[m for m, _ in EXAMPLES])
def test_example_encodes_and_decodes_exactly(message: str, hex_frame: str) -> None:
    msg, raw = build(message), bytes.fromhex(hex_frame)
    assert encode(msg) == raw
    assert FrameParser().feed(raw) == [msg]


@pytest.mark.parametrize(("message", "hex_frame"), EXAMPLES_V2, ids=[m for m, _ in EXAMPLES_V2])
def test_version_2_example_encodes_and_decodes_exactly(message: str, hex_frame: str) -> None:
    msg, raw = build(message), bytes.fromhex(hex_frame)
    assert encode(msg, VERSION_2) == raw
    parser = FrameParser()
    assert parser.feed(raw) == [msg] and parser.stats.frames_v2 == 1
    assert FrameParser(max_version=1).feed(raw) == [ParseError("bad_version", "version 0x02",
                                                               len(raw))]


def test_doc_has_version_2_examples_and_the_crc32_check_value() -> None:
    assert len(EXAMPLES_V2) >= 3
    check = re.search(r"crc32 check value `0x([0-9A-F]{8})`", DOC)
    assert check is not None and crc32(b"123456789") == int(check.group(1), 16)


@pytest.mark.parametrize(("hex_stream", "decodes"), STREAMS)
def test_error_stream_examples(hex_stream: str, decodes: str) -> None:
    p = FrameParser()
    items = p.feed(bytes.fromhex(hex_stream)) + p.idle()
    assert [m for m in items if not isinstance(m, ParseError)] == [build(decodes)]
    assert p.stats.garbage_bytes + p.stats.rejected > 0


def test_type_table_matches_the_code() -> None:
    rows = re.findall(r"^\| 0x([0-9A-F]{2}) \| ([A-Z_]+) \| ([^|]+) \|", DOC, flags=re.M)
    table = {int(code, 16): name for code, name, _ in rows}
    assert table == {int(t): t.name for t in protocol.MsgType}
    for code, _, direction in rows:
        expected = (
            "both"
            if int(code, 16) >= 0xF0
            else ("keypad → unit" if int(code, 16) >= 0x80 else "unit → keypad")
        )
        assert direction.strip() == expected


def test_documented_crc_check_value() -> None:
    check = re.search(r"check value \| `0x([0-9A-F]{4})` \(CRC of the ASCII string `(\w+)`", DOC)
    assert check is not None
    assert crc16(check.group(2).encode()) == int(check.group(1), 16)


@pytest.mark.parametrize(
    ("phrase", "component", "parameter", "value"),
    [
        ("| heartbeat period (keypad) | 1 s", KeypadSim, "heartbeat_s", 1.0),
        ("| link-loss timeout (unit) | 3.5 s", SerialKeypad, "link_timeout_s", 3.5),
        (
            "| inter-byte timeout (both) | a partial frame followed by 100 ms",
            SerialKeypad,
            "interbyte_timeout_s",
            0.1,
        ),
        ("| ACK timeout / retries (keypad) | 300 ms / 2", KeypadSim, "ack_timeout_s", 0.3),
        ("| ACK timeout / retries (keypad) | 300 ms / 2", KeypadSim, "retries", 2),
        ("| duplicate window (unit) | 1 s", SerialKeypad, "dedupe_window_s", 1.0),
        ("retries opening it every 1 s", SerialKeypad, "reconnect_s", 1.0),
    ],
)
def test_documented_timing_matches_defaults(
    phrase: str, component: type, parameter: str, value: float
) -> None:
    assert phrase in DOC
    assert inspect.signature(component).parameters[parameter].default == value
