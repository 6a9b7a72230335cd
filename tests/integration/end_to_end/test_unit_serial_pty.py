"""The whole unit against the keypad simulator and a badge reader on real pseudo-terminals.

Media time is driven by the test: the camera hands the unit captures only up to
the time the test allows, so every press lands at a known moment of the scene
while everything else (file camera, models, state machine, store, recorder,
SerialKeypad/SerialBadgeReader, the simulator) is the real thing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from evaluator.badge_sim import BadgeSim
from evaluator.sim import KeypadSim
from firmware.config.unit import parse_config
from firmware.daemon.unit import CounterUnit
from firmware.system.clock import MediaClock
from firmware.wiring.runner import open_unit
from hal.badge.uid import hash_badge_uid
from hal.camera.base import Camera, Capture
from hal.pty import PtyPair
from tests.conftest import wait_for
from tests.helpers.unit.camera_checks import CameraWrapper
from vision.compose.scenes import Appearance, SceneSpec, compose

pytestmark = pytest.mark.slow
STAFF_UID, SALT = "04A1B2C3D4", "s"

# Customers: A rated, B times out, C presses an invalid key, D presses twice
# (the keypad is unplugged and plugged back during D's visit).
SCENE = SceneSpec(112, fps=5, appearances=(
    Appearance("astronaut", "seat", 0, 112, enter_s=0.0),
    Appearance("bb1_front", "customer", 4, 14),
    Appearance("messi", "customer", 22, 30),
    Appearance("bb2_front", "customer", 48, 56),
    Appearance("bb1_front", "customer", 74, 84),
))


class SteppedCamera(CameraWrapper):
    """Wraps a camera; yields captures only up to the time the test allows."""

    def __init__(self, inner: Camera) -> None:
        super().__init__(inner)
        self.limit = 0.0
        self.waiting_at: float | None = None
        self.cond = threading.Condition()

    def advance(self, t: float) -> None:
        with self.cond:
            self.limit = t
            self.waiting_at = None
            self.cond.notify_all()

    def captures(self) -> Iterator[Capture]:
        for cap in self.inner.captures():
            with self.cond:
                if cap.t > self.limit:
                    self.waiting_at = cap.t
                    self.cond.notify_all()
                    self.cond.wait_for(self._allowed(cap.t))
            yield cap

    def _allowed(self, t: float) -> Callable[[], bool]:
        return lambda: t <= self.limit


class Counter:
    """The unit, its serial peers and the test's control over media time."""

    def __init__(self, tmp: Path, video: Path) -> None:
        self.tmp = tmp
        roster = tmp / "roster.toml"
        roster.write_text('[[staff]]\nstaff_id = "s-1"\nname = "Li Na"\nstaff_number = "A1"\n'
                          f'badge_uid_sha256 = ["{hash_badge_uid(STAFF_UID, SALT)}"]\n')
        self.keypad_pty = PtyPair(tmp / "keypad").open()
        self.badge_pty = PtyPair(tmp / "badge").open()
        cfg = parse_config({
            "unit": {"data_dir": tmp / "data"},
            "camera": {"type": "file", "path": video, "realtime": False},
            "keypad": {"url": self.keypad_pty.path},
            "badge": {"url": self.badge_pty.path},
            "roster": {"path": roster, "uid_salt": SALT},
            # The day below is scripted on the plain 4 s hold (a protocol test, not a
            # presence one): identity continuity is off so the prompts come when written.
            "zones": {
                name: {"x0": x0, "y0": 0.0, "x1": x0 + 0.5, "y1": 1.0, "enter_dwell_s": 2.0,
                       "exit_hold_s": 4.0, "identity": False}
                for name, x0 in (("seat", 0.0), ("customer", 0.5))},
        })
        self.unit: CounterUnit = open_unit(cfg, media_time=True, media_clock=MediaClock())
        self.camera = SteppedCamera(self.unit.devices.camera)
        self.unit.devices.camera = self.camera
        self.sim = KeypadSim.over_fd(self.keypad_pty.master_fd, heartbeat_s=0.5)
        self.badge = BadgeSim.over_fd(self.badge_pty.master_fd)
        self.thread = threading.Thread(target=self.unit.run, daemon=True)

    def start(self) -> None:
        self.sim.start()
        self.thread.start()
        wait_for(lambda: getattr(self.unit.devices.badge, "is_open", False), 10, "badge open")

    def until(self, t: float) -> None:
        """Let the unit process media time up to ``t``, then hold it there."""
        self.camera.advance(t)
        wait_for(lambda: self.camera.waiting_at is not None, 60, f"media time {t}")

    def events(self, type_: str) -> list[dict[str, Any]]:
        import json

        conn = sqlite3.connect(f"file:{self.unit.store.path}?mode=ro", uri=True)
        rows = conn.execute("SELECT mono, data FROM events WHERE type = ? ORDER BY mono",
                            [type_]).fetchall()
        conn.close()
        return [{"t": t, **json.loads(d)} for t, d in rows]

    def press_when_prompted(self, *keys: int) -> None:
        assert self.sim.wait_for(lambda s: s.display.prompt_timeout_s is not None, 10)
        for key in keys:
            self.sim.press(key)
        # The unit ACKs a press once it has queued it; the next capture consumes it.
        assert self.sim.wait_for(lambda s: s.unacked == 0, 10), "presses not acknowledged"

    def tap(self, uid: str, then: float) -> None:
        """Tap a badge, wait until the reader has it, let media time run to ``then``."""
        reader = self.unit.devices.badge
        before = reader.stats.lines.uids  # type: ignore[union-attr]
        self.badge.tap(uid)
        wait_for(lambda: reader.stats.lines.uids > before, 10, "badge read")  # type: ignore[union-attr]
        self.until(then)

    def close(self) -> None:
        self.camera.advance(1e9)
        self.thread.join(60)
        self.sim.stop()
        self.keypad_pty.close()
        self.badge_pty.close()


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scene") / "keypad_day.mp4"
    compose(SCENE, path)
    return path


