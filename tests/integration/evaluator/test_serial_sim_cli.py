"""The simulators' command lines drive a real SerialKeypad / SerialBadgeReader over a pty."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from evaluator.sim_cli import badge_main, keypad_main, parse_script
from hal.badge.serial_badge import SerialBadgeReader
from hal.keypad.base import KeypadEvent
from hal.keypad.serial_keypad import SerialKeypad

DEADLINE_S = 5.0


def collect_keys(kp: SerialKeypad, n: int) -> list[KeypadEvent]:
    got: list[KeypadEvent] = []
    deadline = time.monotonic() + DEADLINE_S
    while len([e for e in got if e.kind in ("key", "please_rate", "manual_record")]) < n:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"events so far: {got}"
        kp.wait_for_event(remaining)
        got += kp.events()
    return [e for e in got if e.kind in ("key", "please_rate", "manual_record")]


@pytest.mark.parametrize(
    ("text", "script"), [("5,4,1,5", [5, 4, 1, 5]), ("5, -,1", [5, None, 1]), ("", [])]
)
def test_parse_script(text: str, script: list[int | None]) -> None:
    assert parse_script(text) == script


@pytest.mark.parametrize("text", ["0", "256", "five", "5;4"])
def test_parse_script_rejects_bad_entries(text: str) -> None:
    with pytest.raises(ValueError, match="auto-rate entry"):
        parse_script(text)


def test_bad_script_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        keypad_main(["--port", "/nonexistent/x", "--auto-rate", "9,x"])
    assert exc.value.code == 2
    assert "auto-rate entry 'x'" in capsys.readouterr().err


def test_keypad_sim_auto_rates_and_exits_when_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "keypad"
    kp = SerialKeypad(str(link), clock=time.monotonic, reconnect_s=0.02)
    kp.start()
    result: list[int] = []
    argv = ["--port", str(link), "--auto-rate", "5,-,1", "--delay", "0", "--heartbeat", "0.1"]
    cli = threading.Thread(target=lambda: result.append(keypad_main([*argv, "--exit-when-done"])))
    cli.start()
    try:
        deadline = time.monotonic() + DEADLINE_S
        while kp.link_up is not True:  # the unit keeps reopening until the pty appears
            assert time.monotonic() < deadline
            kp.wait_for_event(0.05)
        kp.prompt_rating(10)
        first = collect_keys(kp, 1)
        kp.prompt_rating(10)  # "-": no answer
        kp.prompt_rating(10)
        second = collect_keys(kp, 1)
        cli.join(DEADLINE_S)
    finally:
        kp.stop()
    assert [e.key for e in first + second] == [5, 1]
    assert result == [0]
    assert not link.exists()  # the published pty is removed on exit
    out = capsys.readouterr().out
    assert "unit side of the line" in out and "please rate (10 s)" in out


def test_keypad_sim_interactive(tmp_path: Path) -> None:
    link = tmp_path / "keypad"
    kp = SerialKeypad(str(link), clock=time.monotonic, reconnect_s=0.02)
    kp.start()
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r")
    cli = threading.Thread(
        target=keypad_main, args=(["--port", str(link), "--interactive"],), kwargs={"stdin": stdin}
    )
    cli.start()
    try:
        deadline = time.monotonic() + DEADLINE_S
        while kp.link_up is not True:
            assert time.monotonic() < deadline
            kp.wait_for_event(0.05)
        os.write(write_fd, b"3\nr\nm\nbogus\n")
        events = collect_keys(kp, 3)
        os.write(write_fd, b"q\n")
        cli.join(DEADLINE_S)
    finally:
        os.close(write_fd)
        kp.stop()
        stdin.close()
    assert [(e.kind, e.key) for e in events] == [
        ("key", 3),
        ("please_rate", None),
        ("manual_record", None),
    ]
    assert not cli.is_alive()


def test_badge_sim_taps_uids(tmp_path: Path) -> None:
    link = tmp_path / "badge"
    reader = SerialBadgeReader(str(link), clock=lambda: 0.0, reconnect_s=0.02)
    reader.start()
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r")
    cli = threading.Thread(
        target=badge_main, args=(["--port", str(link), "--interactive"],), kwargs={"stdin": stdin}
    )
    cli.start()
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not reader.is_open:
            assert time.monotonic() < deadline
            reader.wait_for_read(0.02)
        os.write(write_fd, b"04a1b2c3\nDEADBEEF\n")
        got: list[str] = []
        while len(got) < 2:
            assert time.monotonic() < deadline
            reader.wait_for_read(0.1)
            got += [r.uid for r in reader.reads()]
    finally:
        os.close(write_fd)
        cli.join(DEADLINE_S)
        reader.stop()
        stdin.close()
    assert got == ["04A1B2C3", "DEADBEEF"]
