"""``[microphone]`` config: the sounddevice back-end's keys, bounds and errors."""

from __future__ import annotations

import pytest

from firmware.config.unit import ConfigError, parse_config
from firmware.wiring.mic import build_microphone
from hal.mic.config import SounddeviceMicConfig
from hal.mic.sounddevice_mic import SounddeviceMicrophone

CAMERA = {"type": "file", "path": "/tmp/x.mp4"}


def mic_config(**mic: object) -> dict:
    return {"camera": CAMERA, "microphone": {"type": "sounddevice", **mic}}


def test_sounddevice_defaults() -> None:
    mic = parse_config(mic_config()).microphone
    assert isinstance(mic, SounddeviceMicConfig)
    assert (mic.device, mic.sample_rate, mic.block_ms, mic.queue_s, mic.mix_channels,
            mic.lost_after_s) == (None, 16000, 100, 5.0, (1,), 3.0)


@pytest.mark.parametrize("device", ["USB PnP", 3])
def test_device_by_name_or_index(device: str | int) -> None:
    mic = parse_config(mic_config(device=device)).microphone
    assert isinstance(mic, SounddeviceMicConfig) and mic.device == device


BAD = {
    "rate the encoder cannot take": ({"sample_rate": 22050},
                                     "microphone.sounddevice.sample_rate: Input should be 8000"),
    "block too short": ({"block_ms": 5},
                        "microphone.sounddevice.block_ms: Input should be greater than or equal "
                        "to 10"),
    "queue too long": ({"queue_s": 600},
                       "microphone.sounddevice.queue_s: Input should be less than or equal to 60"),
    "channel 0": ({"mix_channels": [0]}, "microphone.sounddevice.mix_channels.0: Input should "
                                         "be greater than or equal to 1"),
    "repeated channel": ({"mix_channels": [1, 1]},
                         "microphone.sounddevice.mix_channels: mix_channels must be distinct"),
    "no channel": ({"mix_channels": []}, "microphone.sounddevice.mix_channels: Tuple should have "
                                         "at least 1 item"),
    "empty device name": ({"device": ""},
                          "microphone.sounddevice.device: device name must be 1 to 128"),
    "negative index": ({"device": -1},
                       "microphone.sounddevice.device: device index must be 0 to 255, got -1"),
    "device of the wrong type": ({"device": 1.5},
                                 "microphone.sounddevice.device.str: Input should be a valid"),
    "typo": ({"devcie": "usb"}, "microphone.sounddevice.devcie: unknown key"),
}


@pytest.mark.parametrize("mic,expected", BAD.values(), ids=BAD.keys())
def test_problem_names_key_and_rule(mic: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(mic_config(**mic))
    assert any(p.startswith(expected) for p in info.value.problems), info.value.problems


def test_build_passes_the_settings_without_opening_anything() -> None:
    cfg = parse_config(mic_config(device="usb", sample_rate=48000, block_ms=20, queue_s=2,
                                  mix_channels=[2, 1], lost_after_s=5))
    mic = build_microphone(cfg, lambda: 0.0)
    assert isinstance(mic, SounddeviceMicrophone)
    assert (mic.device, mic.sample_rate, mic._block_n, mic._mix, mic._lost_after_s) == (
        "usb", 48000, 960, (2, 1), 5.0)
    assert mic._queue._capacity == 100