@pytest.fixture(scope="module")
def day(video: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counter]:
    """Play the whole day once; the tests below read what it left."""
    c = Counter(tmp_path_factory.mktemp("unit"), video)
    c.start()
    c.until(1.0)
    c.tap(STAFF_UID, then=1.5)                    # login
    wait_for(lambda: c.sim.display.staff is not None, 10, "staff card on the keypad")
    c.tap("DEADBEEF", then=2.5)                   # unknown badge
    wait_for(lambda: c.sim.display.message is not None, 10, "refusal on the keypad")
    c.until(19.0)                                 # A left at 14, prompt at ~18
    c.press_when_prompted(4)
    c.until(46.0)                                 # B left at 30: no key, window ends ~44
    c.until(61.0)                                 # C left at 56, prompt at ~60
    c.press_when_prompted(9)                      # not a rating key
    c.until(78.0)                                 # D at the counter: unplug the keypad
    c.sim.stop()
    c.keypad_pty.unplug()
    wait_for(lambda: c.unit.devices.keypad.link_up is False, 15,  # type: ignore[union-attr]
             "link down")
    c.keypad_pty.open()
    c.sim = KeypadSim.over_fd(c.keypad_pty.master_fd, heartbeat_s=0.5)
    c.sim.start()
    wait_for(lambda: c.unit.devices.keypad.link_up is True, 15,  # type: ignore[union-attr]
             "link up")
    wait_for(lambda: c.sim.display.staff is not None, 10, "staff card restored")
    c.until(89.0)                                 # D left at 84, prompt at ~88
    c.press_when_prompted(5, 1)                   # double press
    c.until(104.0)                                # nobody at the counter since 84
    c.sim.please_rate()
    assert c.sim.wait_for(lambda s: s.unacked == 0, 10)
    c.until(104.5)                                # the unit opens the window
    c.press_when_prompted(2)                      # staff rates themselves: suspect
    c.until(108.0)
    c.tap(STAFF_UID, then=110.0)                  # logout
    yield c
    c.close()


def test_login_refusal_and_logout(day: Counter) -> None:
    assert [e["staff_id"] for e in day.events("login")] == ["s-1"]
    assert len(day.events("badge_refused")) == 1
    assert [e["reason"] for e in day.events("logout")] == ["tap"]
    assert day.sim.display.staff is None or day.sim.display.staff[0] == "Li Na"


def test_each_transaction_rated_as_pressed(day: Counter) -> None:
    ratings = day.events("rating")
    by_txn = {e["txn_id"]: e for e in ratings if e["txn_id"]}
    txns = day.events("transaction_started")
    assert len(txns) == 4
    outcomes = [(by_txn[t["txn_id"]]["outcome"], by_txn[t["txn_id"]]["rating"]) for t in txns]
    assert outcomes == [("rated", 4), ("timeout", None), ("invalid", None), ("rated", 5)]
    assert all(not by_txn[t["txn_id"]]["suspect"] for t in txns)
    assert all(by_txn[t["txn_id"]]["staff_id"] == "s-1" for t in txns)


def test_invalid_key_and_double_press_are_recorded(day: Counter) -> None:
    assert [e["key"] for e in day.events("key_invalid")] == [9]
    ignored = day.events("key_ignored")
    assert [(e["key"], e["reason"]) for e in ignored] == [(1, "already_rated")]


def test_press_with_nobody_at_the_counter_is_suspect(day: Counter) -> None:
    (last,) = [e for e in day.events("rating") if e["trigger"] == "staff_key"]
    assert (last["rating"], last["suspect"]) == (2, True)


def test_unplug_replug_logged_once_each(day: Counter) -> None:
    assert len(day.events("keypad_link_down")) == 1
    # Up once at start-up and once after the replug.
    assert len(day.events("keypad_link_up")) == 2
