"""Shift schedule (table), replay script parsing, and systemd notify messages."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest

from firmware.config.unit import Shift
from firmware.daemon.schedule import is_open
from firmware.system.notify import Notifier
from firmware.tools.script import ScriptedBadgeReader, ScriptedKeypad, ScriptError, load_script

WEEKDAYS = (Shift(days=("mon", "tue", "wed", "thu", "fri"), start=dt.time(9), end=dt.time(17)),)


@pytest.mark.parametrize("shifts,when,expected", [
    ((), dt.datetime(2026, 11, 22, 3, 0), True),                 # no schedule: always open
    (WEEKDAYS, dt.datetime(2026, 11, 23, 9, 0), True),          # Monday at opening
    (WEEKDAYS, dt.datetime(2026, 11, 23, 8, 59), False),        # before opening
    (WEEKDAYS, dt.datetime(2026, 11, 23, 17, 0), False),        # closing time is closed
    (WEEKDAYS, dt.datetime(2026, 11, 22, 12, 0), False),        # Sunday
])
def test_is_open(shifts: tuple[Shift, ...], when: dt.datetime, expected: bool) -> None:
    assert is_open(shifts, when) is expected


def test_script_delivers_items_when_media_time_reaches_them(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"t": 5, "key": 4}\n# comment\n\n{"t": 1, "badge": "AB12"}\n'
                    '{"t": 7, "please_rate": true}\n')
    items = load_script(path)
    now = [0.0]
    badge = ScriptedBadgeReader(items, lambda: now[0])
    keypad = ScriptedKeypad(items, lambda: now[0])
    assert badge.reads() == [] and keypad.events() == []
    now[0] = 5.0
    assert [r.uid for r in badge.reads()] == ["AB12"]
    assert [(e.kind, e.key) for e in keypad.events()] == [("key", 4)]
    now[0] = 9.0
    assert [e.kind for e in keypad.events()] == ["please_rate"]
    assert badge.reads() == [] and keypad.events() == []


@pytest.mark.parametrize("line,expected", [
    ("{not json", "s.jsonl:1: not JSON"),
    ('{"t": 1}', "s.jsonl:1: line: Value error, each line needs exactly one"),
    ('{"t": -1, "key": 1}', "s.jsonl:1: t: Input should be greater than or equal to 0"),
    ('{"t": 1, "key": 1, "colour": "red"}', "s.jsonl:1: colour: Extra inputs"),
])
def test_script_errors_name_line_and_problem(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ScriptError, match=expected.replace("(", r"\(")):
        load_script(path)


def test_notifier_sends_ready_watchdog_stopping(tmp_path: Path) -> None:
    addr = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(addr)
        server.settimeout(5)
        n = Notifier(addr)
        n.ready("counting")
        assert server.recv(256) == b"READY=1\nSTATUS=counting"
        n.watchdog(100.0)
        n.watchdog(100.1)  # rate-limited: only one ping per half interval
        n.stopping()
        assert server.recv(256) == b"WATCHDOG=1"
        assert server.recv(256) == b"STOPPING=1"


def test_notifier_without_socket_is_silent() -> None:
    Notifier("").ready()  # must not raise
