"""SounddeviceMicrophone against a real PortAudio device: PortAudio -> ALSA pulse
plugin -> a private PulseAudio server whose null-sink monitor is the capture
source. A known tone played into the sink must come back at its frequency and
level; a stalled reader must count overflows; a server killed mid-run must be
reopened.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterator

import numpy as np
import pytest

from hal.mic.base import AudioBlock, MicrophoneError
from hal.mic.sounddevice_mic import SounddeviceMicrophone
from tests.conftest import wait_for
from tests.helpers.unit.pulse import APT_PACKAGES, SINK_RATE, PulseServer, missing_parts, tone

RATE = 16000
LOGGER = "hal.mic.sounddevice_mic"


def _reinit_portaudio() -> None:
    """PortAudio lists devices once per initialisation; if sounddevice was imported
    earlier in this worker (before the server existed), make it look again."""
    import sys

    sd = sys.modules.get("sounddevice")
    if sd is not None:
        while sd._initialized:
            sd._terminate()
        sd._initialize()


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    """One server for this file (starting one takes ~2 s); a test that kills it
    starts it again. Its env is set for this process: PortAudio's ALSA pulse
    plugin reads PULSE_SERVER when a stream opens."""
    missing = missing_parts()
    if missing:
        msg = (f"PulseAudio/PortAudio not installed ({', '.join(missing)}); "
               f"`make apt` installs {' '.join(APT_PACKAGES)} (tests/audio.mk)")
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    server = PulseServer(tmp_path_factory.mktemp("pulse"))
    with pytest.MonkeyPatch.context() as env:
        for key, value in server.env.items():
            env.setenv(key, value)
        try:
            server.start()
            _reinit_portaudio()
            yield server
        finally:
            server.close()


def mic(**kw: object) -> SounddeviceMicrophone:
    args: dict = {"sample_rate": RATE, "block_s": 0.05, "queue_s": 5.0, "lost_after_s": 2.0}
    args.update(kw)
    return SounddeviceMicrophone(args.pop("device", "pulse"), **args)


def joined(blocks: list[AudioBlock]) -> np.ndarray:
    return np.concatenate([b.pcm for b in blocks]).astype(np.float64)


def test_tone_comes_back_at_its_frequency_and_level(pulse: PulseServer) -> None:
    freq, dbfs = 997.0, -12.0
    m = mic()
    m.start()
    try:
        player = pulse.play(tone(freq, 2.5, SINK_RATE, dbfs), SINK_RATE)
        blocks: list[AudioBlock] = []
        amp = 32767 * 10 ** (dbfs / 20)

        def enough_tone() -> bool:
            blocks.extend(m.read(until=math.inf))
            if not blocks:
                return False
            loud = np.flatnonzero(np.abs(joined(blocks)) > amp / 4)
            return len(loud) > 0 and len(joined(blocks)) - loud[0] >= 1.6 * RATE

        wait_for(enough_tone, timeout_s=20, what="1.6 s of recorded tone")
        player.wait(timeout=20)
    finally:
        m.stop()
    x = joined(blocks)
    onset = int(np.flatnonzero(np.abs(x) > amp / 4)[0])
    window = x[onset + RATE // 4: onset + RATE // 4 + RATE]  # 1 s, clear of the onset
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    peak_hz = float(np.fft.rfftfreq(len(window), 1 / RATE)[np.argmax(spectrum)])
    level_db = 20 * math.log10(float(np.sqrt(np.mean(window**2))) / (amp / math.sqrt(2)))
    assert abs(peak_hz - freq) <= 2.0, peak_hz
    assert abs(level_db) <= 1.0, level_db
    # Block times lie on the sample grid of the unit clock, in the recent past.
    starts = np.array([b.t for b in blocks])
    steps = np.diff(starts) - np.array([len(b.pcm) for b in blocks[:-1]]) / RATE
    assert np.max(np.abs(steps)) < 0.002, steps
    assert 0 < time.monotonic() - starts[-1] < 2.0
    assert m.stats.overflows == 0 and m.stats.losses == 0


def test_stalled_reader_counts_overflows_and_keeps_the_newest(
        pulse: PulseServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    m = mic(queue_s=0.5)  # ten 50 ms blocks
    m.start()
    try:
        wait_for(lambda: m.stats.queue_overflows >= 5, timeout_s=15,
                 what="the queue to overflow while nobody reads")
        blocks = m.read(until=math.inf)
        assert len(blocks) == 10
        assert time.monotonic() - blocks[-1].t < 1.0  # the newest were kept
        wait_for(lambda: m.read(until=math.inf) is not None and "overflow over" in caplog.text,
                 timeout_s=10, what="the overflow episode to end once reads resume")
        more = wait_for(lambda: m.read(until=math.inf), timeout_s=5, what="blocks after")
        assert more[0].t > blocks[-1].t
    finally:
        m.stop()
    started = [r for r in caplog.records if "audio blocks are being lost" in r.getMessage()]
    assert len(started) == 1 and started[0].levelno == logging.WARNING


def test_killed_server_is_reopened_and_logged_once(
        pulse: PulseServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    m = mic()
    m.start()
    try:
        wait_for(lambda: m.read(until=math.inf), timeout_s=10, what="first blocks")
        pulse.stop(kill=True)
        wait_for(lambda: m.stats.losses == 1, timeout_s=10, what="the loss to be noticed")
        m.read(until=math.inf)  # reads go on, without raising, while the device is away
        pulse.start()
        back = time.monotonic()
        wait_for(lambda: m.stats.recoveries == 1, timeout_s=20, what="the device to reopen")
        wait_for(lambda: any(b.t > back for b in m.read(until=math.inf)), timeout_s=10,
                 what="blocks from the reopened device")
    finally:
        m.stop()
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum(" lost (" in s for s in messages) == 1, messages
    assert sum(" recovered after " in s for s in messages) == 1, messages


def test_missing_device_names_the_request_and_the_inputs_found(pulse: PulseServer) -> None:
    m = mic(device="no-such-microphone")
    with pytest.raises(MicrophoneError) as info:
        m.start()
    text = str(info.value)
    assert "'no-such-microphone'" in text and "pulse" in text, text
    m.stop()  # harmless after a failed start
