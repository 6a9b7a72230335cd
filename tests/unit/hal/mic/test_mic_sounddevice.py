"""SounddeviceMicrophone's pure parts (device choice, mixing, block timing, the
bounded queue, overflow episodes) and its PortAudio callback driven directly
with recorded-style time/status values: no sounddevice import, no device."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from hal.mic.base import AudioBlock, MicrophoneError
from hal.mic.sounddevice_mic import SounddeviceMicrophone
from hal.mic.sounddevice_parts import (
    REANCHOR_S,
    BlockQueue,
    BlockTimer,
    EpisodeLog,
    mix_to_mono,
    resolve_device,
)


def dev(name: str, inputs: int) -> dict:
    return {"name": name, "max_input_channels": inputs}


DEVICES = [dev("HDA Intel PCH: ALC3246 Analog (hw:0,0)", 2), dev("HDMI 0 (hw:0,3)", 0),
           dev("USB PnP Sound Device: Audio (hw:1,0)", 1), dev("pulse", 32),
           dev("default", 32)]

RESOLVE = {
    "substring, any case": ("usb pnp", 2),
    "exact name beats substrings": ("default", 4),
    "index": (0, 0),
    "default input": (None, 4),
}


@pytest.mark.parametrize("wanted,index", RESOLVE.values(), ids=RESOLVE.keys())
def test_resolve_device(wanted: str | int | None, index: int) -> None:
    assert resolve_device(DEVICES, wanted, default=4) == index


RESOLVE_BAD = {
    "no match lists inputs only": ("webcam", "no input device matching 'webcam' (input devices "
                                   "found: 0: HDA Intel PCH: ALC3246 Analog (hw:0,0); 2: USB"),
    "output-only index": (1, "input device index 1 not found"),
    "ambiguous": ("hw:", "input device 'hw:' is ambiguous, matches 0: HDA"),
}


@pytest.mark.parametrize("wanted,message", RESOLVE_BAD.values(), ids=RESOLVE_BAD.keys())
def test_resolve_device_errors_name_the_request(wanted: str | int, message: str) -> None:
    with pytest.raises(MicrophoneError) as info:
        resolve_device(DEVICES, wanted, default=4)
    assert str(info.value).startswith(message), str(info.value)
    assert "HDMI" not in str(info.value)


def test_no_default_input_is_an_error() -> None:
    with pytest.raises(MicrophoneError, match=r"no default input device .*found: none"):
        resolve_device([dev("HDMI", 0)], None, default=-1)


MIX = {
    "one channel": ([[1, 2], [3, 4]], (2,), [2, 4]),
    "average of two, floor": ([[1, 2], [-3, -4]], (1, 2), [1, -4]),
    "no int16 overflow": ([[32767, 32767], [-32768, -32768]], (1, 2), [32767, -32768]),
}


@pytest.mark.parametrize("frames,channels,mono", MIX.values(), ids=MIX.keys())
def test_mix_to_mono(frames: list, channels: tuple[int, ...], mono: list) -> None:
    out = mix_to_mono(np.array(frames, dtype=np.int16), channels)
    assert out.dtype == np.int16 and out.tolist() == mono


RATE = 1000  # 100-sample blocks last 0.1 s


def test_timer_trusts_a_steady_adc_clock() -> None:
    timer = BlockTimer(RATE)
    # Callbacks run 30 ms after the block's first sample, with 5 ms of jitter on ``now``.
    times = [timer.measure(now=10.03 + 0.1 * i + (0.005 if i % 2 else 0), frames=100,
                           adc_time=500.0 + 0.1 * i,
                           stream_time=500.03 + 0.1 * i + (0.005 if i % 2 else 0))
             for i in range(5)]
    assert times == pytest.approx([10.0 + 0.1 * i for i in range(5)])
    assert timer.adc_trusted


ADC_BAD = {
    "zero": (0.0, 0.0),
    "in the future": (501.0, 500.0),
    "too far behind": (400.0, 500.0),
}


@pytest.mark.parametrize("adc,stream", ADC_BAD.values(), ids=ADC_BAD.keys())
def test_timer_falls_back_to_callback_time_on_a_silly_adc_clock(adc: float, stream: float) -> None:
    timer = BlockTimer(RATE)
    assert timer.measure(now=20.0, frames=100, adc_time=adc, stream_time=stream) == 19.9
    assert not timer.adc_trusted


def test_timer_stops_trusting_an_adc_clock_that_outruns_the_samples() -> None:
    timer = BlockTimer(RATE)
    assert timer.measure(20.0, 100, 5.0, 5.5) == 19.5
    assert timer.measure(20.1, 100, 5.2, 5.6) == 20.0  # ADC stepped 0.2 s for 0.1 s of audio
    assert not timer.adc_trusted
    assert timer.measure(20.2, 100, 5.3, 5.7) == pytest.approx(20.1)  # sticky for the stream


def test_timer_accepts_an_adc_jump_after_a_gap() -> None:
    timer = BlockTimer(RATE)
    timer.measure(20.0, 100, 5.0, 5.01)
    assert timer.measure(20.5, 100, 5.49, 5.5, gap=True) == pytest.approx(20.49)
    assert timer.adc_trusted


def test_block_times_follow_samples_and_slew_toward_measurements() -> None:
    timer = BlockTimer(RATE)
    assert timer.place(100, 10.0) == 10.0
    # 10 ms off: follows the sample grid, nudged by 1 % of the error.
    assert timer.place(100, 10.11) == pytest.approx(10.1 + 0.0001)
    # A constant offset is absorbed slowly without jumps.
    t = [timer.place(100, 10.21 + 0.1 * i) for i in range(400)]
    steps = np.diff(t)
    assert np.all(np.abs(steps - 0.1) < 0.001)
    assert t[-1] == pytest.approx(10.21 + 0.1 * 399, abs=0.001)


def test_block_times_reanchor_on_a_jump_or_a_gap() -> None:
    timer = BlockTimer(RATE)
    timer.place(100, 10.0)
    assert timer.place(100, 10.1 + REANCHOR_S + 0.01) == 10.1 + REANCHOR_S + 0.01
    timer.place(100, 10.26)
    assert timer.place(100, 10.37, gap=True) == 10.37


def block(t: float) -> AudioBlock:
    return AudioBlock(np.zeros(10, np.int16), t, 100)


def test_queue_returns_blocks_starting_before_until_and_drops_the_oldest() -> None:
    q = BlockQueue(capacity=3)
    for t in range(5):
        q.push(block(float(t)))
    assert (q.pushed, q.dropped) == (5, 2)
    assert [b.t for b in q.pop_until(4.0)] == [2.0, 3.0]
    assert q.pop_until(4.0) == []
    assert [b.t for b in q.pop_until(math.inf)] == [4.0]


def test_overflow_episode_is_logged_once_at_start_and_once_at_end(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    ep = EpisodeLog()
    for total in (0, 1, 3, 7, 7, 7, 9, 9):
        ep.update(total, "mic")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "mic: overflow, audio blocks are being lost"),
        ("INFO", "mic: overflow over, 7 block(s) lost"),
        ("WARNING", "mic: overflow, audio blocks are being lost"),
        ("INFO", "mic: overflow over, 2 block(s) lost"),
    ]


def status(overflow: bool = False) -> SimpleNamespace:
    return SimpleNamespace(input_overflow=overflow)


def times(adc: float, current: float) -> SimpleNamespace:
    return SimpleNamespace(inputBufferAdcTime=adc, currentTime=current)


def test_callback_mixes_stamps_and_counts_input_overflows() -> None:
    now = [100.0]
    m = SounddeviceMicrophone("x", sample_rate=RATE, block_s=0.1, queue_s=0.3,
                              mix_channels=(1, 2), clock=lambda: now[0])
    frames = np.stack([np.full(100, 10, np.int16), np.full(100, 20, np.int16)], axis=1)
    for i in range(5):
        # Block 3 follows an upstream overflow: 0.2 s of audio never arrived.
        late = 0.2 if i >= 3 else 0.0
        now[0] = 100.05 + 0.1 * i + late
        adc = 7.0 + 0.1 * i + late
        m._on_block(frames, 100, times(adc, adc + 0.05), status(overflow=i == 3))
    got = m.read(until=math.inf)
    assert [b.t for b in got] == pytest.approx([100.2, 100.5, 100.6])  # oldest two dropped
    assert all(b.pcm.tolist() == [15] * 100 and b.sample_rate == RATE for b in got)
    assert (m.stats.input_overflows, m.stats.queue_overflows, m.stats.blocks) == (1, 2, 5)


def test_stop_before_start_and_twice_is_harmless() -> None:
    m = SounddeviceMicrophone()
    m.stop()
    m.stop()
    assert m.read(until=1e9) == []


def test_nothing_imports_sounddevice_before_start() -> None:
    code = (
        "import sys\n"
        "from firmware.wiring.mic import build_microphone\n"
        "from firmware.config.unit import parse_config\n"
        "cfg = parse_config({'camera': {'type': 'file', 'path': '/x.mp4'},\n"
        "                    'microphone': {'type': 'sounddevice', 'device': 'usb'}})\n"
        "mic = build_microphone(cfg, lambda: 0.0)\n"
        "print(type(mic).__name__, 'sounddevice' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.split() == ["SounddeviceMicrophone", "False"]
