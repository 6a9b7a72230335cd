"""A private PulseAudio server for tests: a null sink whose monitor is a capture source.

PortAudio reaches it through ALSA's ``pulse`` PCM (libasound2-plugins), so the
code under test runs through the real PortAudio -> ALSA -> PulseAudio path.
Tones played into the sink come back out of the ``mic`` source.

Running as root: pulseaudio only *warns* ("not intended to be run as root")
when started as a per-user daemon; ``--system`` is what it wants for root, but
system mode needs the ``pulse`` user and forbids loading modules at run time.
So the server runs per-user with ``-n`` (no default.pa: no hardware, no D-Bus),
its own runtime dir/HOME under the test's tmp dir, an anonymous unix socket, and
``--exit-idle-time=-1`` so it stays up between clients. Clients get
``autospawn = no``: after a test kills the server, libpulse must not start a
stray system-default daemon in its place.
"""

from __future__ import annotations

import ctypes.util
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

APT_PACKAGES = ("pulseaudio", "pulseaudio-utils", "libportaudio2", "libasound2-plugins")
SINK = "tone"
SOURCE = "mic"
SINK_RATE = 48000


def missing_parts() -> list[str]:
    """What of the PulseAudio/PortAudio stack is not installed (empty: all there)."""
    tools = ("pulseaudio", "pactl", "pacat", "parec")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if ctypes.util.find_library("portaudio") is None:
        missing.append("libportaudio (libportaudio2)")
    plugin_dirs = [*Path("/usr/lib").glob("*/alsa-lib"), Path("/usr/lib/alsa-lib")]
    if not any((d / "libasound_module_pcm_pulse.so").exists() for d in plugin_dirs):
        missing.append("ALSA pulse plugin (libasound2-plugins)")
    return missing


class PulseServer:
    """One ``pulseaudio`` process under ``root``; ``env`` is what its clients need."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "rt"
        if len(str(self.runtime)) > 90:  # unix socket paths are limited to 107 bytes
            self.runtime = Path(tempfile.mkdtemp(prefix="pulse-rt-"))
        self.socket = self.runtime / "native"
        self.log_path = root / "pulseaudio.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.keepalive: subprocess.Popen[bytes] | None = None
        client_conf = root / "client.conf"
        self.env = {
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_RUNTIME_PATH": str(self.runtime),
            "PULSE_CLIENTCONFIG": str(client_conf),
        }
        self.runtime.mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)  # pulseaudio refuses a runtime dir others can enter
        client_conf.write_text("autospawn = no\n")
        self.script = root / "server.pa"
        self.script.write_text(
            f"load-module module-native-protocol-unix auth-anonymous=1 socket={self.socket}\n"
            f"load-module module-null-sink sink_name={SINK} rate={SINK_RATE} channels=1\n"
            f"load-module module-remap-source master={SINK}.monitor source_name={SOURCE}"
            " channels=1\n"
            f"set-default-sink {SINK}\n"
            f"set-default-source {SOURCE}\n"
        )

    def _child_env(self) -> dict[str, str]:
        return {**os.environ, **self.env, "HOME": str(self.root),
                "XDG_CONFIG_HOME": str(self.root / "config"),
                "XDG_RUNTIME_DIR": str(self.runtime)}

    def start(self, timeout_s: float = 15.0) -> None:
        """Start the server and wait until ``pactl info`` answers (or fail with its log)."""
        self.socket.unlink(missing_ok=True)
        with self.log_path.open("ab") as logf:
            self.proc = subprocess.Popen(
                ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                 "--disallow-exit", "--use-pid-file=no", "--disable-shm",
                 "--log-target=stderr", "-F", str(self.script)],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=self._child_env(),
            )
        deadline = time.monotonic() + timeout_s
        while not self.answers():
            if self.proc.poll() is not None:
                raise RuntimeError(f"pulseaudio exited with {self.proc.returncode}: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pulseaudio did not answer within {timeout_s} s: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)  # polling a condition with a deadline
        self._warm_up(deadline)

    def _warm_up(self, deadline: float) -> None:
        """Keep the null sink rendering in short periods.

        An idle null sink renders 2 s at a time, so a new capture stream would
        get its first block only ~2 s after opening. A low-latency player of
        silence (adding nothing to what tests play) keeps it at 20 ms; a
        recorder getting a second chunk of data shows the switch has happened.
        """
        with open("/dev/zero", "rb") as zeros:
            self.keepalive = subprocess.Popen(
                ["pacat", "--playback", f"--device={SINK}", "--format=s16le",
                 f"--rate={SINK_RATE}", "--channels=1", "--raw", "--latency-msec=20"],
                stdin=zeros, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=self._child_env(),
            )
        rec = subprocess.Popen(
            ["parec", f"--device={SOURCE}", "--format=s16le", "--rate=16000", "--channels=1",
             "--raw", "--latency-msec=20"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self._child_env(),
        )
        assert rec.stdout is not None
        try:
            got = 0
            while got < 2 * 640:  # 2 x 20 ms at 16 kHz
                left = deadline - time.monotonic()
                ready, _, _ = select.select([rec.stdout], [], [], max(0.0, left))
                if not ready:
                    raise RuntimeError("no audio reached a recorder on the test source")
                chunk = os.read(rec.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError(f"parec exited early ({rec.wait()})")
                got += len(chunk)
        finally:
            rec.kill()
            rec.wait()

    def answers(self) -> bool:
        """True when the server accepts a client and has our source."""
        try:
            out = subprocess.run(["pactl", "list", "short", "sources"], env=self._child_env(),
                                 capture_output=True, timeout=5, check=False)
        except subprocess.TimeoutExpired:
            return False
        return out.returncode == 0 and f"\t{SOURCE}\t".encode() in out.stdout

    def stop(self, kill: bool = False) -> None:
        """End the server (SIGKILL with ``kill``: a device vanishing, not a clean exit)."""
        for player in (self.keepalive,):
            if player is not None and player.poll() is None:
                player.kill()
                player.wait()
        self.keepalive = None
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def close(self) -> None:
        """Stop the server and remove a runtime dir made outside ``root``."""
        self.stop()
        if not self.runtime.is_relative_to(self.root):
            shutil.rmtree(self.runtime, ignore_errors=True)

    def play(self, pcm: np.ndarray, rate: int) -> subprocess.Popen[bytes]:
        """Start playing mono int16 ``pcm`` into the sink; returns the running ``pacat``."""
        player = subprocess.Popen(
            ["pacat", "--playback", f"--device={SINK}", "--format=s16le", f"--rate={rate}",
             "--channels=1", "--raw", "--latency-msec=50"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=self._child_env(),
        )
        assert player.stdin is not None
        # pacat reads as it plays: a tone longer than the pipe buffer would
        # hold up the test, so a thread feeds it.
        def feed() -> None:
            assert player.stdin is not None
            try:
                player.stdin.write(pcm.astype("<i2").tobytes())
                player.stdin.close()
            except BrokenPipeError:
                pass

        threading.Thread(target=feed, name="pacat-feed", daemon=True).start()
        return player


def tone(freq_hz: float, seconds: float, rate: int, dbfs: float) -> np.ndarray:
    """A sine at ``dbfs`` (peak relative to full scale) as mono int16."""
    n = round(seconds * rate)
    amp = 32767 * 10 ** (dbfs / 20)
    return np.round(amp * np.sin(2 * np.pi * freq_hz * np.arange(n) / rate)).astype(np.int16)
