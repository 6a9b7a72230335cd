"""Boot a Debian 12 root with the .deb under systemd-nspawn and watch systemd.

The daemon runs from the installed unit (Type=notify, WatchdogSec=30) on the
file camera, paced in real time over a composed scene. A test-owned monitor
service inside the container writes ``systemctl show`` and the unit's journal
to a bind-mounted folder every second and runs command files the test drops
there, because with ``--register=no`` machinectl / ``systemctl -M`` cannot
reach the container.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from tests.appliance.roots import nspawn, systemd_root
from tests.conftest import wait_for

MONITOR = """#!/bin/sh
mkdir -p /cutest/cmd
while :; do
    systemctl show counterunit.service -p ActiveState -p SubState -p NRestarts -p MainPID \\
        -p StatusText > /cutest/state.new && mv /cutest/state.new /cutest/state
    journalctl -u counterunit.service --no-pager -o short-monotonic > /cutest/journal.new 2>&1
    mv /cutest/journal.new /cutest/journal
    for c in /cutest/cmd/*.sh; do
        [ -f "$c" ] || continue
        sh "$c" > "${c%.sh}.out" 2>&1; mv "$c" "${c%.sh}.done"
    done
    sleep 1
done
"""
MONITOR_UNIT = """[Unit]
Description=appliance test monitor
[Service]
ExecStart=/usr/local/bin/cutest-monitor
[Install]
WantedBy=multi-user.target
"""
CONFIG = """[unit]
unit_id = "unit-boot-test"
[camera]
type = "file"
path = "{video}"
realtime = true
analysis_fps = 2.0
record_width = 640
record_height = 360
[microphone]
type = "silent"
[keypad]
url = "loop://"
[badge]
url = "loop://"
[vision]
threads = 1
models_dir = "/opt/counterunit/models"
"""


@dataclass
class Container:
    root: Path
    state: Path
    proc: subprocess.Popen[bytes]

    def show(self) -> dict[str, str]:
        try:
            text = (self.state / "state").read_text()
        except FileNotFoundError:
            return {}
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def journal(self) -> str:
        try:
            return (self.state / "journal").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def run(self, name: str, script: str, timeout_s: float = 30) -> str:
        cmd = self.state / "cmd"
        (cmd / f"{name}.tmp").write_text(script)
        (cmd / f"{name}.tmp").rename(cmd / f"{name}.sh")
        wait_for(lambda: (cmd / f"{name}.done").exists(), timeout_s, f"command {name}")
        return (cmd / f"{name}.out").read_text()

    def wait_running(self, timeout_s: float, what: str) -> dict[str, str]:
        def running() -> dict[str, str]:
            assert self.proc.poll() is None, "container exited"
            s = self.show()
            return s if (s.get("ActiveState"), s.get("SubState")) == ("active", "running") \
                else {}
        try:
            return wait_for(running, timeout_s, what, poll_s=0.5)
        except BaseException:
            print(self.journal()[-6000:])
            raise


def _long_video(src: Path, dest: Path, seconds: float) -> None:
    with av.open(str(src)) as c:
        length = float(c.duration or 0) / av.time_base or 10.0
    loops = math.ceil(seconds / length)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-stream_loop", str(loops), "-i",
                    str(src), "-c", "copy", str(dest)], check=True)


@pytest.fixture(scope="module")
def container(deb_path: Path, scene_video: Callable[[str], tuple[Path, object]],
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    base = tmp_path_factory.mktemp("boot")
    root, state = base / "root", base / "state"
    (state / "cmd").mkdir(parents=True)
    systemd_root(root)
    shutil.copy2(deb_path, root / "srv" / deb_path.name)
    nspawn(root, "apt-get", "update", "-qq")
    nspawn(root, "apt-get", "install", "-y", "-qq", "--no-install-recommends",
           f"/srv/{deb_path.name}", timeout=900)
    video, _ = scene_video("passer_by")
    media = root / "srv/cutest"
    media.mkdir(parents=True)
    _long_video(video, media / "scene.mp4", 600)
    (root / "etc/counterunit/unit.toml").write_text(CONFIG.format(video="/srv/cutest/scene.mp4"))
    monitor = root / "usr/local/bin/cutest-monitor"
    monitor.write_text(MONITOR)
    monitor.chmod(0o755)
    (root / "etc/systemd/system/cutest-monitor.service").write_text(MONITOR_UNIT)
    nspawn(root, "systemctl", "enable", "cutest-monitor.service")
    # No [sync] section in this config: HQ sync is not under test here.
    nspawn(root, "systemctl", "mask", "counterunit-sync.service")
    log = (base / "console.log").open("wb")
    proc = subprocess.Popen(
        ["systemd-nspawn", "--register=no", "--keep-unit", "-b", "-D", str(root),
         f"--bind={state}:/cutest", "--console=read-only"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    ct = Container(root, state, proc)
    try:
        yield ct
    finally:
        if proc.poll() is None:
            proc.terminate()  # nspawn asks the container's systemd to power off
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        shutil.rmtree(base, ignore_errors=True)


def test_daemon_reaches_ready_under_systemd(container: Container) -> None:
    s = container.wait_running(240, "counterunit active/running (READY=1)")
    assert s["NRestarts"] == "0"
    assert s.get("StatusText") == "counting"


def test_watchdog_restarts_a_hung_daemon(container: Container) -> None:
    before = container.wait_running(120, "counterunit running")
    container.run("freeze", f"kill -STOP {before['MainPID']}")
    # WatchdogSec=30: systemd sends SIGABRT (plus SIGCONT) and Restart=always.
    wait_for(lambda: int(container.show().get("NRestarts", "0")) > int(before["NRestarts"]),
             120, "a restart after the watchdog timeout", poll_s=0.5)
    assert "Watchdog timeout" in container.journal()
    after = container.wait_running(240, "counterunit running again")
    assert after["MainPID"] != before["MainPID"]


def test_camera_stall_gets_the_daemon_restarted(container: Container,
                                                 scene_video: Callable) -> None:
    """A FIFO camera whose feeder stops (write end held open): PyAV blocks, no pings."""
    container.wait_running(120, "counterunit running")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i",
                    str(container.root / "srv/cutest/scene.mp4"), "-c", "copy", "-f", "mpegts",
                    str(container.root / "srv/cutest/scene.ts")], check=True)
    out = container.run("fifo", """
mkfifo -m 0644 /srv/cutest/cam.fifo
systemd-run --unit=cutest-holder sh -c 'exec 3<>/srv/cutest/cam.fifo; exec sleep infinity'
systemd-run --unit=cutest-feeder sh -c 'while :; do cat /srv/cutest/scene.ts; done \
    > /srv/cutest/cam.fifo'
sed -i 's#^path = .*#path = "/srv/cutest/cam.fifo"#' /etc/counterunit/unit.toml
systemctl restart counterunit.service
""")
    assert "Failed" not in out
    container.wait_running(120, "counterunit running on the FIFO")
    restarts = int(container.show()["NRestarts"])
    timeouts = container.journal().count("Watchdog timeout")
    container.run("stall", "systemctl stop cutest-feeder")
    try:
        # WatchdogSec=30 plus RestartSec=5; the rest is slack for a loaded machine.
        wait_for(lambda: int(container.show()["NRestarts"]) > restarts, 180,
                 "a restart after the camera stalled")
    except pytest.fail.Exception:
        pytest.fail("no restart after the camera stalled; journal tail:\n"
                    + "\n".join(container.journal().splitlines()[-60:]))
    assert container.journal().count("Watchdog timeout") > timeouts
