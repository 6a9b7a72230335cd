"""AacEncoder: real AAC packets on the blocks' clock that decode back to the signal."""

from __future__ import annotations

import itertools

import av
import numpy as np
import pytest
from av.audio.codeccontext import AudioCodecContext

from audio.encoder import AacEncoder, AudioEncodeError
from audio.levels import rms_dbfs
from hal.camera.base import Packet
from hal.mic.base import AudioBlock


def sine_blocks(
    seconds: float, rate: int = 16000, start_t: float = 0.0, block_s: float = 0.1
) -> list[AudioBlock]:
    n = round(seconds * rate)
    pcm = np.round(0.25 * 32767 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.int16)
    step = round(block_s * rate)
    return [AudioBlock(pcm[i : i + step], start_t + i / rate, rate) for i in range(0, n, step)]


def decode(enc: AacEncoder, packets: list[Packet]) -> np.ndarray:
    dec = av.CodecContext.create("aac", "r")
    assert isinstance(dec, AudioCodecContext)
    dec.extradata = enc.info.extradata
    out = []
    for p in packets:
        for frame in dec.decode(av.Packet(p.data)):
            out.append(frame.to_ndarray()[0])
    return np.concatenate(out)


def test_info_describes_a_muxable_stream() -> None:
    info = AacEncoder(16000).info
    assert (info.kind, info.codec, info.sample_rate, info.channels) == ("audio", "aac", 16000, 1)
    assert info.extradata  # AudioSpecificConfig for the MP4 header


@pytest.mark.parametrize("rate", [16000, 48000])
def test_packets_are_contiguous_on_the_block_clock(rate: int) -> None:
    enc = AacEncoder(rate)
    packets = enc.encode(sine_blocks(1.0, rate, start_t=250.0)) + enc.flush()
    frame_s = 1024 / rate
    assert all(p.kind == "audio" and p.keyframe for p in packets)
    assert packets[0].pts == pytest.approx(250.0 - frame_s)  # encoder priming
    for a, b in itertools.pairwise(packets):
        assert b.pts - a.pts == pytest.approx(frame_s)
        assert a.duration == pytest.approx(frame_s)
    assert packets[-1].pts + packets[-1].duration >= 251.0


def test_decodes_back_to_the_same_level() -> None:
    enc = AacEncoder(16000)
    blocks = sine_blocks(2.0)
    pcm = decode(enc, enc.encode(blocks) + enc.flush())
    assert len(pcm) >= 32000
    decoded_db = rms_dbfs((pcm[4000:28000] * 32767).astype(np.int16))
    source_db = rms_dbfs(np.concatenate([b.pcm for b in blocks]))
    assert decoded_db == pytest.approx(source_db, abs=1.0)


def test_packets_come_out_as_soon_as_a_frame_is_full() -> None:
    enc = AacEncoder(16000)
    assert enc.encode(sine_blocks(0.05)) == []  # 800 samples: no full 1024-sample frame
    assert len(enc.encode(sine_blocks(0.5, start_t=0.05))) >= 5


def test_a_gap_in_block_times_is_filled_so_audio_stays_in_sync() -> None:
    enc = AacEncoder(16000)
    first = sine_blocks(1.0)
    later = sine_blocks(1.0, start_t=3.0)  # the microphone lost 2 s
    packets = enc.encode(first + later) + enc.flush()
    end = packets[-1].pts + packets[-1].duration
    assert end == pytest.approx(4.0, abs=0.07)


def test_an_overlap_in_block_times_is_dropped() -> None:
    enc = AacEncoder(16000)
    packets = enc.encode(sine_blocks(1.0) + sine_blocks(1.0, start_t=0.5)) + enc.flush()
    end = packets[-1].pts + packets[-1].duration
    assert end == pytest.approx(1.5, abs=0.07)


def test_small_jitter_in_block_times_does_not_move_audio() -> None:
    enc = AacEncoder(16000)
    blocks = [
        AudioBlock(b.pcm, b.t + (0.004 if i % 2 else -0.004), b.sample_rate)
        for i, b in enumerate(sine_blocks(1.0))
    ]
    packets = enc.encode(blocks) + enc.flush()
    assert sum(len(p.data) > 0 for p in packets) == len(packets)
    assert packets[-1].pts + packets[-1].duration == pytest.approx(1.0 - 0.004, abs=0.07)


def test_wrong_sample_rate_is_refused() -> None:
    enc = AacEncoder(16000)
    with pytest.raises(AudioEncodeError, match="48000 Hz"):
        enc.encode(sine_blocks(0.1, rate=48000))


def test_flush_twice_is_harmless() -> None:
    enc = AacEncoder(16000)
    enc.encode(sine_blocks(0.3))
    assert enc.flush()
    assert enc.flush() == []
