"""The warm interpreter forks programs that behave as ``python -m firmware.cli`` would:
same output, same exit code, their own process group, a signal's death reported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.powercut.rig import REPO
from tests.powercut.warm import Zygote


def test_a_forked_program_matches_a_cold_one(tmp_path: Path) -> None:
    bad = tmp_path / "missing.toml"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cold = subprocess.run([sys.executable, "-m", "firmware.cli", "check-config", str(bad)],
                          env=env, cwd=REPO, capture_output=True, check=False)
    z = Zygote(env, REPO, False, tmp_path / "warm.log")
    try:
        log = tmp_path / "a.log"
        p = z.spawn(["check-config", str(bad)], log, {"NOTIFY_SOCKET": None})
        assert p.wait(30) == cold.returncode == 2
        assert log.read_bytes() == cold.stdout + cold.stderr

        # A long one (sync waits for HQ at an unreachable address), killed as a cut is.
        cfg = tmp_path / "unit.toml"
        cfg.write_text(f'[unit]\nunit_id = "u"\ndata_dir = "{tmp_path / "data"}"\n'
                       '[sync]\nhq_url = "https://127.0.0.1:9"\n'
                       f'identity_dir = "{tmp_path / "id"}"\n')
        q = z.spawn(["sync", "--config", str(cfg)], tmp_path / "b.log", {})
        assert os.getpgid(q.pid) == q.pid and q.poll() is None
        os.killpg(q.pid, signal.SIGKILL)
        assert q.wait(30) == -signal.SIGKILL
    finally:
        z.close()
    assert z.proc.returncode == 0
