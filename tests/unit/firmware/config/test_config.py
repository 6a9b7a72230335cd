"""Config validation: every problem names its key path and the rule it breaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.cli.app import main
from firmware.config.unit import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[4] / "docs" / "unit.example.toml"
MINIMAL = {"camera": {"type": "file", "path": "/tmp/x.mp4"}}


def test_example_config_is_valid() -> None:
    cfg = load_config(EXAMPLE)
    assert set(cfg.zones) == {"seat", "customer"}
    assert [k.rating for k in cfg.keypad.keys] == [1, 3, 5]  # type: ignore[union-attr]


def test_defaults_make_a_single_camera_counter() -> None:
    cfg = parse_config(MINIMAL)
    seat, cust = cfg.zones["seat"], cfg.zones["customer"]
    assert (seat.x0, seat.x1, cust.x0, cust.x1) == (0.0, 0.5, 0.5, 1.0)
    assert cfg.rules.off_seat_alert_s == (120.0, 300.0, 600.0)
    assert cfg.rules.rating_window_s == 10.0
    assert cfg.schedule.shifts == ()


BAD = {
    "wrong type": ({"camera": {**MINIMAL["camera"], "analysis_fps": "fast"}},
                   "camera.file.analysis_fps: Input should be a valid number"),
    "unknown key": ({**MINIMAL, "unit": {"unit_idd": "x"}}, "unit.unit_idd: unknown key"),
    "out of range": ({"camera": {**MINIMAL["camera"], "analysis_fps": 100}},
                     "camera.file.analysis_fps: Input should be less than or equal to 30"),
    "zone inverted": ({**MINIMAL, "zones": {"seat": {"x0": 0.6, "y0": 0, "x1": 0.5, "y1": 1},
                                             "customer": {"x0": 0.5, "y0": 0, "x1": 1, "y1": 1}}},
                      "zones.seat: zone must have x0 < x1"),
    "missing zone": ({**MINIMAL, "zones": {"seat": {"x0": 0, "y0": 0, "x1": 0.5, "y1": 1}}},
                     "zones must define ['customer']"),
    "unknown camera type": ({"camera": {"type": "webcam"}}, "camera: Input tag 'webcam'"),
    "post-roll shorter than exit hold": ({**MINIMAL, "recording": {"post_roll_s": 1}},
                                         "recording.post_roll_s (1.0) must be >="),
    "alert levels not ascending": ({**MINIMAL, "rules": {"off_seat_alert_s": [300, 120, 600]}},
                                   "rules: off_seat_alert_s must be strictly ascending"),
    "bad timezone": ({**MINIMAL, "unit": {"timezone": "Mars/Olympus"}},
                     "unit: timezone 'Mars/Olympus' is not a known IANA zone"),
    "duplicate key codes": ({**MINIMAL, "keypad": {"keys": [{"code": 1, "rating": 1}] * 3}},
                            "keypad: key codes must be distinct"),
    "missing camera": ({}, "camera: required key is missing"),
    "evdev badge without device": ({**MINIMAL, "badge": {"type": "evdev"}},
                                   "badge.evdev.device: required key is missing"),
    "unknown badge type": ({**MINIMAL, "badge": {"type": "nfc"}}, "badge: Input tag 'nfc'"),
}


@pytest.mark.parametrize("data,expected", BAD.values(), ids=BAD.keys())
def test_problem_names_key_and_rule(data: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert any(p.startswith(expected) for p in info.value.problems), info.value.problems


def test_badge_type_defaults_to_serial_and_takes_evdev() -> None:
    serial = parse_config({**MINIMAL, "badge": {"url": "/dev/ttyUSB1"}}).badge
    assert serial is not None and serial.type == "serial"
    evdev = parse_config({**MINIMAL, "badge": {"type": "evdev", "device": "/dev/input/x"}}).badge
    assert evdev is not None and evdev.type == "evdev" and evdev.grab is True


def test_every_problem_is_reported_at_once() -> None:
    data = {"camera": {"type": "file", "path": "/x", "analysis_fps": 0, "bogus": 1},
            "rules": {"rating_window_s": 1000}}
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert len(info.value.problems) == 3


@pytest.mark.parametrize("text,expected", [
    ("camera = [", "not valid TOML"),
    ("[camera]\ntype='file'\npath='/x'\nanalysis_fps='x'\n", "camera.file.analysis_fps"),
])
def test_check_config_cli_reports_and_exits_nonzero(tmp_path: Path, text: str, expected: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "unit.toml"
    path.write_text(text)
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_check_config_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_check_config_cli_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "OK" in capsys.readouterr().out


def test_pre_roll_ring_reaches_back_past_the_slowest_decision() -> None:
    from firmware.daemon.unit import ring_seconds

    cfg = parse_config(MINIMAL)
    # seat exit-hold 5 s is the slowest decision; off-seat clips start 3 s before it.
    assert ring_seconds(cfg) >= cfg.recording.pre_roll_s + 5.0 + 3.0
