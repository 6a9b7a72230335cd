"""AAC encoder: microphone blocks in, audio packets (on the blocks' clock) out."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from fractions import Fraction

import av
import av.error
import numpy as np
from av.audio.codeccontext import AudioCodecContext
from av.audio.frame import AudioFrame

from hal.camera.base import Packet, StreamInfo
from hal.mic.base import AudioBlock

log = logging.getLogger(__name__)

# A live microphone's block times jitter; only a jump this large is a real gap
# (filled with silence) or overlap (dropped) rather than jitter.
_GAP_TOLERANCE_S = 0.02


class AudioEncodeError(RuntimeError):
    """The AAC encoder refused its input; the message says why."""


class AacEncoder:
    """Encode mono int16 ``AudioBlock``s to AAC-LC packets with FFmpeg's native encoder.

    The sample count is the clock: packet times are the first block's time plus
    samples encoded so far, so jitter in block times never shifts the audio.
    A real gap in block times is filled with silence and an overlap is dropped,
    which keeps audio aligned with video across microphone hiccups.
    """

    def __init__(self, sample_rate: int, bitrate: int = 32000) -> None:
        if sample_rate <= 0 or bitrate <= 0:
            raise ValueError(f"sample_rate and bitrate must be > 0, got {sample_rate}, {bitrate}")
        self.sample_rate = sample_rate
        self._tb = Fraction(1, sample_rate)
        enc = av.CodecContext.create("aac", "w")
        assert isinstance(enc, AudioCodecContext)
        enc.sample_rate = sample_rate
        enc.layout = "mono"
        enc.format = "fltp"
        enc.bit_rate = bitrate
        enc.time_base = self._tb
        # Global header: the AudioSpecificConfig goes to extradata for the MP4 muxer.
        enc.flags |= av.codec.context.Flags.global_header
        try:
            enc.open()
        except av.error.FFmpegError as exc:
            raise AudioEncodeError(f"cannot open AAC encoder at {sample_rate} Hz: {exc}") from None
        self._enc = enc
        self._frame_n = enc.frame_size or 1024
        self._pending = np.zeros(0, dtype=np.float32)
        self._origin: float | None = None  # time of sample 0
        self._received = 0  # samples accepted so far (the clock)
        self._queued = 0  # samples sent to the encoder so far
        self._gap_logged = False
        self.info = StreamInfo(
            kind="audio",
            codec="aac",
            extradata=enc.extradata,
            sample_rate=sample_rate,
            channels=1,
        )

    def encode(self, blocks: Iterable[AudioBlock]) -> list[Packet]:
        """Packets completed by these blocks (AAC needs 1024 samples per packet)."""
        for block in blocks:
            self._accept(block)
        packets: list[Packet] = []
        while len(self._pending) >= self._frame_n:
            chunk, self._pending = self._pending[: self._frame_n], self._pending[self._frame_n :]
            packets += self._encode_chunk(chunk)
        return packets

    def flush(self) -> list[Packet]:
        """Encode what is buffered (padded with silence) and drain the encoder."""
        packets: list[Packet] = []
        if len(self._pending):
            chunk = np.zeros(self._frame_n, dtype=np.float32)
            chunk[: len(self._pending)] = self._pending
            self._pending = np.zeros(0, dtype=np.float32)
            packets += self._encode_chunk(chunk)
        with contextlib.suppress(av.error.EOFError):  # already flushed
            packets += self._wrap(self._enc.encode(None))
        return packets

    def _accept(self, block: AudioBlock) -> None:
        if block.sample_rate != self.sample_rate:
            raise AudioEncodeError(
                f"block at {block.t:.3f}s is {block.sample_rate} Hz, "
                f"encoder is {self.sample_rate} Hz"
            )
        pcm = np.asarray(block.pcm, dtype=np.int16).reshape(-1)
        if self._origin is None:
            self._origin = block.t
        expected = self._origin + self._received / self.sample_rate
        offset = block.t - expected
        if abs(offset) > _GAP_TOLERANCE_S:
            if not self._gap_logged:
                log.warning("audio block times jump by %.3f s; realigning to keep sync", offset)
                self._gap_logged = True
            shift = round(offset * self.sample_rate)
            if shift > 0:
                pcm = np.concatenate([np.zeros(shift, dtype=np.int16), pcm])
            else:
                pcm = pcm[-shift:]
        samples = pcm.astype(np.float32) / 32768.0
        self._pending = np.concatenate([self._pending, samples])
        self._received += len(pcm)

    def _encode_chunk(self, chunk: np.ndarray) -> list[Packet]:
        frame = AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = self._queued
        frame.time_base = self._tb
        self._queued += len(chunk)
        try:
            return self._wrap(self._enc.encode(frame))
        except av.error.FFmpegError as exc:
            raise AudioEncodeError(f"AAC encoding failed: {exc}") from None

    def _wrap(self, encoded: Iterable[av.Packet]) -> list[Packet]:
        origin = self._origin or 0.0
        out = []
        for p in encoded:
            # The first packet has a negative pts: the encoder's priming delay.
            ticks = p.pts if p.pts is not None else 0
            out.append(
                Packet(
                    kind="audio",
                    data=bytes(p),
                    pts=origin + ticks / self.sample_rate,
                    duration=(p.duration or self._frame_n) / self.sample_rate,
                    keyframe=True,
                )
            )
        return out
